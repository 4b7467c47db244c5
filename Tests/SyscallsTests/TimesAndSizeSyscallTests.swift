import Testing
import TmpfsBackend
import VFSCore

@testable import Syscalls

/// utimensat, futimesat, utimes, utime, truncate, ftruncate, fallocate. Expected values are
/// Linux 6.18's on tmpfs (/dev/shm), run with python3 ctypes raw syscalls as root and as
/// uid 1000.
@Suite struct TimesAndSizeSyscallTests {
    let world = SyscallPathWorld()
    var task: Syscalls.Task { world.task }
    static let cwd = Linux.AT_FDCWD
    static let now = Linux.UTIME_NOW
    static let omit = Linux.UTIME_OMIT

    init() throws {
        let fs = world.task.fs
        try fs.writeFile("/f", contents: Array("hello".utf8))
        try world.task.chmod("/f", 0o666)
        try fs.makeDirectory("/d")
        try fs.makeSymlink(target: "f", at: "/l")
        try fs.makeSymlink(target: "nope", at: "/dl")
        try fs.makeNode("/p", mode: 0o010644)
    }

    static func times(_ a: Int64, _ an: Int64, _ m: Int64, _ mn: Int64)
        -> (access: Timespec, modification: Timespec)
    {
        (Timespec(seconds: a, nanoseconds: an), Timespec(seconds: m, nanoseconds: mn))
    }

    func times(_ path: PathArgument) throws -> (Timespec, Timespec) {
        let stat = try task.lstat(path)
        return (stat.atime, stat.mtime)
    }

    // MARK: - utimensat

    @Test func bothOmitSucceedsWithoutLookingAtAnything() throws {
        // Linux 6.18: {OMIT, OMIT} with bad flags on a missing path, or with a NULL path and
        // descriptor 999, returns 0.
        try task.utimensat(Self.cwd, "/nope", Self.times(0, Self.omit, 0, Self.omit), 0x8000)
        try task.utimensat(999, nil, Self.times(0, Self.omit, 0, Self.omit), 0)
    }

    @Test func utimensatRejectsUnknownFlags() {
        #expect(throws: Errno.invalidArgument) { try task.utimensat(Self.cwd, "/f", nil, 0x8000) }
        #expect(throws: Errno.invalidArgument) {
            try task.utimensat(Self.cwd, "/nope", Self.times(1, -1, 0, 0), 0x200)
        }
    }

    @Test func badNanosecondsAreEINVALButOnlyAfterTheLookup() {
        // Linux 6.18: nsec -1 or 1e9 EINVAL; on a missing path ENOENT.
        #expect(throws: Errno.invalidArgument) {
            try task.utimensat(Self.cwd, "/f", Self.times(1, -1, 0, 0), 0)
        }
        #expect(throws: Errno.invalidArgument) {
            try task.utimensat(Self.cwd, "/f", Self.times(1, 1_000_000_000, 0, 0), 0)
        }
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try task.utimensat(Self.cwd, "/nope", Self.times(1, -1, 0, 0), 0)
        }
    }

    @Test func negativeSecondsAreFine() throws {
        // Linux 6.18: {-5 s 7 ns, -1 s 999999999 ns} gives atime -4999999993 ns and
        // mtime -1 ns.
        try task.utimensat(Self.cwd, "/f", Self.times(-5, 7, -1, 999_999_999), 0)
        let (atime, mtime) = try times("/f")
        #expect(atime == Timespec(seconds: -5, nanoseconds: 7))
        #expect(mtime == Timespec(seconds: -1, nanoseconds: 999_999_999))
    }

    @Test func omitLeavesOneTimeAlone() throws {
        try task.utimensat(Self.cwd, "/f", Self.times(10, 0, 20, 0), 0)
        try task.utimensat(Self.cwd, "/f", Self.times(30, 0, 0, Self.omit), 0)
        let (atime, mtime) = try times("/f")
        #expect(atime.seconds == 30)
        #expect(mtime.seconds == 20)
    }

    @Test func nullPathWithADescriptorIsFutimens() throws {
        // Linux 6.18: utimensat(fd, NULL, times, 0) sets the file's times; with flags
        // AT_SYMLINK_NOFOLLOW or AT_EMPTY_PATH EINVAL; on an O_PATH fd EBADF, though
        // utimensat(O_PATH fd, "", times, AT_EMPTY_PATH) works.
        let fd = try task.open("/f", OpenOptions.readOnly)
        try task.utimensat(fd, nil, Self.times(10, 0, 20, 0), 0)
        #expect(try times("/f").0.seconds == 10)
        #expect(throws: Errno.invalidArgument) {
            try task.utimensat(fd, nil, nil, Linux.AT_SYMLINK_NOFOLLOW)
        }
        #expect(throws: Errno.invalidArgument) {
            try task.utimensat(fd, nil, nil, Linux.AT_EMPTY_PATH)
        }
        let path = try task.open("/f", OpenOptions.pathOnly)
        #expect(throws: Errno.badFileDescriptor) { try task.utimensat(path, nil, nil, 0) }
        try task.utimensat(path, "", Self.times(11, 0, 21, 0), Linux.AT_EMPTY_PATH)
        #expect(try times("/f").1.seconds == 21)
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.utimensat(fd, "", nil, 0) }
    }

    @Test func nullPathWithATFDCWDIsEFAULT() {
        #expect(throws: Errno.badAddress) { try task.utimensat(Self.cwd, nil, nil, 0) }
    }

    @Test func noFollowSetsTheSymlinksOwnTimes() throws {
        // Linux 6.18: AT_SYMLINK_NOFOLLOW on "l" changes l, not f; on a dangling link 0;
        // following a dangling link ENOENT.
        try task.utimensat(Self.cwd, "/f", Self.times(1, 0, 2, 0), 0)
        try task.utimensat(Self.cwd, "/l", Self.times(30, 0, 40, 0), Linux.AT_SYMLINK_NOFOLLOW)
        #expect(try times("/l").1.seconds == 40)
        #expect(try times("/f").1.seconds == 2)
        try task.utimensat(Self.cwd, "/dl", Self.times(30, 0, 40, 0), Linux.AT_SYMLINK_NOFOLLOW)
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.utimensat(Self.cwd, "/dl", nil, 0) }
    }

    @Test func touchNeedsWriteAccessAndExplicitTimesNeedOwnership() throws {
        // Linux 6.18 as uid 1000 on root's 0666 file: {NOW, NOW} and NULL 0; {NOW, OMIT}
        // and explicit times EPERM. On root's 0644 file NULL is EACCES.
        let user = world.user()
        try user.utimensat(Self.cwd, "/f", Self.times(0, Self.now, 0, Self.now), 0)
        try user.utimensat(Self.cwd, "/f", nil, 0)
        #expect(throws: Errno.notPermitted) {
            try user.utimensat(Self.cwd, "/f", Self.times(0, Self.now, 0, Self.omit), 0)
        }
        #expect(throws: Errno.notPermitted) {
            try user.utimensat(Self.cwd, "/f", Self.times(5, 0, 5, 0), 0)
        }
        try task.chmod("/f", 0o644)
        #expect(throws: Errno.permissionDenied) { try user.utimensat(Self.cwd, "/f", nil, 0) }
    }

    @Test func futimensChecksTheCallerNotTheDescriptorsMode() throws {
        // Linux 6.18: uid 1000 with a descriptor root opened O_WRONLY on a 0644 file gets
        // EACCES from utimensat(fd, NULL, NULL, 0).
        try task.chmod("/f", 0o644)
        let fd = try task.open("/f", OpenOptions.writeOnly)
        #expect(throws: Errno.permissionDenied) { try world.user().utimensat(fd, nil, nil, 0) }
    }

    @Test func utimensatThroughTheDispatcher() throws {
        // Linux 6.18: a bad times pointer EFAULT even for a missing path; {OMIT, OMIT} with
        // NULL path and fd 999 0.
        let cwd = SyscallPathWorld.reg(Self.cwd)
        let timesBuffer = world.memory.map(
            LinuxStatTestBytes.little([100, 5, 200, 999_999_999]))
        #expect(world.call(.utimensat, cwd, world.path("/f"), timesBuffer, 0) == 0)
        #expect(try times("/f").0 == Timespec(seconds: 100, nanoseconds: 5))
        #expect(try times("/f").1 == Timespec(seconds: 200, nanoseconds: 999_999_999))
        #expect(
            world.call(.utimensat, cwd, world.path("/nope"), SyscallPathWorld.unmapped, 0)
                == SyscallPathWorld.fails(.badAddress))
        let omitBoth = world.memory.map(LinuxStatTestBytes.little([0, Self.omit, 0, Self.omit]))
        #expect(world.call(.utimensat, 999, 0, omitBoth, 0) == 0)
        #expect(
            world.call(.utimensat, cwd, 0, 0, 0x8000) == SyscallPathWorld.fails(.invalidArgument))
        #expect(world.call(.utimensat, cwd, 0, 0, 0) == SyscallPathWorld.fails(.badAddress))
        #expect(world.call(.utimensat, cwd, world.path("/f"), 0, 0) == 0)
    }

    // MARK: - futimesat, utimes, utime

    @Test func utimesConvertsMicroseconds() throws {
        // Linux 6.18: utimes(f, {100 s 5 us, 200 s 999999 us}) gives 100000005000 ns and
        // 200999999000 ns.
        try task.utimes(
            "/f",
            (
                LinuxTimeval(seconds: 100, microseconds: 5),
                LinuxTimeval(seconds: 200, microseconds: 999_999)
            ))
        #expect(try times("/f").0 == Timespec(seconds: 100, nanoseconds: 5000))
        #expect(try times("/f").1 == Timespec(seconds: 200, nanoseconds: 999_999_000))
    }

    @Test func utimesRejectsMicrosecondsOutOfRangeBeforeTheLookup() {
        // Linux 6.18: usec 1000000, -1 and UTIME_NOW EINVAL, even on a missing path.
        for microseconds: Int64 in [1_000_000, -1, Self.now] {
            let values = (
                LinuxTimeval(seconds: 1, microseconds: microseconds),
                LinuxTimeval(seconds: 2, microseconds: 0)
            )
            #expect(throws: Errno.invalidArgument) { try task.utimes("/f", values) }
            #expect(throws: Errno.invalidArgument) { try task.utimes("/nope", values) }
        }
    }

    @Test func futimesatNullPathUsesTheDescriptor() throws {
        let fd = try task.open("/f", OpenOptions.readOnly)
        let values = (
            LinuxTimeval(seconds: 300, microseconds: 1), LinuxTimeval(seconds: 400, microseconds: 2)
        )
        try task.futimesat(fd, nil, values)
        #expect(try times("/f").1 == Timespec(seconds: 400, nanoseconds: 2000))
        #expect(throws: Errno.badAddress) { try task.futimesat(Self.cwd, nil, values) }
        let directory = try task.open("/", OpenOptions.readOnly | OpenOptions.directory)
        try task.futimesat(directory, "f", nil)
    }

    @Test func utimeSetsWholeSeconds() throws {
        try task.utime("/f", (500, 600))
        #expect(try times("/f").0 == Timespec(seconds: 500, nanoseconds: 0))
        #expect(try times("/f").1 == Timespec(seconds: 600, nanoseconds: 0))
        try task.utime("/f", nil)
        #expect(try times("/f").1.seconds > 600)
    }

    @Test func oldTimeCallsThroughTheDispatcher() throws {
        // Linux 6.18: utime and utimes with a bad pointer EFAULT, for a missing path too.
        let utimbuf = world.memory.map(LinuxStatTestBytes.little([500, 600]))
        #expect(world.call(.utime, world.path("/f"), utimbuf) == 0)
        #expect(try times("/f").1.seconds == 600)
        #expect(
            world.call(.utime, world.path("/nope"), SyscallPathWorld.unmapped)
                == SyscallPathWorld.fails(.badAddress))
        let timevals = world.memory.map(LinuxStatTestBytes.little([100, 5, 200, 6]))
        #expect(world.call(.utimes, world.path("/f"), timevals) == 0)
        #expect(try times("/f").1 == Timespec(seconds: 200, nanoseconds: 6000))
        #expect(
            world.call(.utimes, world.path("/f"), SyscallPathWorld.unmapped)
                == SyscallPathWorld.fails(.badAddress))
        let fd = try task.open("/f", OpenOptions.readOnly)
        #expect(world.call(.futimesat, UInt64(fd), 0, timevals) == 0)
        #expect(
            world.call(.futimesat, SyscallPathWorld.reg(Self.cwd), 0, timevals)
                == SyscallPathWorld.fails(.badAddress))
    }

    // MARK: - truncate, ftruncate

    @Test func truncateErrors() throws {
        // Linux 6.18: negative length EINVAL (even for a missing path); a directory EISDIR;
        // a FIFO EINVAL; through a symlink the file; empty path ENOENT.
        #expect(throws: Errno.invalidArgument) { try task.truncate("/f", -1) }
        #expect(throws: Errno.invalidArgument) { try task.truncate("/nope", -1) }
        #expect(throws: Errno.isDirectory) { try task.truncate("/d", 0) }
        #expect(throws: Errno.invalidArgument) { try task.truncate("/p", 0) }
        try task.truncate("/l", 2)
        #expect(try task.stat("/f").size == 2)
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.truncate("", 0) }
    }

    @Test func truncateToAHugeSizeWorksOnTmpfs() throws {
        // Linux 6.18: truncate(f, 2^63 - 1) 0.
        try task.truncate("/f", Int64.max)
        #expect(try task.stat("/f").size == Int64.max)
    }

    @Test func truncateNeedsWritePermission() throws {
        try task.chmod("/f", 0o644)
        #expect(throws: Errno.permissionDenied) { try world.user().truncate("/f", 1) }
    }

    @Test func ftruncateErrorsInLinuxsOrder() throws {
        // Linux 6.18: (999, -1) EINVAL before EBADF; (999, 0) EBADF; O_RDONLY EINVAL; O_PATH
        // EBADF; a directory EINVAL; a pipe EINVAL.
        #expect(throws: Errno.invalidArgument) { try task.ftruncate(999, -1) }
        #expect(throws: Errno.badFileDescriptor) { try task.ftruncate(999, 0) }
        let readOnly = try task.open("/f", OpenOptions.readOnly)
        #expect(throws: Errno.invalidArgument) { try task.ftruncate(readOnly, 0) }
        let path = try task.open("/f", OpenOptions.pathOnly)
        #expect(throws: Errno.badFileDescriptor) { try task.ftruncate(path, 0) }
        let directory = try task.open("/d", OpenOptions.readOnly | OpenOptions.directory)
        #expect(throws: Errno.invalidArgument) { try task.ftruncate(directory, 0) }
        let (_, writeEnd) = try task.pipe2(0)
        #expect(throws: Errno.invalidArgument) { try task.ftruncate(writeEnd, 0) }
    }

    @Test func ftruncateNeedsNoPermissionButStripsSetUIDForAUser() throws {
        // Linux 6.18: root's ftruncate to the same size keeps 06755; uid 1000 writing its own
        // 06777 file drops both bits (0100777).
        let writable = try task.open("/f", OpenOptions.writeOnly)
        try task.chmod("/f", 0o6755)
        try task.ftruncate(writable, 5)
        #expect(try task.stat("/f").mode == 0o106755)
        try task.chown("/f", 1000, 1000)
        try task.chmod("/f", 0o6777)
        let user = world.user()
        let fd = try user.open("/f", OpenOptions.writeOnly)
        try user.ftruncate(fd, 5)
        #expect(try task.stat("/f").mode == 0o100777)
    }

    @Test func ftruncateStampsMtimeEvenWithoutASizeChange() throws {
        try task.utimensat(Self.cwd, "/f", Self.times(1, 0, 1, 0), 0)
        let fd = try task.open("/f", OpenOptions.writeOnly)
        try task.ftruncate(fd, 5)
        #expect(try times("/f").1.seconds > 1)
    }

    @Test func truncateThroughTheDispatcher() throws {
        // Linux 6.18: truncate(NULL, -1) EINVAL; truncate(NULL, 0) EFAULT.
        #expect(
            world.call(.truncate, 0, SyscallPathWorld.reg(-1))
                == SyscallPathWorld.fails(.invalidArgument))
        #expect(world.call(.truncate, 0, 0) == SyscallPathWorld.fails(.badAddress))
        #expect(world.call(.truncate, world.path("/f"), 3) == 0)
        let fd = try task.open("/f", OpenOptions.writeOnly)
        #expect(world.call(.ftruncate, UInt64(fd), 1) == 0)
        #expect(try task.stat("/f").size == 1)
    }

    // MARK: - fallocate

    @Test func fallocateErrors() throws {
        // Linux 6.18: fd 999 EBADF (even with length 0); length 0 EINVAL; O_RDONLY EBADF;
        // O_PATH EBADF; a writable file 0.
        #expect(throws: Errno.badFileDescriptor) { try task.fallocate(999, 0, 0, 0) }
        let writable = try task.open("/f", OpenOptions.writeOnly)
        #expect(throws: Errno.invalidArgument) { try task.fallocate(writable, 0, 0, 0) }
        let readOnly = try task.open("/f", OpenOptions.readOnly)
        #expect(throws: Errno.badFileDescriptor) { try task.fallocate(readOnly, 0, 0, 10) }
        let path = try task.open("/f", OpenOptions.pathOnly)
        #expect(throws: Errno.badFileDescriptor) { try task.fallocate(path, 0, 0, 0) }
        try task.fallocate(writable, 0, 0, 10)
        #expect(try task.stat("/f").size == 10)
        #expect(world.call(.fallocate, UInt64(writable), 1, 0, 100) == 0)
        #expect(try task.stat("/f").size == 10)
    }
}

/// Little-endian 64-bit words, for struct arguments laid out in test memory.
enum LinuxStatTestBytes {
    static func little(_ words: [Int64]) -> [UInt8] {
        words.flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> ($0 * 8)) } }
    }
}

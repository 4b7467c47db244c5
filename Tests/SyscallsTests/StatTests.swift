import Testing
import TmpfsBackend
import VFSCore

@testable import Syscalls

/// A kernel with a tmpfs root, a root task on it, and helpers to run syscalls through the
/// dispatcher. Shared by the stat and path syscall tests.
final class SyscallPathWorld: Sendable {
    let kernel = Kernel()
    let tmpfs: TmpfsFilesystem
    let namespace: MountNamespace
    let task: Syscalls.Task
    let memory = BufferMemory()

    init(tmpfs: TmpfsFilesystem = TmpfsFilesystem()) {
        self.tmpfs = tmpfs
        namespace = kernel.vfs.makeNamespace(root: tmpfs, rootDentry: tmpfs.root)
        task = Syscalls.Task(kernel: kernel, namespace: namespace)
    }

    /// A process of uid/gid 1000 (no capabilities) on the same tree.
    func user(_ uid: UInt32 = 1000) -> Syscalls.Task {
        let process = task.clone()
        process.credentials = .user(uid, gid: uid)
        return process
    }

    /// Syscall `number` through the dispatcher: its raw return value.
    func call(_ number: SyscallNumber, _ arguments: UInt64..., as caller: Syscalls.Task? = nil)
        -> Int64
    {
        var padded = arguments
        while padded.count < 6 { padded.append(0) }
        return SyscallDispatcher(task: caller ?? task, memory: memory).dispatch(
            number.rawValue,
            SyscallArguments(padded[0], padded[1], padded[2], padded[3], padded[4], padded[5]))
    }

    func path(_ string: String) -> UInt64 { memory.cString(string) }

    /// -errno, as the dispatcher returns a failure.
    static func fails(_ errno: Errno) -> Int64 { -Int64(errno.rawValue) }
    /// An int argument register (sign-extended, as AT_FDCWD arrives).
    static func reg(_ value: Int32) -> UInt64 { UInt64(bitPattern: Int64(value)) }
    /// An address nothing is mapped at.
    static let unmapped: UInt64 = 8
}

/// stat, lstat, fstat, newfstatat, statx, statfs, fstatfs: errors and values. Expected errnos
/// are what Linux 6.18 gives on tmpfs (/dev/shm), run with python3 ctypes raw syscalls.
@Suite struct StatTests {
    let world = SyscallPathWorld()
    var task: Syscalls.Task { world.task }

    init() throws {
        try world.task.fs.writeFile("/f", contents: Array("hello".utf8), mode: 0o644)
        try world.task.fs.makeDirectory("/d")
        try world.task.fs.makeSymlink(target: "f", at: "/l")
        try world.task.fs.makeSymlink(target: "nope", at: "/dl")
    }

    // MARK: - stat, lstat

    @Test func statFollowsAndLstatDoesNot() throws {
        #expect(try task.stat("/l").mode == 0o100644)
        #expect(try task.lstat("/l").mode == 0o120777)
        #expect(try task.lstat("/l").size == 1)
    }

    @Test func statOfADanglingSymlinkIsENOENTButLstatWorks() throws {
        // Linux 6.18 on tmpfs: stat("dl") ENOENT, lstat("dl") 0.
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.stat("/dl") }
        #expect(try task.lstat("/dl").mode == 0o120777)
    }

    @Test func trailingSlashOnAFileIsENOTDIREvenForLstatOfASymlinkToOne() {
        // Linux 6.18: stat("f/") and lstat("l/") are both ENOTDIR.
        #expect(throws: Errno.notDirectory) { try task.stat("/f/") }
        #expect(throws: Errno.notDirectory) { try task.lstat("/l/") }
    }

    @Test func emptyPathIsENOENT() {
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.stat("") }
    }

    @Test func overlongComponentIsENAMETOOLONG() {
        // Linux 6.18: 256 bytes ENAMETOOLONG, 255 bytes ENOENT.
        #expect(throws: Errno.fileNameTooLong) {
            try task.stat(PathArgument(String(repeating: "a", count: 256)))
        }
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try task.stat(PathArgument(String(repeating: "a", count: 255)))
        }
    }

    @Test func searchPermissionIsNeededOnTheWay() throws {
        try task.fs.makeDirectory("/private", mode: 0o700)
        try task.fs.writeFile("/private/f", contents: [])
        #expect(throws: Errno.permissionDenied) { try world.user().stat("/private/f") }
    }

    // MARK: - fstat

    @Test func fstatOfABadDescriptorIsEBADF() {
        #expect(throws: Errno.badFileDescriptor) { try task.fstat(99) }
        #expect(throws: Errno.badFileDescriptor) { try task.fstat(-1) }
    }

    @Test func fstatWorksOnAnOPathDescriptorOfASymlink() throws {
        // Linux 6.18: fstat of open("l", O_PATH|O_NOFOLLOW) reports the link, 0120777.
        let fd = try task.open("/l", OpenOptions.pathOnly | OpenOptions.noFollow)
        #expect(try task.fstat(fd).mode == 0o120777)
    }

    @Test func fstatMatchesStat() throws {
        let fd = try task.open("/f", OpenOptions.readOnly)
        #expect(try task.fstat(fd) == task.stat("/f"))
    }

    @Test func fstatOfRemovedFilesShowsNoLinks() throws {
        // Linux 6.18 on tmpfs: fstat of a removed directory gives 040755, nlink 0, size 40;
        // of an unlinked 3-byte file nlink 0, size 3.
        try task.mkdir("/gone", 0o755)
        let directory = try task.open("/gone", OpenOptions.readOnly | OpenOptions.directory)
        try task.rmdir("/gone")
        let removed = try task.fstat(directory)
        #expect(removed.mode == 0o040755)
        #expect(removed.nlink == 0)
        #expect(removed.size == 40)
        try task.fs.writeFile("/g", contents: [1, 2, 3])
        let file = try task.open("/g", OpenOptions.readOnly)
        try task.unlink("/g")
        #expect(try task.fstat(file).nlink == 0)
        #expect(try task.fstat(file).size == 3)
    }

    @Test func directorySizeAndSymlinkBlocksFollowTmpfs() throws {
        // Linux 6.18 on tmpfs: a directory holding a file and a subdirectory has nlink 3,
        // size 80, blocks 0; a 200-byte symlink target takes a page (blocks 8).
        try task.mkdir("/e", 0o755)
        try task.fs.writeFile("/e/a", contents: [])
        try task.mkdir("/e/b", 0o755)
        let directory = try task.stat("/e")
        #expect(directory.nlink == 3)
        #expect(directory.size == 80)
        #expect(directory.blocks == 0)
        try task.symlink(PathArgument(String(repeating: "x", count: 200)), "/long")
        #expect(try task.lstat("/long").size == 200)
        #expect(try task.lstat("/long").blocks == 8)
    }

    // MARK: - newfstatat

    @Test func newfstatatTakesTheStatxSyncBitsButNotOtherFlags() throws {
        // Linux 6.18: 0x2000, 0x4000, 0x6000 and 0x800 accepted; 0x400, 0x8000 EINVAL.
        for flags: Int32 in [0x800, 0x2000, 0x4000, 0x6000] {
            _ = try task.newfstatat(Linux.AT_FDCWD, "/f", flags)
        }
        for flags: Int32 in [0x400, 0x8000, 0x200] {
            #expect(throws: Errno.invalidArgument) {
                try task.newfstatat(Linux.AT_FDCWD, "/f", flags)
            }
        }
    }

    @Test func newfstatatChecksFlagsBeforeThePath() {
        #expect(throws: Errno.invalidArgument) {
            try task.newfstatat(Linux.AT_FDCWD, "/nope", 0x8000)
        }
    }

    @Test func newfstatatEmptyPathNamesTheDescriptor() throws {
        let fd = try task.open("/f", OpenOptions.readOnly)
        #expect(try task.newfstatat(fd, "", Linux.AT_EMPTY_PATH).size == 5)
        // AT_FDCWD with AT_EMPTY_PATH: the cwd.
        #expect(
            try task.newfstatat(Linux.AT_FDCWD, "", Linux.AT_EMPTY_PATH).mode & 0o170000
                == 0o040000)
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.newfstatat(fd, "", 0) }
    }

    @Test func newfstatatRelativeToAFileIsENOTDIRButAbsoluteIgnoresTheDescriptor() throws {
        let fd = try task.open("/f", OpenOptions.readOnly)
        #expect(throws: Errno.notDirectory) { try task.newfstatat(fd, "x", 0) }
        // Linux 6.18: an absolute path with dirfd 999 (not open) succeeds.
        #expect(try task.newfstatat(999, "/f", 0).size == 5)
        #expect(throws: Errno.badFileDescriptor) { try task.newfstatat(999, "f", 0) }
        #expect(throws: Errno.badFileDescriptor) {
            try task.newfstatat(999, "", Linux.AT_EMPTY_PATH)
        }
    }

    @Test func newfstatatRelativeToADirectoryDescriptor() throws {
        try task.fs.writeFile("/d/g", contents: [1, 2])
        let fd = try task.open("/d", OpenOptions.readOnly | OpenOptions.directory)
        #expect(try task.newfstatat(fd, "g", 0).size == 2)
    }

    // MARK: - statx

    @Test func statxRejectsBothSyncTypesReservedMaskAndUnknownFlags() {
        // Linux 6.18: all EINVAL, even for a path that does not exist.
        #expect(throws: Errno.invalidArgument) {
            try task.statx(Linux.AT_FDCWD, "/nope", Linux.AT_STATX_SYNC_TYPE, 0x7FF)
        }
        #expect(throws: Errno.invalidArgument) {
            try task.statx(Linux.AT_FDCWD, "/nope", 0, 0x8000_0000)
        }
        #expect(throws: Errno.invalidArgument) {
            try task.statx(Linux.AT_FDCWD, "/nope", 0x8000, 0x7FF)
        }
        #expect(throws: Errno.invalidArgument) {
            try task.statx(Linux.AT_FDCWD, "/f", 0x400, 0x7FF)
        }
    }

    @Test func statxAcceptsOneSyncTypeAndNoAutomount() throws {
        _ = try task.statx(Linux.AT_FDCWD, "/f", 0x2000 | 0x800 | 0x100, 0x7FF)
        _ = try task.statx(Linux.AT_FDCWD, "/f", 0x4000, 0x7FF)
    }

    @Test func statxMaskForNothingRequestedLeavesOutMtimeAndCtime() throws {
        // Linux 6.18 on /dev/shm: mask 0 and STATX_TYPE give 0x173f, mtime and ctime zero.
        for mask: UInt32 in [0, LinuxStatx.STATX_TYPE, LinuxStatx.STATX_ATIME] {
            let result = try task.statx(Linux.AT_FDCWD, "/f", 0, mask)
            #expect(result.mask == 0x173F)
            #expect(result.mtime == .zero)
            #expect(result.ctime == .zero)
            #expect(result.atime != .zero)
        }
    }

    @Test func statxMaskWithEitherChangeTimeGivesBoth() throws {
        // Linux 6.18: STATX_MTIME alone or STATX_CTIME alone give 0x17ff.
        for mask in [LinuxStatx.STATX_MTIME, LinuxStatx.STATX_CTIME, 0x7FF] {
            let result = try task.statx(Linux.AT_FDCWD, "/f", 0, mask)
            #expect(result.mask == 0x17FF)
            #expect(try result.mtime == task.stat("/f").mtime)
        }
    }

    @Test func statxBirthTimeOnlyWhenAsked() throws {
        // Linux 6.18: STATX_BTIME gives 0x1f3f; STATX_ALL (0xfff) 0x1fff.
        #expect(try task.statx(Linux.AT_FDCWD, "/f", 0, LinuxStatx.STATX_BTIME).mask == 0x1F3F)
        #expect(try task.statx(Linux.AT_FDCWD, "/f", 0, 0xFFF).mask == 0x1FFF)
        #expect(try task.statx(Linux.AT_FDCWD, "/f", 0, 0).btime == .zero)
        #expect(try task.statx(Linux.AT_FDCWD, "/f", 0, 0xFFF).btime != .zero)
    }

    @Test func statxUniqueMountIDReplacesMountID() throws {
        // Linux 6.18: 0x4000 gives 0x473f; 0x7fffffff gives 0x4fff.
        #expect(try task.statx(Linux.AT_FDCWD, "/f", 0, 0x4000).mask == 0x473F)
        #expect(try task.statx(Linux.AT_FDCWD, "/f", 0, 0x7FFF_FFFF).mask == 0x4FFF)
        let plain = try task.statx(Linux.AT_FDCWD, "/f", 0, 0)
        #expect(plain.mountID == task.fs.root.mount.id)
    }

    @Test func statxMarksTheMountRoot() throws {
        // Linux 6.18: statx("/dev/shm") has STATX_ATTR_MOUNT_ROOT (0x2000); a file in it not.
        #expect(try task.statx(Linux.AT_FDCWD, "/", 0, 0).attributes == 0x2000)
        #expect(try task.statx(Linux.AT_FDCWD, "/d", 0, 0).attributes == 0)
        #expect(try task.statx(Linux.AT_FDCWD, "/f", 0, 0).attributesMask & 0x203000 == 0x203000)
    }

    @Test func statxEmptyPathNamesTheDescriptorEvenOPath() throws {
        let fd = try task.open("/f", OpenOptions.pathOnly)
        #expect(try task.statx(fd, "", Linux.AT_EMPTY_PATH, 0x7FF).size == 5)
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.statx(fd, "", 0, 0x7FF) }
    }

    @Test func statxSplitsDeviceNumbers() throws {
        // mknod("c", S_IFCHR, makedev(0x9a3, 0x67845)): Linux 6.18 stat shows st_rdev
        // 0x6789a345; statx splits it into 0x9a3:0x67845.
        try task.mknod("/c", 0o020644, 0x6789_A345)
        #expect(try task.stat("/c").rdev == 0x6789_A345)
        let result = try task.statx(Linux.AT_FDCWD, "/c", 0, 0)
        #expect(result.rdevMajor == 0x9A3)
        #expect(result.rdevMinor == 0x67845)
    }

    // MARK: - statfs, fstatfs

    @Test func statfsReportsTmpfsWithValidAndRelatime() throws {
        // Linux 6.18 on /dev/shm: f_type 0x01021994, f_bsize 4096, f_namelen 255,
        // f_frsize 4096, f_flags 0x1020 (ST_RELATIME | ST_VALID).
        let result = try task.statfs("/f")
        #expect(result.type == 0x0102_1994)
        #expect(result.bsize == 4096)
        #expect(result.namelen == 255)
        #expect(result.frsize == 4096)
        #expect(result.flags == 0x1020)
    }

    @Test func statfsOfASizeLimitedTmpfsCountsPages() throws {
        let world = SyscallPathWorld(
            tmpfs: TmpfsFilesystem(options: TmpfsOptions(sizeLimit: 8 * 4096)))
        try world.task.fs.writeFile("/f", contents: [UInt8](repeating: 1, count: 4097))
        let result = try world.task.statfs("/")
        #expect(result.blocks == 8)
        #expect(result.bfree == 6)
        #expect(result.bavail == 6)
    }

    @Test func statfsErrorsAreTheLookupsOnes() {
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.statfs("/nope") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.statfs("") }
        #expect(throws: Errno.notDirectory) { try task.statfs("/f/") }
    }

    @Test func fstatfsWorksOnOPathAndFailsOnBadDescriptors() throws {
        // Linux 6.18: fstatfs on an O_PATH fd 0, on 999 EBADF.
        let fd = try task.open("/f", OpenOptions.pathOnly)
        #expect(try task.fstatfs(fd).type == 0x0102_1994)
        #expect(throws: Errno.badFileDescriptor) { try task.fstatfs(999) }
    }

    // MARK: - Through the dispatcher

    @Test func statWritesTheStructAndFaultsOnABadBuffer() throws {
        let buffer = world.memory.allocate(LinuxStat.size)
        #expect(world.call(.stat, world.path("/f"), buffer) == 0)
        let written = LinuxStat(bytes: world.memory.contents(at: buffer, count: LinuxStat.size))
        #expect(written == (try task.stat("/f")))
        // Linux 6.18: a bad buffer is EFAULT for a file that exists, ENOENT for one that
        // does not.
        #expect(
            world.call(.stat, world.path("/f"), SyscallPathWorld.unmapped)
                == SyscallPathWorld.fails(.badAddress))
        #expect(
            world.call(.stat, world.path("/nope"), SyscallPathWorld.unmapped)
                == SyscallPathWorld.fails(.noSuchFileOrDirectory))
        #expect(world.call(.stat, 0, buffer) == SyscallPathWorld.fails(.badAddress))
    }

    @Test func lstatAndFstatThroughTheDispatcher() throws {
        let buffer = world.memory.allocate(LinuxStat.size)
        #expect(world.call(.lstat, world.path("/l"), buffer) == 0)
        #expect(LinuxStat(bytes: world.memory.contents(at: buffer, count: 144))?.mode == 0o120777)
        let fd = try task.open("/f", OpenOptions.readOnly)
        #expect(world.call(.fstat, UInt64(fd), buffer) == 0)
        #expect(LinuxStat(bytes: world.memory.contents(at: buffer, count: 144))?.size == 5)
        #expect(
            world.call(.fstat, UInt64(fd), SyscallPathWorld.unmapped)
                == SyscallPathWorld.fails(.badAddress))
        #expect(world.call(.fstat, 999, buffer) == SyscallPathWorld.fails(.badFileDescriptor))
    }

    @Test func newfstatatNullPathWithEmptyPathFlagIsTheDescriptor() throws {
        // Linux 6.18: newfstatat(fd, NULL, ..., AT_EMPTY_PATH) is fstat; without the flag
        // EFAULT; with a bad flag EINVAL even for NULL.
        let fd = try task.open("/f", OpenOptions.readOnly)
        let buffer = world.memory.allocate(LinuxStat.size)
        let emptyPath = UInt64(Linux.AT_EMPTY_PATH)
        #expect(world.call(.newfstatat, UInt64(fd), 0, buffer, emptyPath) == 0)
        #expect(LinuxStat(bytes: world.memory.contents(at: buffer, count: 144))?.size == 5)
        #expect(
            world.call(.newfstatat, UInt64(fd), 0, buffer, 0)
                == SyscallPathWorld.fails(.badAddress))
        #expect(
            world.call(.newfstatat, SyscallPathWorld.reg(Linux.AT_FDCWD), 0, buffer, 0x8000)
                == SyscallPathWorld.fails(.invalidArgument))
        #expect(
            world.call(.newfstatat, SyscallPathWorld.reg(-1), 0, buffer, emptyPath)
                == SyscallPathWorld.fails(.badFileDescriptor))
    }

    @Test func statxThroughTheDispatcher() throws {
        let buffer = world.memory.allocate(LinuxStatx.size)
        let cwd = SyscallPathWorld.reg(Linux.AT_FDCWD)
        #expect(world.call(.statx, cwd, world.path("/f"), 0, 0x7FF, buffer) == 0)
        let result = LinuxStatx(bytes: world.memory.contents(at: buffer, count: 256))
        #expect(result?.size == 5)
        #expect(result?.mask == 0x17FF)
        // Linux 6.18: NULL with AT_EMPTY_PATH is the cwd; without it EFAULT; reserved mask
        // EINVAL before the NULL is noticed.
        #expect(world.call(.statx, cwd, 0, UInt64(Linux.AT_EMPTY_PATH), 0x7FF, buffer) == 0)
        #expect(world.call(.statx, cwd, 0, 0, 0x7FF, buffer) == SyscallPathWorld.fails(.badAddress))
        #expect(
            world.call(.statx, cwd, 0, 0, 0x8000_0000, buffer)
                == SyscallPathWorld.fails(.invalidArgument))
        #expect(
            world.call(.statx, cwd, world.path("/f"), 0, 0x7FF, SyscallPathWorld.unmapped)
                == SyscallPathWorld.fails(.badAddress))
    }

    @Test func statfsThroughTheDispatcher() throws {
        let buffer = world.memory.allocate(LinuxStatfs.size)
        #expect(world.call(.statfs, world.path("/"), buffer) == 0)
        #expect(
            LinuxStatfs(bytes: world.memory.contents(at: buffer, count: 120))?.type
                == 0x0102_1994)
        #expect(world.call(.statfs, 0, buffer) == SyscallPathWorld.fails(.badAddress))
        #expect(
            world.call(.statfs, world.path("/"), SyscallPathWorld.unmapped)
                == SyscallPathWorld.fails(.badAddress))
        let fd = try task.open("/f", OpenOptions.pathOnly)
        #expect(world.call(.fstatfs, UInt64(fd), buffer) == 0)
        #expect(world.call(.fstatfs, 999, buffer) == SyscallPathWorld.fails(.badFileDescriptor))
    }
}

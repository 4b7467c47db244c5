import Testing
import TmpfsBackend
import VFSCore

@testable import Syscalls

/// chmod, fchmod, fchmodat, fchmodat2, chown, fchown, lchown, fchownat. Expected values are
/// Linux 6.18's on tmpfs (/dev/shm), run with python3 ctypes raw syscalls as root and as
/// uid 1000.
@Suite struct OwnershipSyscallTests {
    let world = SyscallPathWorld()
    var task: Syscalls.Task { world.task }
    static let cwd = Linux.AT_FDCWD

    init() throws {
        let fs = world.task.fs
        try fs.writeFile("/f", contents: [], mode: 0o644)
        try fs.makeDirectory("/d")
        try fs.makeSymlink(target: "f", at: "/l")
        try fs.makeSymlink(target: "nope", at: "/dl")
        try world.task.chmod("/", 0o777)
    }

    func mode(_ path: PathArgument) throws -> UInt32 { try task.lstat(path).mode }

    // MARK: - chmod

    @Test func chmodKeepsOnlyThe07777BitsOfAUmodeT() throws {
        // Linux 6.18: chmod 0x10000|0600 gives 0100600, S_IFDIR|0640 on a file 0100640,
        // 07777 gives 0107777.
        #expect(world.call(.chmod, world.path("/f"), 0x1_0000 | 0o600) == 0)
        #expect(try mode("/f") == 0o100600)
        try task.chmod("/f", 0o040640)
        #expect(try mode("/f") == 0o100640)
        try task.chmod("/f", 0o7777)
        #expect(try mode("/f") == 0o107777)
    }

    @Test func fchmodat2RejectsUnknownFlagsBeforeThePath() {
        // Linux 6.18: flags 0x200 EINVAL; fchmodat2(AT_FDCWD, NULL, ..., 0x8000) EINVAL.
        #expect(throws: Errno.invalidArgument) { try task.fchmodat2(Self.cwd, "/f", 0o644, 0x200) }
        let cwd = SyscallPathWorld.reg(Self.cwd)
        #expect(
            world.call(.fchmodat2, cwd, 0, 0o644, 0x8000)
                == SyscallPathWorld.fails(.invalidArgument))
    }

    @Test func theModeOfASymlinkCannotChange() throws {
        // Linux 6.18: fchmodat2(l, AT_SYMLINK_NOFOLLOW) EOPNOTSUPP (also for a dangling one,
        // and for uid 1000, who does not own it); fchmodat2(O_PATH fd of l, "",
        // AT_EMPTY_PATH) EOPNOTSUPP; the link keeps 0777.
        #expect(throws: Errno.notSupported) {
            try task.fchmodat2(Self.cwd, "/l", 0o644, Linux.AT_SYMLINK_NOFOLLOW)
        }
        #expect(throws: Errno.notSupported) {
            try task.fchmodat2(Self.cwd, "/dl", 0o644, Linux.AT_SYMLINK_NOFOLLOW)
        }
        #expect(throws: Errno.notSupported) {
            try world.user().fchmodat2(Self.cwd, "/l", 0o644, Linux.AT_SYMLINK_NOFOLLOW)
        }
        let fd = try task.open("/l", OpenOptions.pathOnly | OpenOptions.noFollow)
        #expect(throws: Errno.notSupported) {
            try task.fchmodat2(fd, "", 0o600, Linux.AT_EMPTY_PATH)
        }
        #expect(try mode("/l") == 0o120777)
    }

    @Test func fchmodat2NoFollowOnAFileAndEmptyPath() throws {
        try task.fchmodat2(Self.cwd, "/f", 0o640, Linux.AT_SYMLINK_NOFOLLOW)
        #expect(try mode("/f") == 0o100640)
        let fd = try task.open("/f", OpenOptions.readOnly)
        try task.fchmodat2(fd, "", 0o600, Linux.AT_EMPTY_PATH)
        #expect(try mode("/f") == 0o100600)
        try task.fchmodat2(Self.cwd, "", 0o755, Linux.AT_EMPTY_PATH)
        #expect(try mode("/") == 0o040755)
    }

    @Test func fchmodWorksOnAReadOnlyDescriptorButNotOPath() throws {
        // Linux 6.18: fchmod of an O_RDONLY fd 0; of an O_PATH fd EBADF; of 999 EBADF.
        let fd = try task.open("/f", OpenOptions.readOnly)
        try task.fchmod(fd, 0o604)
        #expect(try mode("/f") == 0o100604)
        let path = try task.open("/f", OpenOptions.pathOnly)
        #expect(throws: Errno.badFileDescriptor) { try task.fchmod(path, 0o600) }
        #expect(throws: Errno.badFileDescriptor) { try task.fchmod(999, 0o600) }
    }

    @Test func chmodByAnotherUserIsEPERM() {
        #expect(throws: Errno.notPermitted) { try world.user().chmod("/f", 0o777) }
        #expect(throws: Errno.noSuchFileOrDirectory) { try world.user().chmod("/nope", 0o777) }
    }

    @Test func ownerOutsideTheGroupLosesSetGroupIDOnChmod() throws {
        // Linux 6.18, uid 1000 owning a 1000:1000 file: chmod 02755 gives 0102755 (in the
        // group); for a 1000:0 file, 06755 gives 0104755 (set-group-ID dropped).
        try task.chown("/f", 1000, 1000)
        let user = world.user()
        try user.chmod("/f", 0o2755)
        #expect(try mode("/f") == 0o102755)
        try task.chown("/f", 1000, 0)
        try user.chmod("/f", 0o6755)
        #expect(try mode("/f") == 0o104755)
    }

    @Test func chmodThroughTheDispatcher() throws {
        let cwd = SyscallPathWorld.reg(Self.cwd)
        #expect(world.call(.chmod, 0, 0o644) == SyscallPathWorld.fails(.badAddress))
        // fchmodat has no flags argument: a fourth register is ignored (Linux 6.18).
        #expect(world.call(.fchmodat, cwd, world.path("/f"), 0o640, 0xFFFF) == 0)
        #expect(try mode("/f") == 0o100640)
        let fd = try task.open("/f", OpenOptions.readOnly)
        #expect(world.call(.fchmod, UInt64(fd), 0o600) == 0)
        #expect(
            world.call(.fchmodat2, UInt64(fd), 0, 0o600, UInt64(Linux.AT_EMPTY_PATH))
                == SyscallPathWorld.fails(.badAddress))
    }

    // MARK: - chown

    @Test func fchownatRejectsUnknownFlags() {
        #expect(throws: Errno.invalidArgument) { try task.fchownat(Self.cwd, "/f", 1, 1, 0x200) }
        let cwd = SyscallPathWorld.reg(Self.cwd)
        #expect(
            world.call(.fchownat, cwd, 0, 1, 1, 0x8000)
                == SyscallPathWorld.fails(.invalidArgument))
    }

    @Test func lchownChangesTheLinkAndChownTheTarget() throws {
        try task.lchown("/l", 5, 6)
        #expect(try task.lstat("/l").uid == 5)
        #expect(try task.stat("/f").uid == 0)
        try task.chown("/l", 7, 8)
        #expect(try task.stat("/f").uid == 7)
        #expect(try task.stat("/f").gid == 8)
        #expect(try task.lstat("/l").uid == 5)
    }

    @Test func chownOfADanglingLinkIsENOENTButLchownWorks() throws {
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.chown("/dl", 1, 1) }
        try task.lchown("/dl", 1, 1)
    }

    @Test func chownMinusOneChangesNothingButStillClearsSetIDBits() throws {
        // Linux 6.18 as root: chown(f, -1, -1) on 06755 leaves 0100755, owner unchanged.
        try task.chown("/f", 7, 8)
        try task.chmod("/f", 0o6755)
        try task.chown("/f", UInt32.max, UInt32.max)
        let stat = try task.stat("/f")
        #expect(stat.mode == 0o100755)
        #expect(stat.uid == 7)
        #expect(stat.gid == 8)
    }

    @Test func chownOfADirectoryKeepsItsSetIDBits() throws {
        // Linux 6.18: chown of a 03755 directory leaves 043755.
        try task.chmod("/d", 0o3755)
        try task.chown("/d", 1, 1)
        #expect(try mode("/d") == 0o043755)
    }

    @Test func unprivilegedChownRules() throws {
        // Linux 6.18 as uid 1000 owning a 1000:1000 file: to another uid EPERM, to itself 0,
        // to a group it is not in EPERM; chown(-1, -1) on 02745 (group not executable)
        // keeps 0102745.
        try task.chown("/f", 1000, 1000)
        let user = world.user()
        #expect(throws: Errno.notPermitted) { try user.chown("/f", 1001, UInt32.max) }
        try user.chown("/f", 1000, UInt32.max)
        #expect(throws: Errno.notPermitted) { try user.chown("/f", UInt32.max, 0) }
        try task.chmod("/f", 0o2745)
        try user.chown("/f", UInt32.max, UInt32.max)
        #expect(try mode("/f") == 0o102745)
    }

    @Test func fchownWorksOnOpenFilesButNotOPath() throws {
        // Linux 6.18: fchown of an O_RDONLY fd 0, of an O_PATH fd EBADF; fchownat(O_PATH fd,
        // "", AT_EMPTY_PATH) 0.
        let fd = try task.open("/f", OpenOptions.readOnly)
        try task.fchown(fd, 3, 3)
        #expect(try task.stat("/f").uid == 3)
        let path = try task.open("/f", OpenOptions.pathOnly)
        #expect(throws: Errno.badFileDescriptor) { try task.fchown(path, 3, 3) }
        #expect(throws: Errno.badFileDescriptor) { try task.fchown(999, 3, 3) }
        try task.fchownat(path, "", 4, 4, Linux.AT_EMPTY_PATH)
        #expect(try task.stat("/f").uid == 4)
    }

    @Test func chownThroughTheDispatcher() throws {
        // uid_t -1 arrives as 0xffffffff (or sign-extended); both mean "leave it".
        #expect(world.call(.chown, world.path("/f"), 9, 0xFFFF_FFFF) == 0)
        #expect(try task.stat("/f").uid == 9)
        #expect(try task.stat("/f").gid == 0)
        #expect(world.call(.lchown, world.path("/l"), SyscallPathWorld.reg(-1), 11) == 0)
        #expect(try task.lstat("/l").gid == 11)
        #expect(try task.lstat("/l").uid == 0)
        let fd = try task.open("/f", OpenOptions.readOnly)
        #expect(world.call(.fchown, UInt64(fd), 12, 12) == 0)
        #expect(
            world.call(.fchownat, UInt64(fd), 0, 4, 4, UInt64(Linux.AT_EMPTY_PATH))
                == SyscallPathWorld.fails(.badAddress))
        #expect(world.call(.chown, 0, 1, 1) == SyscallPathWorld.fails(.badAddress))
    }
}

import Testing
import TmpfsBackend
import VFSCore

@testable import Syscalls

/// access, faccessat, faccessat2, mkdir, mkdirat, mknod, mknodat, unlink, unlinkat, rmdir,
/// rename, renameat, renameat2. Every expected errno is what Linux 6.18 gives on tmpfs
/// (/dev/shm), run as root and, for the unprivileged cases, as uid 1000 (python3 ctypes raw
/// syscalls in a forked child after setresuid).
@Suite struct PathSyscallTests {
    let world = SyscallPathWorld()
    var task: Syscalls.Task { world.task }
    static let cwd = Linux.AT_FDCWD

    init() throws {
        let fs = world.task.fs
        try fs.writeFile("/f", contents: Array("hello".utf8), mode: 0o644)
        try fs.writeFile("/x", contents: [], mode: 0o744)
        try fs.makeDirectory("/d", mode: 0o700)
        try fs.makeSymlink(target: "f", at: "/l")
        try fs.makeSymlink(target: "nope", at: "/dl")
    }

    // MARK: - access

    @Test func accessRejectsModeBitsBeyondRWX() {
        // Linux 6.18: mode 8 and -1 are EINVAL, even for a missing file.
        #expect(throws: Errno.invalidArgument) { try task.access("/f", 8) }
        #expect(throws: Errno.invalidArgument) { try task.access("/f", -1) }
        #expect(throws: Errno.invalidArgument) { try task.access("/nope", 8) }
    }

    @Test func rootNeedsAnExecuteBitForXOKOnAFile() throws {
        // Linux 6.18 as root: X_OK on 0644 EACCES, on 0744 and on a 0700 directory 0.
        #expect(throws: Errno.permissionDenied) { try task.access("/f", 1) }
        try task.access("/x", 1)
        try task.access("/d", 1)
        try task.access("/f", 2)
    }

    @Test func unprivilegedAccessFollowsTheModeBits() throws {
        // Linux 6.18 as uid 1000: W_OK on root's 0644 EACCES, R_OK 0, X_OK on 0744 EACCES,
        // F_OK under a 0700 directory EACCES.
        let user = world.user()
        #expect(throws: Errno.permissionDenied) { try user.access("/f", 2) }
        try user.access("/f", 4)
        #expect(throws: Errno.permissionDenied) { try user.access("/x", 1) }
        try task.fs.writeFile("/d/inner", contents: [])
        #expect(throws: Errno.permissionDenied) { try user.access("/d/inner", 0) }
    }

    @Test func accessDropsCapabilitiesOfANonRootUidUnlessEffectiveIdsAreAsked() throws {
        // Linux 6.18, uid 1000 with CAP_DAC_OVERRIDE (setpriv --ambient-caps): access(W_OK)
        // on root's 0600 file EACCES; faccessat2(..., AT_EACCESS) 0.
        try task.chmod("/f", 0o600)
        let user = world.user()
        user.credentials.capabilities = .dacOverride
        #expect(throws: Errno.permissionDenied) { try user.access("/f", 2) }
        try user.faccessat2(Self.cwd, "/f", 2, Linux.AT_EACCESS)
    }

    @Test func faccessat2RejectsUnknownFlags() throws {
        // Linux 6.18: 0x8000 EINVAL; AT_SYMLINK_NOFOLLOW|AT_EACCESS|AT_EMPTY_PATH accepted.
        #expect(throws: Errno.invalidArgument) { try task.faccessat2(Self.cwd, "/f", 0, 0x8000) }
        #expect(throws: Errno.invalidArgument) {
            try task.faccessat2(Self.cwd, "/nope", 8, 0x8000)
        }
        try task.faccessat2(Self.cwd, "/f", 0, 0x100 | 0x200 | 0x1000)
    }

    @Test func faccessat2NoFollowChecksTheLinkItself() throws {
        // Linux 6.18: faccessat2("dl", F_OK, AT_SYMLINK_NOFOLLOW) 0, without it ENOENT.
        try task.faccessat2(Self.cwd, "/dl", 0, Linux.AT_SYMLINK_NOFOLLOW)
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.faccessat(Self.cwd, "/dl", 0) }
    }

    @Test func faccessat2EmptyPathNamesTheDescriptor() throws {
        let fd = try task.open("/f", OpenOptions.pathOnly)
        try task.faccessat2(fd, "", 4, Linux.AT_EMPTY_PATH)
        try task.faccessat2(Self.cwd, "", 0, Linux.AT_EMPTY_PATH)
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.faccessat2(fd, "", 0, 0) }
    }

    @Test func accessReportsAReadOnlyMountOnlyOncePermissionIsGranted() throws {
        // Linux 6.18, a read-only bind mount of a tmpfs directory: root's W_OK EROFS; uid
        // 1000's W_OK on root's 0755 file EACCES; R_OK 0.
        try task.mkdir("/src", 0o755)
        try task.fs.writeFile("/src/x", contents: [], mode: 0o755)
        try task.mkdir("/ro", 0o755)
        try task.fs.bindMount("/src", at: "/ro", readOnly: true)
        #expect(throws: Errno.readOnlyFileSystem) { try task.access("/ro/x", 2) }
        #expect(throws: Errno.permissionDenied) { try world.user().access("/ro/x", 2) }
        try world.user().access("/ro/x", 4)
    }

    @Test func executeAccessOnANoexecMountIsEACCESForFilesOnly() throws {
        // Linux 6.18, tmpfs mounted noexec: X_OK on a 0755 file EACCES (root too), on the
        // directory 0.
        let other = TmpfsFilesystem()
        try task.mkdir("/mnt", 0o755)
        try task.fs.mount(other, root: other.root, at: "/mnt", flags: [.noExec])
        try task.fs.writeFile("/mnt/x", contents: [], mode: 0o755)
        #expect(throws: Errno.permissionDenied) { try task.access("/mnt/x", 1) }
        try task.access("/mnt", 1)
        try task.access("/mnt/x", 4)
    }

    @Test func accessThroughTheDispatcher() {
        // Linux 6.18: faccessat2(AT_FDCWD, NULL, 0, AT_EMPTY_PATH) EFAULT; a bad flag is
        // EINVAL before the NULL is noticed.
        let cwd = SyscallPathWorld.reg(Self.cwd)
        #expect(world.call(.access, world.path("/f"), 4) == 0)
        #expect(
            world.call(.access, world.path("/f"), 1) == SyscallPathWorld.fails(.permissionDenied))
        #expect(world.call(.faccessat, cwd, world.path("/f"), 4) == 0)
        #expect(
            world.call(.faccessat2, cwd, 0, 0, UInt64(Linux.AT_EMPTY_PATH))
                == SyscallPathWorld.fails(.badAddress))
        #expect(
            world.call(.faccessat2, cwd, 0, 0, 0x8000)
                == SyscallPathWorld.fails(.invalidArgument))
        #expect(world.call(.access, 0, 0) == SyscallPathWorld.fails(.badAddress))
    }

    // MARK: - mkdir

    @Test func mkdirAppliesTheUmaskAndKeepsOnlyPermissionAndStickyBits() throws {
        // Linux 6.18, umask 022: mkdir 0o7777 gives 041755; 0x10000|0777 gives 040755;
        // S_IFREG|0755 is a directory 040755.
        try task.mkdir("/a", 0o7777)
        #expect(try task.stat("/a").mode == 0o041755)
        try task.mkdir("/b", 0o100755)
        #expect(try task.stat("/b").mode == 0o040755)
    }

    @Test func mkdirErrors() {
        // Linux 6.18: existing EEXIST; under a file ENOTDIR; empty ENOENT; "." EEXIST.
        #expect(throws: Errno.fileExists) { try task.mkdir("/f", 0o777) }
        #expect(throws: Errno.notDirectory) { try task.mkdir("/f/x", 0o777) }
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.mkdir("", 0o777) }
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.mkdir("/nope/x", 0o777) }
        #expect(throws: Errno.fileExists) { try task.mkdir(".", 0o777) }
    }

    @Test func mkdirWithATrailingSlashWorks() throws {
        try task.mkdir("/a2/", 0o755)
        #expect(try task.stat("/a2").mode == 0o040755)
    }

    @Test func mkdiratRelativeToAFileIsENOTDIR() throws {
        // Linux 6.18: mkdirat(file fd, "x") ENOTDIR, (file fd, "") ENOENT.
        let fd = try task.open("/f", OpenOptions.readOnly)
        #expect(throws: Errno.notDirectory) { try task.mkdirat(fd, "x", 0o777) }
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.mkdirat(fd, "", 0o777) }
    }

    @Test func mkdirWithoutWritePermissionIsEACCES() throws {
        try task.mkdir("/shared", 0o755)
        #expect(throws: Errno.permissionDenied) { try world.user().mkdir("/shared/m", 0o777) }
    }

    @Test func mkdirThroughTheDispatcher() throws {
        // Linux 6.18: mkdirat(999, NULL) EFAULT; (999, "") ENOENT; (999, 5000 bytes)
        // ENAMETOOLONG: the name's error before the descriptor's.
        #expect(world.call(.mkdir, world.path("/m"), 0x1_0000 | 0o777) == 0)
        #expect(try task.stat("/m").mode == 0o040755)
        #expect(world.call(.mkdirat, 999, 0, 0o777) == SyscallPathWorld.fails(.badAddress))
        #expect(
            world.call(.mkdirat, 999, world.path(""), 0o777)
                == SyscallPathWorld.fails(.noSuchFileOrDirectory))
        #expect(
            world.call(.mkdirat, 999, world.path(String(repeating: "a", count: 5000)), 0o777)
                == SyscallPathWorld.fails(.fileNameTooLong))
        #expect(
            world.call(.mkdirat, 999, world.path("x"), 0o777)
                == SyscallPathWorld.fails(.badFileDescriptor))
    }

    // MARK: - mknod

    @Test func mknodTypeZeroMakesARegularFile() throws {
        try task.mknod("/n", 0o644, 0)
        #expect(try task.stat("/n").mode == 0o100644)
    }

    @Test func mknodRejectsDirectoriesAndUnknownTypesBeforeTheLookup() {
        // Linux 6.18: S_IFDIR EPERM even on an existing name; 0o070000 and S_IFLNK EINVAL.
        #expect(throws: Errno.notPermitted) { try task.mknod("/n", 0o040755, 0) }
        #expect(throws: Errno.notPermitted) { try task.mknod("/f", 0o040755, 0) }
        #expect(throws: Errno.invalidArgument) { try task.mknod("/f", 0o070000, 0) }
        #expect(throws: Errno.invalidArgument) { try task.mknod("/n", 0o120777, 0) }
    }

    @Test func mknodKeepsTheStickyBitAndAppliesTheUmask() throws {
        // Linux 6.18, umask 022: a FIFO with 07777 gets 017755.
        try task.mknod("/p", 0o017777, 0)
        #expect(try task.stat("/p").mode == 0o017755)
    }

    @Test func mknodKeepsTheDeviceOnlyForDeviceNodes() throws {
        // Linux 6.18: a char device 1:3 has st_rdev 0x103; a regular file or FIFO made with
        // a device number has st_rdev 0.
        try task.mknod("/c", 0o020644, 0x103)
        #expect(try task.stat("/c").rdev == 0x103)
        try task.mknod("/r", 0o100644, 0x103)
        #expect(try task.stat("/r").rdev == 0)
        try task.mknod("/q", 0o010644, 0x103)
        #expect(try task.stat("/q").rdev == 0)
    }

    @Test func unprivilegedMknodOfADeviceIsEPERMAfterTheDirectoryChecks() throws {
        // Linux 6.18 as uid 1000: a device in root's 0755 directory EACCES, on an existing
        // name EEXIST; a FIFO in a directory it owns works, a device there EPERM.
        let user = world.user()
        try task.mkdir("/shared", 0o755)
        try task.fs.writeFile("/shared/f", contents: [])
        #expect(throws: Errno.permissionDenied) { try user.mknod("/shared/c", 0o020644, 0) }
        #expect(throws: Errno.fileExists) { try user.mknod("/shared/f", 0o020644, 0) }
        try task.mkdir("/home", 0o755)
        try task.chown("/home", 1000, 1000)
        try user.mknod("/home/fifo", 0o010644, 0)
        #expect(throws: Errno.notPermitted) { try user.mknod("/home/c", 0o020644, 0) }
    }

    @Test func mknodThroughTheDispatcher() throws {
        // Linux 6.18: mknod(NULL, S_IFDIR) EPERM and mknod(NULL, 0o070000) EINVAL: the type
        // is checked before the name is used. mode 0x10000|S_IFREG|0644 makes a file 0100644.
        #expect(world.call(.mknod, 0, 0o040755, 0) == SyscallPathWorld.fails(.notPermitted))
        #expect(world.call(.mknod, 0, 0o070000, 0) == SyscallPathWorld.fails(.invalidArgument))
        #expect(world.call(.mknod, 0, 0o100644, 0) == SyscallPathWorld.fails(.badAddress))
        #expect(world.call(.mknod, world.path("/n1"), 0x1_0000 | 0o100644, 0) == 0)
        #expect(try task.stat("/n1").mode == 0o100644)
        let cwd = SyscallPathWorld.reg(Self.cwd)
        #expect(world.call(.mknodat, cwd, world.path("/m1"), 0o100600, 0) == 0)
        #expect(try task.stat("/m1").mode == 0o100600)
    }

    // MARK: - unlink, rmdir

    @Test func unlinkatRejectsFlagsOtherThanRemoveDir() {
        // Linux 6.18: 0x100 and 0x300 EINVAL, even for a missing name.
        #expect(throws: Errno.invalidArgument) { try task.unlinkat(Self.cwd, "/f", 0x100) }
        #expect(throws: Errno.invalidArgument) { try task.unlinkat(Self.cwd, "/d", 0x300) }
        #expect(throws: Errno.invalidArgument) { try task.unlinkat(Self.cwd, "/nope", 0x100) }
    }

    @Test func unlinkOfADirectoryIsEISDIRAndRmdirOfAFileENOTDIR() {
        #expect(throws: Errno.isDirectory) { try task.unlink("/d") }
        #expect(throws: Errno.notDirectory) { try task.rmdir("/f") }
        #expect(throws: Errno.notDirectory) {
            try task.unlinkat(Self.cwd, "/f", Linux.AT_REMOVEDIR)
        }
    }

    @Test func rmdirOfDotDotDotRootAndNonEmpty() throws {
        // Linux 6.18: "." EINVAL, "d/." EINVAL, "d/.." ENOTEMPTY, "/" EBUSY, a non-empty
        // directory ENOTEMPTY.
        try task.fs.writeFile("/d/inner", contents: [])
        #expect(throws: Errno.invalidArgument) { try task.rmdir(".") }
        #expect(throws: Errno.invalidArgument) { try task.rmdir("/d/.") }
        #expect(throws: Errno.directoryNotEmpty) { try task.rmdir("/d/..") }
        #expect(throws: Errno.resourceBusy) { try task.rmdir("/") }
        #expect(throws: Errno.directoryNotEmpty) { try task.rmdir("/d") }
    }

    @Test func unlinkOfDotAndDotDotIsEISDIR() {
        #expect(throws: Errno.isDirectory) { try task.unlink(".") }
        #expect(throws: Errno.isDirectory) { try task.unlink("/d/..") }
        #expect(throws: Errno.isDirectory) { try task.unlink("/") }
    }

    @Test func unlinkAndRmdirRemove() throws {
        try task.unlink("/f")
        try task.unlinkat(Self.cwd, "/d", Linux.AT_REMOVEDIR)
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.stat("/f") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.stat("/d") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.unlink("") }
    }

    @Test func unlinkThroughTheDispatcher() {
        // Linux 6.18: unlinkat(AT_FDCWD, NULL, 0x100) EINVAL; unlink(NULL) EFAULT.
        let cwd = SyscallPathWorld.reg(Self.cwd)
        #expect(world.call(.unlinkat, cwd, 0, 0x100) == SyscallPathWorld.fails(.invalidArgument))
        #expect(world.call(.unlink, 0) == SyscallPathWorld.fails(.badAddress))
        #expect(world.call(.unlink, world.path("/f")) == 0)
        #expect(world.call(.rmdir, world.path("/d")) == 0)
        #expect(
            world.call(.rmdir, world.path("/d")) == SyscallPathWorld.fails(.noSuchFileOrDirectory))
    }

    // MARK: - rename

    @Test func renameat2RejectsUnknownAndContradictoryFlags() {
        // Linux 6.18: flags 8, EXCHANGE|NOREPLACE, EXCHANGE|WHITEOUT all EINVAL.
        for flags: UInt32 in [8, 3, 6] {
            #expect(throws: Errno.invalidArgument) {
                try task.renameat2(Self.cwd, "/f", Self.cwd, "/g", flags)
            }
        }
    }

    @Test func renameExchangeNeedsBothAndNoReplaceRefusesAnExistingTarget() {
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try task.renameat2(Self.cwd, "/f", Self.cwd, "/g", Linux.RENAME_EXCHANGE)
        }
        #expect(throws: Errno.fileExists) {
            try task.renameat2(Self.cwd, "/f", Self.cwd, "/d", Linux.RENAME_NOREPLACE)
        }
    }

    @Test func renameTypeMismatchesAndLoops() throws {
        // Linux 6.18: file onto dir EISDIR, dir onto file ENOTDIR, dir onto a non-empty dir
        // ENOTEMPTY, a dir into itself EINVAL, a file onto itself 0.
        try task.mkdir("/e", 0o755)
        try task.fs.writeFile("/e/x", contents: [])
        #expect(throws: Errno.isDirectory) { try task.rename("/f", "/d") }
        #expect(throws: Errno.notDirectory) { try task.rename("/d", "/f") }
        #expect(throws: Errno.directoryNotEmpty) { try task.rename("/d", "/e") }
        #expect(throws: Errno.invalidArgument) { try task.rename("/e", "/e/y") }
        try task.rename("/f", "/f")
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.rename("", "/x2") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.rename("/f", "") }
    }

    @Test func renameWhiteoutLeavesAWhiteoutDeviceAtTheOldName() throws {
        // Linux 6.18 on tmpfs, as root and as uid 1000 in its own directory:
        // renameat2(w1, w2, RENAME_WHITEOUT) returns 0, w2 is the file and w1 a character
        // device 0:0 with mode 020000; RENAME_WHITEOUT|RENAME_NOREPLACE onto an existing name
        // is EEXIST (the pair is allowed).
        try task.fs.writeFile("/w1", contents: [1])
        try task.renameat2(Self.cwd, "/w1", Self.cwd, "/w2", Linux.RENAME_WHITEOUT)
        #expect(try task.stat("/w2").size == 1)
        let whiteout = try task.lstat("/w1")
        #expect(whiteout.mode == 0o020000)
        #expect(whiteout.rdev == 0)
        #expect(throws: Errno.fileExists) {
            try task.renameat2(
                Self.cwd, "/w2", Self.cwd, "/f",
                Linux.RENAME_WHITEOUT | Linux.RENAME_NOREPLACE)
        }
    }

    @Test func renameatRelativeToDescriptors() throws {
        try task.mkdir("/e", 0o755)
        let from = try task.open("/d", OpenOptions.readOnly | OpenOptions.directory)
        let to = try task.open("/e", OpenOptions.readOnly | OpenOptions.directory)
        try task.fs.writeFile("/d/a", contents: [7])
        try task.renameat(from, "a", to, "b")
        #expect(try task.stat("/e/b").size == 1)
        #expect(throws: Errno.badFileDescriptor) { try task.renameat(999, "b", to, "c") }
    }

    @Test func renameThroughTheDispatcherReportsNameErrorsInLinuxsOrder() {
        // Linux 6.18: rename("nope", NULL) EFAULT; rename("", NULL) ENOENT;
        // rename(NULL, "") EFAULT; renameat(999, "f", AT_FDCWD, NULL) EBADF;
        // renameat(AT_FDCWD, "f", 999, NULL) EFAULT; renameat2 with flags 8 and NULLs EINVAL.
        let cwd = SyscallPathWorld.reg(Self.cwd)
        #expect(world.call(.rename, world.path("nope"), 0) == SyscallPathWorld.fails(.badAddress))
        #expect(
            world.call(.rename, world.path(""), 0)
                == SyscallPathWorld.fails(.noSuchFileOrDirectory))
        #expect(world.call(.rename, 0, world.path("")) == SyscallPathWorld.fails(.badAddress))
        #expect(
            world.call(.renameat, 999, world.path("f"), cwd, 0)
                == SyscallPathWorld.fails(.badFileDescriptor))
        #expect(
            world.call(.renameat, cwd, world.path("f"), 999, 0)
                == SyscallPathWorld.fails(.badAddress))
        #expect(
            world.call(.renameat2, cwd, 0, cwd, 0, 8) == SyscallPathWorld.fails(.invalidArgument))
        #expect(world.call(.rename, world.path("/f"), world.path("/g")) == 0)
    }
}

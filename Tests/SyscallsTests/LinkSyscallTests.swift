import Testing
import TmpfsBackend
import VFSCore

@testable import Syscalls

/// link, linkat, symlink, symlinkat, readlink, readlinkat. Expected errnos are Linux 6.18's
/// on tmpfs (/dev/shm), run with python3 ctypes raw syscalls, as root and as uid 1000.
@Suite struct LinkSyscallTests {
    let world = SyscallPathWorld()
    var task: Syscalls.Task { world.task }
    static let cwd = Linux.AT_FDCWD

    init() throws {
        let fs = world.task.fs
        try fs.writeFile("/f", contents: Array("hello".utf8), mode: 0o644)
        try fs.makeDirectory("/d")
        try world.task.chmod("/d", 0o777)
        try fs.makeSymlink(target: "f", at: "/l")
        try fs.makeSymlink(target: "nope", at: "/dl")
    }

    // MARK: - link, linkat

    @Test func linkatRejectsUnknownFlags() {
        #expect(throws: Errno.invalidArgument) {
            try task.linkat(Self.cwd, "/f", Self.cwd, "/g", Linux.AT_SYMLINK_NOFOLLOW)
        }
    }

    @Test func linkErrors() {
        // Linux 6.18: a directory EPERM, an existing target EEXIST, a missing source ENOENT,
        // empty names ENOENT.
        #expect(throws: Errno.notPermitted) { try task.link("/d", "/g") }
        #expect(throws: Errno.fileExists) { try task.link("/f", "/d") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.link("/nope", "/g") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.link("", "/g") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.link("/f", "") }
    }

    @Test func linkDoesNotFollowTheSymlinkUnlessAsked() throws {
        // Linux 6.18: link("l", ...) links the symlink; AT_SYMLINK_FOLLOW the file; a dangling
        // link with AT_SYMLINK_FOLLOW is ENOENT.
        try task.link("/l", "/g1")
        #expect(try task.lstat("/g1").mode == 0o120777)
        try task.linkat(Self.cwd, "/l", Self.cwd, "/g2", Linux.AT_SYMLINK_FOLLOW)
        #expect(try task.lstat("/g2").mode == 0o100644)
        #expect(try task.stat("/f").nlink == 2)
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try task.linkat(Self.cwd, "/dl", Self.cwd, "/g3", Linux.AT_SYMLINK_FOLLOW)
        }
    }

    @Test func linkatEmptyPathLinksTheDescriptorsFile() throws {
        let fd = try task.open("/f", OpenOptions.readOnly)
        try task.linkat(fd, "", Self.cwd, "/h1", Linux.AT_EMPTY_PATH)
        #expect(try task.stat("/h1").ino == task.stat("/f").ino)
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try task.linkat(fd, "", Self.cwd, "/h2", 0)
        }
    }

    @Test func linkatEmptyPathOnADirectoryIsEPERM() throws {
        // Linux 6.18: a directory fd and AT_FDCWD (the cwd) with AT_EMPTY_PATH are EPERM.
        let fd = try task.open("/d", OpenOptions.readOnly | OpenOptions.directory)
        #expect(throws: Errno.notPermitted) {
            try task.linkat(fd, "", Self.cwd, "/h3", Linux.AT_EMPTY_PATH)
        }
        #expect(throws: Errno.notPermitted) {
            try task.linkat(Self.cwd, "", Self.cwd, "/h4", Linux.AT_EMPTY_PATH)
        }
    }

    @Test func linkatEmptyPathThroughAnotherCredentialsDescriptorIsENOENT() throws {
        // Linux 6.18: a uid-1000 process given a descriptor root opened gets ENOENT from
        // linkat(fd, "", ..., AT_EMPTY_PATH), and also from linkat(dirfd, "x", ...,
        // AT_EMPTY_PATH); with flags 0, or an absolute path, or AT_FDCWD, it works.
        try task.chmod("/f", 0o666)
        try task.fs.writeFile("/d/x", contents: [])
        try task.chmod("/d/x", 0o666)
        let file = try task.open("/f", OpenOptions.readOnly)
        let directory = try task.open("/d", OpenOptions.readOnly | OpenOptions.directory)
        let user = world.user()  // a clone holding the same descriptors
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try user.linkat(file, "", Self.cwd, "/d/u1", Linux.AT_EMPTY_PATH)
        }
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try user.linkat(directory, "x", Self.cwd, "/d/a1", Linux.AT_EMPTY_PATH)
        }
        try user.linkat(directory, "x", Self.cwd, "/d/a2", 0)
        try user.linkat(directory, "/d/x", Self.cwd, "/d/a3", Linux.AT_EMPTY_PATH)
        try user.linkat(Self.cwd, "/d/x", Self.cwd, "/d/a4", Linux.AT_EMPTY_PATH)
    }

    @Test func linkatEmptyPathThroughItsOwnDescriptorWorksForAUser() throws {
        try task.fs.writeFile("/d/mine", contents: [])
        try task.chown("/d/mine", 1000, 1000)
        let user = world.user()
        let fd = try user.open("/d/mine", OpenOptions.readOnly)
        try user.linkat(fd, "", Self.cwd, "/d/linked", Linux.AT_EMPTY_PATH)
        #expect(try task.stat("/d/mine").nlink == 2)
    }

    @Test func linkatOfAnUnlinkedFileIsENOENTUnlessATmpfile() throws {
        // Linux 6.18: a deleted file ENOENT; an O_TMPFILE file links; one made with O_EXCL
        // does not (ENOENT).
        let fd = try task.open("/f", OpenOptions.readOnly)
        try task.unlink("/f")
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try task.linkat(fd, "", Self.cwd, "/t2", Linux.AT_EMPTY_PATH)
        }
        let temporary = try task.open(
            "/d", OpenOptions.temporaryFile | OpenOptions.readWrite, 0o600)
        try task.linkat(temporary, "", Self.cwd, "/t1", Linux.AT_EMPTY_PATH)
        let exclusive = try task.open(
            "/d", OpenOptions.temporaryFile | OpenOptions.readWrite | OpenOptions.exclusive, 0o600)
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try task.linkat(exclusive, "", Self.cwd, "/t3", Linux.AT_EMPTY_PATH)
        }
    }

    @Test func linkOfAnOPathSymlinkDescriptorLinksTheSymlink() throws {
        let fd = try task.open("/l", OpenOptions.pathOnly | OpenOptions.noFollow)
        try task.linkat(fd, "", Self.cwd, "/t3", Linux.AT_EMPTY_PATH)
        #expect(try task.lstat("/t3").mode == 0o120777)
    }

    @Test func protectedHardlinksRefuseAUserLinkingRootsFile() {
        // Linux 6.18, fs.protected_hardlinks=1: uid 1000 linking root's 0644 file EPERM.
        #expect(throws: Errno.notPermitted) { try world.user().link("/f", "/d/b2") }
    }

    @Test func linkThroughTheDispatcherLooksUpTheSourceBeforeTheNewName() throws {
        // Linux 6.18: link("nope", NULL) ENOENT, link("", NULL) ENOENT, link("f", NULL)
        // EFAULT, linkat(999, "f", AT_FDCWD, NULL) EBADF, linkat(NULL, NULL, flags 0x100)
        // EINVAL.
        let cwd = SyscallPathWorld.reg(Self.cwd)
        #expect(
            world.call(.link, world.path("/nope"), 0)
                == SyscallPathWorld.fails(.noSuchFileOrDirectory))
        #expect(
            world.call(.link, world.path(""), 0)
                == SyscallPathWorld.fails(.noSuchFileOrDirectory))
        #expect(world.call(.link, world.path("/f"), 0) == SyscallPathWorld.fails(.badAddress))
        #expect(
            world.call(.linkat, 999, world.path("f"), cwd, 0, 0)
                == SyscallPathWorld.fails(.badFileDescriptor))
        #expect(
            world.call(.linkat, cwd, 0, cwd, 0, 0x100)
                == SyscallPathWorld.fails(.invalidArgument))
        #expect(world.call(.link, world.path("/f"), world.path("/g")) == 0)
        #expect(try task.stat("/g").nlink == 2)
    }

    // MARK: - symlink, symlinkat

    @Test func symlinkTargetRules() throws {
        // Linux 6.18: an empty target ENOENT; 4095 bytes fine; 4096 ENAMETOOLONG.
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.symlink("", "/s1") }
        try task.symlink(PathArgument(String(repeating: "a", count: 4095)), "/s2")
        #expect(try task.lstat("/s2").size == 4095)
        #expect(throws: Errno.fileNameTooLong) {
            try task.symlink(PathArgument(String(repeating: "a", count: 4096)), "/s3")
        }
    }

    @Test func symlinkErrors() throws {
        // Linux 6.18: an existing name EEXIST; a trailing slash ENOENT; relative to a file
        // descriptor ENOTDIR; symlinkat("", 999, "a") ENOENT (the target first).
        #expect(throws: Errno.fileExists) { try task.symlink("x", "/f") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.symlink("x", "/s5/") }
        let fd = try task.open("/f", OpenOptions.readOnly)
        #expect(throws: Errno.notDirectory) { try task.symlinkat("x", fd, "s6") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.symlinkat("", 999, "a") }
    }

    @Test func symlinkThroughTheDispatcher() throws {
        // Linux 6.18: symlink("", NULL) ENOENT; symlink(NULL, "") EFAULT.
        #expect(
            world.call(.symlink, world.path(""), 0)
                == SyscallPathWorld.fails(.noSuchFileOrDirectory))
        #expect(world.call(.symlink, 0, world.path("")) == SyscallPathWorld.fails(.badAddress))
        #expect(world.call(.symlink, world.path("target"), world.path("/s")) == 0)
        #expect(try task.readlink("/s", 100) == Array("target".utf8))
        let cwd = SyscallPathWorld.reg(Self.cwd)
        #expect(world.call(.symlinkat, world.path("t2"), cwd, world.path("/s2")) == 0)
    }

    // MARK: - readlink, readlinkat

    @Test func readlinkRejectsANonPositiveSizeFirst() {
        // Linux 6.18: bufsiz 0 and -1 EINVAL, even for a missing path.
        #expect(throws: Errno.invalidArgument) { try task.readlink("/l", 0) }
        #expect(throws: Errno.invalidArgument) { try task.readlink("/l", -1) }
        #expect(throws: Errno.invalidArgument) { try task.readlink("/nope", 0) }
    }

    @Test func readlinkTruncatesWithoutANul() throws {
        try task.symlink("abcdef", "/s")
        #expect(try task.readlink("/s", 3) == Array("abc".utf8))
        #expect(try task.readlink("/s", 100) == Array("abcdef".utf8))
    }

    @Test func readlinkOfANonSymlinkIsEINVALButOfAnEmptyPathENOENT() throws {
        // Linux 6.18: a file or directory EINVAL; readlinkat(file fd, "") and
        // readlinkat(AT_FDCWD, "") ENOENT (do_readlinkat's rule for empty names).
        #expect(throws: Errno.invalidArgument) { try task.readlink("/f", 64) }
        #expect(throws: Errno.invalidArgument) { try task.readlink("/d", 64) }
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.readlink("", 64) }
        let fd = try task.open("/f", OpenOptions.readOnly)
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.readlinkat(fd, "", 64) }
        #expect(throws: Errno.noSuchFileOrDirectory) { try task.readlinkat(Self.cwd, "", 64) }
        #expect(throws: Errno.notDirectory) { try task.readlink("/l/", 64) }
    }

    @Test func readlinkUpdatesTheSymlinksAccessTimeUnderRelatime() throws {
        // Linux 6.18 on /dev/shm (relatime): the first readlink of a new symlink moves its
        // atime (atime was not newer than mtime); a second one right after does not.
        try task.symlink("target", "/s")
        try task.utimensat(
            Self.cwd, "/s",
            (Timespec(seconds: 100, nanoseconds: 0), Timespec(seconds: 100, nanoseconds: 0)),
            Linux.AT_SYMLINK_NOFOLLOW)
        _ = try task.readlink("/s", 64)
        #expect(try task.lstat("/s").atime.seconds > 100)
    }

    @Test func readlinkatEmptyPathReadsAnOPathSymlinkDescriptor() throws {
        let fd = try task.open("/l", OpenOptions.pathOnly | OpenOptions.noFollow)
        #expect(try task.readlinkat(fd, "", 64) == Array("f".utf8))
    }

    @Test func readlinkThroughTheDispatcher() throws {
        // Linux 6.18: the count without a NUL; a bad buffer EFAULT; readlink(NULL, buf, 0)
        // EINVAL; bufsiz is an int (0x100000005 reads as 5).
        let buffer = world.memory.allocate(8)
        #expect(world.call(.readlink, world.path("/l"), buffer, 8) == 1)
        #expect(world.memory.contents(at: buffer, count: 2) == [0x66, 0])
        #expect(
            world.call(.readlink, world.path("/l"), SyscallPathWorld.unmapped, 8)
                == SyscallPathWorld.fails(.badAddress))
        #expect(world.call(.readlink, 0, buffer, 0) == SyscallPathWorld.fails(.invalidArgument))
        #expect(world.call(.readlink, world.path("/l"), buffer, 0x1_0000_0005) == 1)
        let cwd = SyscallPathWorld.reg(Self.cwd)
        #expect(world.call(.readlinkat, cwd, world.path("/l"), buffer, 8) == 1)
        #expect(world.call(.readlinkat, cwd, 0, buffer, 8) == SyscallPathWorld.fails(.badAddress))
    }
}

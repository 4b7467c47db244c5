import Testing
import TmpfsBackend
import VFSCore

@testable import Syscalls

/// mount(2) and umount2(2). Kernel facts from Linux 6.18 in a private mount namespace
/// (`unshare -m --propagation private`), targets under /dev/shm.
@Suite struct MountSyscallTests {
    /// /t, /t2, /x (directories), /src/sub, /file and /link → t.
    func world() throws -> KernelFixture {
        let world = KernelFixture()
        let fs = world.task.fs
        for directory in ["/t", "/t2", "/x", "/src", "/src/sub"] { try fs.makeDirectory(directory) }
        try fs.writeFile("/file", contents: [])
        try fs.makeSymlink(target: "t", at: "/link")
        return world
    }

    /// The mount at the top of `path`.
    func mount(_ world: KernelFixture, _ path: String) throws -> Mount {
        try world.kernel.vfs.getDentry(.root, world.task.fs.operation(path)).mount
    }

    func newTmpfs(_ world: KernelFixture, at path: PathArgument, flags: UInt64 = 0) throws {
        try world.task.mount(nil, path, "tmpfs", flags, nil)
    }

    // MARK: - New mounts

    @Test func mountsTmpfsWithDataOptions() throws {
        // Linux 6.18: mount -t tmpfs -o size=1m,mode=0750 → root mode 040750.
        let world = try world()
        try world.task.mount("none", "/t", "tmpfs", 0, "size=1m,mode=0750")
        #expect(try world.task.fs.stat("/t").mode.rawValue == 0o40750)
        try world.task.fs.writeFile("/t/inside", contents: [1])
        try world.task.umount2("/t", 0)
        #expect(throws: Errno.noSuchFileOrDirectory) { try world.task.fs.stat("/t/inside") }
    }

    @Test func newMountTakesPerMountFlags() throws {
        // Linux 6.18: MS_NOATIME|MS_NOSUID → statfs f_flag 0x402; MS_STRICTATIME → 0 (no
        // relatime); MS_NODEV|MS_NOEXEC → 0x100c.
        let world = try world()
        try newTmpfs(world, at: "/t", flags: Linux.MS_NOATIME | Linux.MS_NOSUID)
        #expect(try mount(world, "/t").flags == [.noAccessTime, .noSUID])
        try newTmpfs(world, at: "/t2", flags: Linux.MS_STRICTATIME | Linux.MS_NOATIME)
        #expect(try mount(world, "/t2").flags == [.strictAccessTime])
        try newTmpfs(world, at: "/x", flags: Linux.MS_NODEV | Linux.MS_NOEXEC)
        #expect(try mount(world, "/x").flags == [.noDevices, .noExec])
    }

    @Test func newMountErrors() throws {
        // Linux 6.18: missing target → ENOENT; type "nosuchfs" or "" → ENODEV; NULL type →
        // EINVAL; data "bogus=1" or "size=abc" → EINVAL; a file target → ENOTDIR.
        let world = try world()
        #expect(throws: Errno.noSuchFileOrDirectory) { try newTmpfs(world, at: "/nope") }
        #expect(throws: Errno.operationNotSupportedByDevice) {
            try world.task.mount(nil, "/t", "nosuchfs", 0, nil)
        }
        #expect(throws: Errno.operationNotSupportedByDevice) {
            try world.task.mount(nil, "/t", "", 0, nil)
        }
        #expect(throws: Errno.invalidArgument) { try world.task.mount(nil, "/t", nil, 0, nil) }
        #expect(throws: Errno.invalidArgument) {
            try world.task.mount(nil, "/t", "tmpfs", 0, "bogus=1")
        }
        #expect(throws: Errno.invalidArgument) {
            try world.task.mount(nil, "/t", "tmpfs", 0, "size=abc")
        }
        #expect(throws: Errno.notDirectory) { try newTmpfs(world, at: "/file") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try newTmpfs(world, at: "") }
    }

    @Test func noUserFlagIsInvalid() throws {
        let world = try world()
        #expect(throws: Errno.invalidArgument) {
            try world.task.mount(nil, "/t", "tmpfs", Linux.MS_NOUSER, nil)
        }
    }

    @Test func magicNumberInFlagsIsDiscarded() throws {
        let world = try world()
        try newTmpfs(world, at: "/t", flags: Linux.MS_MGC_VAL | Linux.MS_NOSUID)
        #expect(try mount(world, "/t").flags == [.noSUID])
    }

    @Test func unprivilegedMountLooksUpTargetBeforeEPERM() throws {
        // Linux 6.18, uid 1000: missing target → ENOENT; unknown type → EPERM; tmpfs → EPERM.
        let world = try world()
        let user = world.user()
        #expect(throws: Errno.noSuchFileOrDirectory) { try newTmpfs(world, at: "/nope") }
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try user.mount(nil, "/nope", "tmpfs", 0, nil)
        }
        #expect(throws: Errno.notPermitted) { try user.mount(nil, "/t", "nosuchfs", 0, nil) }
        #expect(throws: Errno.notPermitted) { try user.mount(nil, "/t", "tmpfs", 0, nil) }
    }

    @Test func mountsStackAndUnmountTopFirst() throws {
        // Linux 6.18: two tmpfs on /t; umount /t three times → ok, ok, EINVAL.
        let world = try world()
        try newTmpfs(world, at: "/t")
        try world.task.fs.writeFile("/t/lower", contents: [])
        try newTmpfs(world, at: "/t")
        #expect(try world.task.fs.listDirectory("/t").isEmpty)
        try world.task.umount2("/t", 0)
        #expect(try world.task.fs.listDirectory("/t") == ["lower"])
        try world.task.umount2("/t", 0)
        #expect(throws: Errno.invalidArgument) { try world.task.umount2("/t", 0) }
    }

    // MARK: - Remount

    @Test func remountNeedsMountRoot() throws {
        // Linux 6.18: MS_REMOUNT|MS_RDONLY and MS_REMOUNT|MS_BIND|MS_RDONLY on a plain
        // directory → EINVAL.
        let world = try world()
        #expect(throws: Errno.invalidArgument) {
            try world.task.mount(nil, "/t", nil, Linux.MS_REMOUNT | Linux.MS_RDONLY, nil)
        }
        #expect(throws: Errno.invalidArgument) {
            try world.task.mount(
                nil, "/t", nil, Linux.MS_REMOUNT | Linux.MS_BIND | Linux.MS_RDONLY, nil)
        }
    }

    @Test func remountReadOnlyAndBack() throws {
        // Linux 6.18: after MS_REMOUNT|MS_RDONLY creating a file → EROFS; MS_REMOUNT → writable.
        let world = try world()
        try newTmpfs(world, at: "/t")
        try world.task.mount(nil, "/t", nil, Linux.MS_REMOUNT | Linux.MS_RDONLY, nil)
        #expect(throws: Errno.readOnlyFileSystem) {
            try world.task.fs.writeFile("/t/f", contents: [])
        }
        try world.task.mount(nil, "/t", nil, Linux.MS_REMOUNT, nil)
        try world.task.fs.writeFile("/t/f", contents: [])
    }

    @Test func remountReadOnlyWithWriterIsBusy() throws {
        // Linux 6.18: a file open O_WRONLY on the tmpfs: MS_REMOUNT|MS_RDONLY and
        // MS_BIND|MS_REMOUNT|MS_RDONLY → EBUSY; with only a reader open → 0.
        let world = try world()
        try newTmpfs(world, at: "/t")
        let writer = try world.task.openat(
            Linux.AT_FDCWD, "/t/f", OpenOptions.writeOnly | OpenOptions.create, 0o644)
        #expect(throws: Errno.resourceBusy) {
            try world.task.mount(nil, "/t", nil, Linux.MS_REMOUNT | Linux.MS_RDONLY, nil)
        }
        #expect(throws: Errno.resourceBusy) {
            try world.task.mount(
                nil, "/t", nil, Linux.MS_BIND | Linux.MS_REMOUNT | Linux.MS_RDONLY, nil)
        }
        try world.task.close(writer)
        _ = try world.task.openat(Linux.AT_FDCWD, "/t/f", OpenOptions.readOnly)
        try world.task.mount(nil, "/t", nil, Linux.MS_REMOUNT | Linux.MS_RDONLY, nil)
    }

    @Test func remountReplacesFlagsButKeepsAtime() throws {
        // Linux 6.18: mounted MS_NOATIME|MS_NOSUID (0x402), MS_REMOUNT|MS_RDONLY → 0x401
        // (nosuid gone, noatime kept); mounted MS_STRICTATIME, MS_REMOUNT|MS_RDONLY → 0x1.
        let world = try world()
        try newTmpfs(world, at: "/t", flags: Linux.MS_NOATIME | Linux.MS_NOSUID)
        try world.task.mount(nil, "/t", nil, Linux.MS_REMOUNT | Linux.MS_RDONLY, nil)
        #expect(try mount(world, "/t").flags == [.readOnly, .noAccessTime])
        try newTmpfs(world, at: "/t2", flags: Linux.MS_STRICTATIME)
        try world.task.mount(nil, "/t2", nil, Linux.MS_REMOUNT | Linux.MS_RDONLY, nil)
        #expect(try mount(world, "/t2").flags == [.readOnly, .strictAccessTime])
    }

    @Test func remountChecksDataButIgnoresType() throws {
        // Linux 6.18: MS_REMOUNT with data "bogus=1" → EINVAL; with type "nosuchfs" → 0.
        let world = try world()
        try newTmpfs(world, at: "/t")
        #expect(throws: Errno.invalidArgument) {
            try world.task.mount(nil, "/t", nil, Linux.MS_REMOUNT, "bogus=1")
        }
        try world.task.mount(nil, "/t", "nosuchfs", Linux.MS_REMOUNT, "size=2m")
    }

    @Test func bindRemountChangesOnlyThatMount() throws {
        // Linux 6.18: bind /t on /t2, MS_BIND|MS_REMOUNT|MS_RDONLY on /t2 → t 0x400, t2 0x401.
        let world = try world()
        try newTmpfs(world, at: "/t", flags: Linux.MS_NOATIME)
        try world.task.mount("/t", "/t2", nil, Linux.MS_BIND, nil)
        try world.task.mount(
            nil, "/t2", nil, Linux.MS_BIND | Linux.MS_REMOUNT | Linux.MS_RDONLY, nil)
        #expect(try mount(world, "/t").flags == [.noAccessTime])
        #expect(try mount(world, "/t2").flags == [.readOnly, .noAccessTime])
        #expect(throws: Errno.readOnlyFileSystem) {
            try world.task.fs.writeFile("/t2/f", contents: [])
        }
        try world.task.fs.writeFile("/t/f", contents: [])
    }

    @Test func bindRemountSetsExactlyTheGivenFlags() throws {
        // Linux 6.18: mounted MS_NODEV|MS_NOEXEC, MS_BIND|MS_REMOUNT|MS_NOSUID → 0x1002.
        let world = try world()
        try newTmpfs(world, at: "/t", flags: Linux.MS_NODEV | Linux.MS_NOEXEC)
        try world.task.mount(
            nil, "/t", nil, Linux.MS_BIND | Linux.MS_REMOUNT | Linux.MS_NOSUID, nil)
        #expect(try mount(world, "/t").flags == [.noSUID])
    }

    // MARK: - Bind mounts

    @Test func bindMountShowsSourceAtTarget() throws {
        let world = try world()
        try world.task.fs.writeFile("/src/seen", contents: [3])
        try world.task.mount("/src", "/x", nil, Linux.MS_BIND, nil)
        #expect(try world.task.fs.readFile("/x/seen") == [3])
    }

    @Test func bindMountIgnoresReadOnlyFlag() throws {
        // Linux 6.18: MS_BIND|MS_RDONLY gives a writable bind mount (f_flag 0x1000).
        let world = try world()
        try world.task.mount("/src", "/x", nil, Linux.MS_BIND | Linux.MS_RDONLY, nil)
        #expect(try mount(world, "/x").flags == [])
        try world.task.fs.writeFile("/x/w", contents: [])
    }

    @Test func bindMountErrors() throws {
        // Linux 6.18: source "" or NULL → EINVAL; missing → ENOENT; file onto directory and
        // directory onto file → ENOTDIR.
        let world = try world()
        #expect(throws: Errno.invalidArgument) {
            try world.task.mount("", "/x", nil, Linux.MS_BIND, nil)
        }
        #expect(throws: Errno.invalidArgument) {
            try world.task.mount(nil, "/x", nil, Linux.MS_BIND, nil)
        }
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try world.task.mount("/nope", "/x", nil, Linux.MS_BIND, nil)
        }
        #expect(throws: Errno.notDirectory) {
            try world.task.mount("/file", "/x", nil, Linux.MS_BIND, nil)
        }
        #expect(throws: Errno.notDirectory) {
            try world.task.mount("/src", "/file", nil, Linux.MS_BIND, nil)
        }
    }

    @Test func recursiveBindCarriesSubmounts() throws {
        // Linux 6.18: tmpfs on src/sub holding "marker"; MS_BIND → x/sub/marker absent;
        // MS_BIND|MS_REC → present, and umount x is then EBUSY (MNT_DETACH works).
        let world = try world()
        try newTmpfs(world, at: "/src/sub")
        try world.task.fs.writeFile("/src/sub/marker", contents: [])
        try world.task.mount("/src", "/x", nil, Linux.MS_BIND, nil)
        #expect(throws: Errno.noSuchFileOrDirectory) { try world.task.fs.stat("/x/sub/marker") }
        try world.task.umount2("/x", 0)
        try world.task.mount("/src", "/x", nil, Linux.MS_BIND | Linux.MS_REC, nil)
        _ = try world.task.fs.stat("/x/sub/marker")
        #expect(throws: Errno.resourceBusy) { try world.task.umount2("/x", 0) }
        try world.task.umount2("/x", Linux.MNT_DETACH)
    }

    // MARK: - Propagation and move

    @Test func propagationChangeNeedsMountRootAndOneType() throws {
        let world = try world()
        try newTmpfs(world, at: "/t")
        try world.task.mount(nil, "/t", nil, Linux.MS_PRIVATE | Linux.MS_REC, nil)
        try world.task.mount(nil, "/", nil, Linux.MS_PRIVATE | Linux.MS_REC, nil)
        #expect(throws: Errno.invalidArgument) {
            try world.task.mount(nil, "/x", nil, Linux.MS_PRIVATE, nil)
        }
        #expect(throws: Errno.invalidArgument) {
            try world.task.mount(nil, "/t", nil, Linux.MS_PRIVATE | Linux.MS_SHARED, nil)
        }
        #expect(throws: Errno.invalidArgument) {
            try world.task.mount(nil, "/t", nil, Linux.MS_PRIVATE | Linux.MS_NOSUID, nil)
        }
    }
}

@Suite struct UnmountSyscallTests {
    func world() throws -> KernelFixture {
        let world = KernelFixture()
        let fs = world.task.fs
        for directory in ["/t", "/src", "/src/sub"] { try fs.makeDirectory(directory) }
        try fs.makeSymlink(target: "t", at: "/link")
        try world.task.mount(nil, "/t", "tmpfs", 0, nil)
        return world
    }

    @Test func unknownFlagsAreInvalidBeforeLookup() throws {
        // Linux 6.18: umount2(missing, 16) → EINVAL, also for uid 1000.
        let world = try world()
        #expect(throws: Errno.invalidArgument) { try world.task.umount2("/nope", 16) }
        #expect(throws: Errno.invalidArgument) { try world.user().umount2("/t", 16) }
        let memory = BufferMemory()
        #expect(world.call(.umount2, memory, 8, 16) == failure(.invalidArgument))
    }

    @Test func targetMustBeMountRoot() throws {
        // Linux 6.18: missing → ENOENT; a plain directory → EINVAL; MNT_FORCE on one → EINVAL.
        let world = try world()
        #expect(throws: Errno.noSuchFileOrDirectory) { try world.task.umount2("/nope", 0) }
        #expect(throws: Errno.invalidArgument) { try world.task.umount2("/src", 0) }
        #expect(throws: Errno.invalidArgument) { try world.task.umount2("/src", Linux.MNT_FORCE) }
    }

    @Test func namespaceRootCannotBeUnmounted() throws {
        let world = try world()
        #expect(throws: Errno.invalidArgument) { try world.task.umount2("/", Linux.MNT_DETACH) }
    }

    @Test func unprivilegedUnmountIsNotPermittedAfterLookup() throws {
        // Linux 6.18, uid 1000: missing → ENOENT; a plain directory → EPERM; a mount → EPERM.
        let world = try world()
        let user = world.user()
        #expect(throws: Errno.noSuchFileOrDirectory) { try user.umount2("/nope", 0) }
        #expect(throws: Errno.notPermitted) { try user.umount2("/src", 0) }
        #expect(throws: Errno.notPermitted) { try user.umount2("/t", 0) }
    }

    @Test func openFileMakesMountBusyUntilDetached() throws {
        // Linux 6.18: an open directory fd inside → EBUSY; MNT_DETACH succeeds and the open
        // file keeps working.
        let world = try world()
        try world.task.fs.writeFile("/t/f", contents: [9])
        let fd = try world.task.openat(Linux.AT_FDCWD, "/t/f", OpenOptions.readOnly)
        #expect(throws: Errno.resourceBusy) { try world.task.umount2("/t", 0) }
        try world.task.umount2("/t", Linux.MNT_DETACH)
        #expect(try world.task.read(fd, count: 4) == [9])
        #expect(throws: Errno.noSuchFileOrDirectory) { try world.task.fs.stat("/t/f") }
    }

    @Test func workingDirectoryMakesMountBusy() throws {
        let world = try world()
        let other = world.task.clone()
        try other.chdir("/t")
        #expect(throws: Errno.resourceBusy) { try world.task.umount2("/t", 0) }
        try other.chdir("/")
        try world.task.umount2("/t", 0)
    }

    @Test func expireMarksThenUnmounts() throws {
        // Linux 6.18: MNT_EXPIRE → EAGAIN the first time, 0 the second.
        let world = try world()
        #expect(throws: Errno.resourceTemporarilyUnavailable) {
            try world.task.umount2("/t", Linux.MNT_EXPIRE)
        }
        try world.task.umount2("/t", Linux.MNT_EXPIRE)
        #expect(throws: Errno.invalidArgument) { try world.task.umount2("/t", 0) }
    }

    @Test func expireRejectsForceAndDetachAndBusyMounts() throws {
        // Linux 6.18: MNT_EXPIRE|MNT_DETACH and MNT_EXPIRE|MNT_FORCE → EINVAL; MNT_EXPIRE with
        // an open fd inside → EBUSY.
        let world = try world()
        #expect(throws: Errno.invalidArgument) {
            try world.task.umount2("/t", Linux.MNT_EXPIRE | Linux.MNT_DETACH)
        }
        #expect(throws: Errno.invalidArgument) {
            try world.task.umount2("/t", Linux.MNT_EXPIRE | Linux.MNT_FORCE)
        }
        let fd = try world.task.openat(Linux.AT_FDCWD, "/t", OpenOptions.readOnly)
        #expect(throws: Errno.resourceBusy) { try world.task.umount2("/t", Linux.MNT_EXPIRE) }
        try world.task.close(fd)
    }

    @Test func noFollowLeavesFinalSymlinkAlone() throws {
        // Linux 6.18: umount2(link → t, UMOUNT_NOFOLLOW) → EINVAL; without it → 0.
        let world = try world()
        #expect(throws: Errno.invalidArgument) {
            try world.task.umount2("/link", Linux.UMOUNT_NOFOLLOW)
        }
        try world.task.umount2("/link", 0)
        #expect(throws: Errno.invalidArgument) { try world.task.umount2("/t", 0) }
    }

    @Test func submountMakesParentBusy() throws {
        let world = try world()
        try world.task.fs.makeDirectory("/t/inner")
        try world.task.mount(nil, "/t/inner", "tmpfs", 0, nil)
        #expect(throws: Errno.resourceBusy) { try world.task.umount2("/t", 0) }
        try world.task.umount2("/t/inner", Linux.MNT_FORCE)
        try world.task.umount2("/t", 0)
    }

    // MARK: - Dispatcher

    @Test func dispatchedMountReadsStringsAndData() throws {
        let world = try world()
        let memory = BufferMemory()
        try world.task.fs.makeDirectory("/m")
        let result = world.call(
            .mount, memory, memory.cString("none"), memory.cString("/m"), memory.cString("tmpfs"),
            Linux.MS_NOSUID, memory.cString("mode=0700"))
        #expect(result == 0)
        #expect(try world.task.fs.stat("/m").mode.rawValue == 0o40700)
        #expect(world.call(.umount2, memory, memory.cString("/m"), 0) == 0)
    }

    @Test func dispatchedMountCopiesStringsBeforeLookingUpTarget() throws {
        // Linux 6.18: a bad type, source or data pointer → EFAULT even for a missing target;
        // a bad target pointer → EFAULT.
        let world = try world()
        let memory = BufferMemory()
        let missing = memory.cString("/nope")
        let tmpfs = memory.cString("tmpfs")
        #expect(world.call(.mount, memory, 0, missing, 8, 0, 0) == failure(.badAddress))
        #expect(world.call(.mount, memory, 8, missing, tmpfs, 0, 0) == failure(.badAddress))
        #expect(world.call(.mount, memory, 0, missing, tmpfs, 0, 8) == failure(.badAddress))
        #expect(world.call(.mount, memory, 0, 8, tmpfs, 0, 0) == failure(.badAddress))
        #expect(
            world.call(.mount, memory, 0, missing, tmpfs, 0, 0) == failure(.noSuchFileOrDirectory))
    }

    @Test func dispatchedUnmountWithBadPointerFaults() throws {
        let world = try world()
        let memory = BufferMemory()
        #expect(world.call(.umount2, memory, 8, 0) == failure(.badAddress))
    }
}

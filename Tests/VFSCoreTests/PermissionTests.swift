import TmpfsBackend
import Testing
import VFSCore

/// Files and directories made as root with the given owner and mode, shared by the permission
/// suites. The same tree was built under /dev/shm and probed with python3 as uid 1000, gid
/// 1000, groups [2000] (`setpriv --reuid=1000 --regid=1000 --groups=2000`, plus
/// `--inh-caps=+X --ambient-caps=+X` for each capability) on Linux 6.18.
struct PermissionTree {
    let world = CoreTestWorld()
    var ctx: FSContext { world.ctx }

    func file(_ path: String, mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0) throws {
        try ctx.writeFile(path, contents: [])
        try ctx.changeOwner(path, uid: uid, gid: gid)
        try ctx.changeMode(path, mode)
    }

    func directory(_ path: String, mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0) throws {
        try ctx.makeDirectory(path)
        try ctx.changeOwner(path, uid: uid, gid: gid)
        try ctx.changeMode(path, mode)
    }

    /// The permission and set-ID bits of `path`, looked up as root.
    func mode(_ path: String) throws -> UInt32 {
        try world.vfs.stat(.root, ctx.operation(path, followFinalSymlink: false)).mode.permissions
    }

    func readable(_ path: String) throws(Errno) {
        _ = try ctx.open(path, flags: OpenOptions.readOnly)
    }

    func writable(_ path: String) throws(Errno) {
        _ = try ctx.open(path, flags: OpenOptions.writeOnly)
    }
}

/// Who may read, write and search: permission bits by owner/group/other precedence, search
/// permission along the path, the DAC capabilities, access(2) and the umask.
@Suite struct PermissionTests {
    let tree = PermissionTree()
    var ctx: FSContext { tree.ctx }

    init() throws {
        try tree.directory("/noexec", mode: 0o766)
        try tree.file("/noexec/f", mode: 0o644)
        try tree.ctx.makeDirectory("/a")
        try tree.directory("/a/b", mode: 0o700)
        try tree.ctx.makeDirectory("/a/b/c")
        try tree.file("/a/b/c/f", mode: 0o644)
        try tree.file("/ownerless", mode: 0o047, uid: 1000, gid: 1000)
        try tree.file("/grpless", mode: 0o407, gid: 2000)
        try tree.file("/grpread", mode: 0o040, gid: 2000)
        try tree.file("/otherread", mode: 0o004)
        try tree.file("/zero", mode: 0o000)
        try tree.file("/zerox", mode: 0o100)
        try tree.directory("/zdir", mode: 0o755)
        try tree.file("/zdir/f", mode: 0o644)
        try tree.ctx.changeMode("/zdir", 0o000)
        try tree.directory("/rodir", mode: 0o555)
        try tree.file("/rootfile", mode: 0o644)
        try tree.file("/own", mode: 0o644, uid: 1000, gid: 1000)
        try tree.file("/suid", mode: 0o6755, uid: 1000, gid: 1000)
        try tree.directory("/pub", mode: 0o777)
    }

    private func becomeUser(_ capabilities: Capabilities = []) {
        ctx.credentials = CoreTestWorld.user(with: capabilities)
    }

    // MARK: - Bits

    @Test func searchPermissionIsNeededOnEveryDirectoryWalked() {
        becomeUser()
        #expect(throws: Errno.permissionDenied) { try ctx.stat("/noexec/f") }
        #expect(throws: Errno.permissionDenied) { try ctx.stat("/a/b/c/f") }
        #expect(throws: Errno.permissionDenied) { try ctx.open("/a/b/c/f", flags: 0) }
    }

    @Test func readingADirectoryNeedsOnlyReadPermission() throws {
        becomeUser()
        // Linux 6.18: listdir of a 0766 directory works, stat of an entry in it does not.
        #expect(try ctx.listDirectory("/noexec") == ["f"])
    }

    @Test func ownerBitsApplyEvenWhenOthersWouldAllowMore() {
        becomeUser()
        #expect(throws: Errno.permissionDenied) { try tree.readable("/ownerless") }
    }

    @Test func groupBitsApplyEvenWhenOthersWouldAllowMore() {
        becomeUser()
        #expect(throws: Errno.permissionDenied) { try tree.readable("/grpless") }
    }

    @Test func supplementaryGroupGrantsGroupBits() throws {
        becomeUser()
        try tree.readable("/grpread")
    }

    @Test func otherBitsApplyToStrangers() throws {
        becomeUser()
        try tree.readable("/otherread")
        #expect(throws: Errno.permissionDenied) { try tree.writable("/otherread") }
        #expect(throws: Errno.permissionDenied) { try tree.readable("/zero") }
    }

    @Test func creatingNeedsWriteOnTheDirectory() throws {
        becomeUser()
        #expect(throws: Errno.permissionDenied) { try ctx.writeFile("/rodir/n", contents: []) }
        #expect(throws: Errno.permissionDenied) { try ctx.makeDirectory("/rodir/n") }
        try ctx.writeFile("/pub/n", contents: [])
        #expect(try ctx.stat("/pub/n").uid == 1000)
    }

    // MARK: - access(2)

    @Test func accessReportsWhatTheBitsAllow() throws {
        becomeUser()
        try ctx.access("/own", .read)
        try ctx.access("/own", .write)
        #expect(throws: Errno.permissionDenied) { try ctx.access("/own", .execute) }
        try ctx.access("/suid", .execute)
        #expect(throws: Errno.permissionDenied) { try ctx.access("/rootfile", .write) }
        #expect(throws: Errno.noSuchFileOrDirectory) { try ctx.access("/missing", []) }
        try ctx.access("/zero", [])
    }

    // MARK: - Capabilities

    @Test func dacOverrideGrantsReadWriteAndSearch() throws {
        becomeUser(.dacOverride)
        try tree.readable("/zero")
        try tree.writable("/zero")
        #expect(try ctx.stat("/zdir/f").size == 0)
        #expect(try ctx.listDirectory("/zdir") == ["f"])
        try ctx.writeFile("/rodir/n", contents: [])
    }

    @Test func dacOverrideGrantsExecuteOnlyWithSomeExecuteBit() throws {
        becomeUser(.dacOverride)
        // Linux 6.18 (faccessat2 AT_EACCESS): X_OK on 0000 is EACCES, on 0100 granted.
        #expect(throws: Errno.permissionDenied) { try ctx.access("/zero", .execute) }
        try ctx.access("/zerox", .execute)
    }

    @Test func dacOverrideDoesNotGrantOwnership() {
        becomeUser(.dacOverride)
        #expect(throws: Errno.notPermitted) { try ctx.changeMode("/rootfile", 0o644) }
    }

    @Test func dacReadSearchGrantsReadAndSearchOnly() throws {
        becomeUser(.dacReadSearch)
        try tree.readable("/zero")
        #expect(throws: Errno.permissionDenied) { try tree.writable("/zero") }
        #expect(try ctx.stat("/zdir/f").size == 0)
        #expect(try ctx.listDirectory("/zdir") == ["f"])
        #expect(throws: Errno.permissionDenied) { try ctx.writeFile("/zdir/n", contents: []) }
        #expect(throws: Errno.permissionDenied) { try ctx.access("/zerox", .execute) }
    }

    @Test func fownerGrantsOwnerOperationsButNotAccess() throws {
        becomeUser(.fowner)
        try ctx.changeMode("/rootfile", 0o640)
        #expect(try tree.mode("/rootfile") == 0o640)
        try ctx.setTimes(
            "/rootfile", access: .set(Timespec(seconds: 5, nanoseconds: 0)),
            modification: .set(Timespec(seconds: 5, nanoseconds: 0)))
        #expect(try ctx.stat("/rootfile").modificationTime.seconds == 5)
        #expect(throws: Errno.permissionDenied) { try tree.readable("/zero") }
        #expect(throws: Errno.notPermitted) { try ctx.changeOwner("/rootfile", uid: 1000, gid: nil) }
    }

    @Test func chownCapabilityGrantsAnyOwnerAndGroup() throws {
        becomeUser(.chown)
        try ctx.changeOwner("/rootfile", uid: 1000, gid: nil)
        #expect(try ctx.stat("/rootfile").uid == 1000)
        try ctx.changeOwner("/own", uid: nil, gid: 3000)
        #expect(try ctx.stat("/own").gid == 3000)
        #expect(throws: Errno.notPermitted) { try ctx.changeMode("/zero", 0o640) }
    }

    // MARK: - umask

    @Test func umaskIsAppliedToNewFilesAndDirectories() throws {
        becomeUser()
        ctx.umask = 0o027
        try ctx.makeDirectory("/pub/um")
        try ctx.writeFile("/pub/umf", contents: [])
        try ctx.makeNode("/pub/umn", mode: FileType.regular.rawValue | 0o666)
        // Linux 6.18 with umask 027: 0750 and 0640.
        #expect(try tree.mode("/pub/um") == 0o750)
        #expect(try tree.mode("/pub/umf") == 0o640)
        #expect(try tree.mode("/pub/umn") == 0o640)
    }

    @Test func umaskIsNotAppliedToSymlinks() throws {
        ctx.umask = 0o077
        try ctx.makeSymlink(target: "x", at: "/pub/l")
        #expect(try tree.mode("/pub/l") == 0o777)
    }
}

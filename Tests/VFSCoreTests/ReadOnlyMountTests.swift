import TmpfsBackend
import Testing
import VFSCore

/// Read-only mounts and read-only bind mounts: EROFS for every write path, reads unaffected,
/// and Linux's precedence between EROFS and the lookup errors. Every errno here was observed on
/// Linux 6.18 with `mount -o remount,ro` of a tmpfs (and `mount --bind -o ro`).
@Suite struct ReadOnlyMountTests {
    let world = CoreTestWorld()
    var ctx: FSContext { world.ctx }
    let mount: Mount

    /// A tmpfs at /ro holding d/ (empty dir), e/ (empty dir), f ("abc", user.a=1), l -> f;
    /// then remounted read-only.
    init() throws {
        try world.ctx.makeDirectory("/ro")
        let fs = TmpfsFilesystem()
        mount = try world.ctx.mount(fs, root: fs.root, at: "/ro")
        try world.ctx.makeDirectory("/ro/d")
        try world.ctx.makeDirectory("/ro/e")
        try world.ctx.writeFile("/ro/f", contents: Array("abc".utf8))
        try world.vfs.setExtendedAttribute(
            .root, world.ctx.operation("/ro/f"), name: Array("user.a".utf8), value: [0x31],
            flags: 0)
        try world.ctx.makeSymlink(target: "f", at: "/ro/l")
        try world.vfs.remount(mount, flags: [.readOnly])
    }

    private func open(_ path: String, _ flags: Int32) throws(Errno) -> FileDescription {
        try ctx.open(path, flags: flags)
    }

    // MARK: - Every write path

    @Test func mkdirIsEROFS() {
        #expect(throws: Errno.readOnlyFileSystem) { try ctx.makeDirectory("/ro/new") }
    }

    @Test func mknodIsEROFS() {
        #expect(throws: Errno.readOnlyFileSystem) {
            try ctx.makeNode("/ro/n", mode: FileType.regular.rawValue | 0o644)
        }
    }

    @Test func symlinkIsEROFS() {
        #expect(throws: Errno.readOnlyFileSystem) { try ctx.makeSymlink(target: "x", at: "/ro/s") }
    }

    @Test func linkIsEROFS() {
        #expect(throws: Errno.readOnlyFileSystem) { try ctx.makeLink(existing: "/ro/f", new: "/ro/g") }
    }

    @Test func unlinkIsEROFS() {
        #expect(throws: Errno.readOnlyFileSystem) { try ctx.unlink("/ro/f") }
    }

    @Test func rmdirIsEROFS() {
        #expect(throws: Errno.readOnlyFileSystem) { try ctx.removeDirectory("/ro/e") }
    }

    @Test func renameIsEROFS() {
        #expect(throws: Errno.readOnlyFileSystem) { try ctx.rename("/ro/f", to: "/ro/h") }
    }

    @Test func openForWritingIsEROFS() {
        #expect(throws: Errno.readOnlyFileSystem) { try open("/ro/f", OpenOptions.writeOnly) }
        #expect(throws: Errno.readOnlyFileSystem) { try open("/ro/f", OpenOptions.readWrite) }
    }

    @Test func openWithTruncateIsEROFS() {
        #expect(throws: Errno.readOnlyFileSystem) {
            try open("/ro/f", OpenOptions.readOnly | OpenOptions.truncate)
        }
    }

    @Test func openCreatingANewFileIsEROFS() {
        #expect(throws: Errno.readOnlyFileSystem) {
            try open("/ro/new", OpenOptions.readOnly | OpenOptions.create)
        }
    }

    @Test func chmodIsEROFS() {
        #expect(throws: Errno.readOnlyFileSystem) { try ctx.changeMode("/ro/f", 0o600) }
    }

    @Test func chownIsEROFS() {
        #expect(throws: Errno.readOnlyFileSystem) { try ctx.changeOwner("/ro/f", uid: 1, gid: 1) }
        // Linux 6.18: even chown(-1, -1).
        #expect(throws: Errno.readOnlyFileSystem) {
            try ctx.changeOwner("/ro/f", uid: nil, gid: nil)
        }
    }

    @Test func utimesIsEROFS() {
        #expect(throws: Errno.readOnlyFileSystem) {
            try ctx.setTimes("/ro/f", access: .now, modification: .now)
        }
    }

    @Test func truncateIsEROFS() {
        #expect(throws: Errno.readOnlyFileSystem) { try ctx.truncate("/ro/f", size: 0) }
    }

    @Test func setxattrIsEROFS() {
        #expect(throws: Errno.readOnlyFileSystem) {
            try world.vfs.setExtendedAttribute(
                .root, ctx.operation("/ro/f"), name: Array("user.b".utf8), value: [1], flags: 0)
        }
    }

    @Test func removexattrIsEROFSEvenForAMissingAttribute() {
        #expect(throws: Errno.readOnlyFileSystem) {
            try world.vfs.removeExtendedAttribute(
                .root, ctx.operation("/ro/f"), name: Array("user.a".utf8))
        }
        #expect(throws: Errno.readOnlyFileSystem) {
            try world.vfs.removeExtendedAttribute(
                .root, ctx.operation("/ro/f"), name: Array("user.zz".utf8))
        }
    }

    @Test func accessForWritingIsEROFS() {
        #expect(throws: Errno.readOnlyFileSystem) { try ctx.access("/ro/f", .write) }
    }

    @Test func readsStillWork() throws {
        #expect(try ctx.readFile("/ro/f") == Array("abc".utf8))
        #expect(try ctx.readFile("/ro/l") == Array("abc".utf8))
        #expect(try ctx.readSymlink("/ro/l") == "f")
        #expect(try ctx.listDirectory("/ro").sorted() == ["d", "e", "f", "l"])
        #expect(try ctx.stat("/ro/f").size == 3)
        #expect(
            try world.vfs.getExtendedAttribute(
                .root, ctx.operation("/ro/f"), name: Array("user.a".utf8)) == [0x31])
        try ctx.access("/ro/f", .read)
        _ = try open("/ro/d", OpenOptions.readOnly | OpenOptions.directory)
    }

    // MARK: - Precedence

    @Test func creatingAnExistingNameIsEEXISTNotEROFS() {
        #expect(throws: Errno.fileExists) { try ctx.makeDirectory("/ro/d") }
        #expect(throws: Errno.fileExists) {
            try ctx.makeNode("/ro/f", mode: FileType.regular.rawValue | 0o644)
        }
        #expect(throws: Errno.fileExists) { try ctx.makeSymlink(target: "x", at: "/ro/f") }
        #expect(throws: Errno.fileExists) { try ctx.makeLink(existing: "/ro/f", new: "/ro/d") }
        #expect(throws: Errno.fileExists) {
            try open("/ro/f", OpenOptions.readOnly | OpenOptions.create | OpenOptions.exclusive)
        }
    }

    @Test func removingAMissingNameIsEROFSNotENOENT() {
        #expect(throws: Errno.readOnlyFileSystem) { try ctx.unlink("/ro/missing") }
        #expect(throws: Errno.readOnlyFileSystem) { try ctx.removeDirectory("/ro/missing") }
        #expect(throws: Errno.readOnlyFileSystem) { try ctx.rename("/ro/missing", to: "/ro/h") }
    }

    @Test func createOfAnExistingFileReadOnlyWorks() throws {
        let file = try open("/ro/f", OpenOptions.readOnly | OpenOptions.create)
        #expect(try CoreTestWorld.read(file, count: 3) == Array("abc".utf8))
    }

    // MARK: - Remount, bind, statfs

    @Test func remountReadWriteAndBackAgain() throws {
        try world.vfs.remount(mount, flags: [])
        try ctx.makeDirectory("/ro/new")
        try world.vfs.remount(mount, flags: [.readOnly])
        #expect(throws: Errno.readOnlyFileSystem) { try ctx.makeDirectory("/ro/new2") }
        try world.vfs.remount(mount, flags: [])
        try ctx.makeDirectory("/ro/new2")
    }

    @Test func newWritersAreRefusedAfterRemountReadOnly() throws {
        try world.vfs.remount(mount, flags: [])
        try ctx.writeFile("/ro/w", contents: [1])
        try world.vfs.remount(mount, flags: [.readOnly])
        #expect(throws: Errno.readOnlyFileSystem) { try open("/ro/w", OpenOptions.writeOnly) }
    }

    @Test func remountReadOnlyWhileAWriterIsOpenIsRefused() throws {
        try world.vfs.remount(mount, flags: [])
        let writer = try open("/ro/f", OpenOptions.writeOnly)
        // Linux 6.18: `mount -o remount,ro` (and `remount,bind,ro`) with a file open for
        // writing on the mount fails with EBUSY and the mount stays read-write.
        #expect(throws: Errno.resourceBusy) { try world.vfs.remount(mount, flags: [.readOnly]) }
        withExtendedLifetime(writer) {
            #expect(!mount.isReadOnly)
        }
    }

    @Test func readOnlyBindMountRefusesWritesButTheOriginalAccepts() throws {
        try ctx.makeDirectory("/rw")
        try ctx.writeFile("/rw/f", contents: [1])
        try ctx.makeDirectory("/robind")
        try ctx.bindMount("/rw", at: "/robind", readOnly: true)
        #expect(throws: Errno.readOnlyFileSystem) { try ctx.makeDirectory("/robind/x") }
        #expect(throws: Errno.readOnlyFileSystem) { try open("/robind/f", OpenOptions.writeOnly) }
        #expect(throws: Errno.readOnlyFileSystem) { try ctx.unlink("/robind/f") }
        #expect(throws: Errno.readOnlyFileSystem) { try ctx.changeMode("/robind/f", 0o600) }
        #expect(try ctx.readFile("/robind/f") == [1])
        try ctx.makeDirectory("/rw/x")
        try ctx.changeMode("/rw/f", 0o600)
    }

    @Test func statfsReportsReadOnly() throws {
        let readOnly = try world.vfs.statFilesystem(.root, ctx.operation("/ro"))
        #expect(readOnly.flags & 1 == 1)  // ST_RDONLY
        let writable = try world.vfs.statFilesystem(.root, ctx.operation("/"))
        #expect(writable.flags & 1 == 0)
    }

    @Test func statfsReportsReadOnlyOnAReadOnlyBind() throws {
        try ctx.makeDirectory("/rw")
        try ctx.makeDirectory("/robind")
        try ctx.bindMount("/rw", at: "/robind", readOnly: true)
        #expect(try world.vfs.statFilesystem(.root, ctx.operation("/robind")).flags & 1 == 1)
        #expect(try world.vfs.statFilesystem(.root, ctx.operation("/rw")).flags & 1 == 0)
    }
}

import Synchronization
import TmpfsBackend
import Testing
import VFSCore

/// openat2's RESOLVE_* flags (checked with openat2 via ctypes on Linux 6.18 tmpfs) and the
/// delegated-resolution contract: a file system walks every component it holds in one call.
@Suite struct ResolveFlagsTests {
    let world = CoreTestWorld()
    var ctx: FSContext { world.ctx }

    /// /root/sub/f, /outside, and in /root: absl -> /sub/f, rell -> sub/f, upl -> ../outside.
    init() throws {
        try world.ctx.makeDirectory("/root")
        try world.ctx.makeDirectory("/root/sub")
        try world.ctx.writeFile("/root/sub/f", contents: Array("inside".utf8))
        try world.ctx.writeFile("/outside", contents: Array("outside".utf8))
        try world.ctx.writeFile("/sub", contents: Array("top".utf8))
        try world.ctx.makeSymlink(target: "/sub/f", at: "/root/absl")
        try world.ctx.makeSymlink(target: "sub/f", at: "/root/rell")
        try world.ctx.makeSymlink(target: "../outside", at: "/root/upl")
    }

    /// The operation `path` names from /root with `flags`.
    private func fromRoot(_ path: String, _ flags: ResolveFlags, follow: Bool = true) throws
        -> PathOperation
    {
        var operation = ctx.operation(
            path, from: try world.place("/root"), followFinalSymlink: follow)
        operation.resolveFlags = flags
        return operation
    }

    private func read(_ operation: PathOperation) throws -> [UInt8] {
        let file = try world.vfs.open(.root, operation, options: OpenOptions(flags: 0))
        return try CoreTestWorld.read(file, count: 64)
    }

    @Test func beneathAllowsPathsThatStayBelowTheStart() throws {
        #expect(try read(fromRoot("sub/../sub/f", .beneath)) == Array("inside".utf8))
        #expect(try read(fromRoot("rell", .beneath)) == Array("inside".utf8))
    }

    @Test func beneathRejectsDotDotPastTheStart() throws {
        #expect(throws: Errno.improperLink) { try read(fromRoot("../outside", .beneath)) }
        #expect(throws: Errno.improperLink) { try world.vfs.stat(.root, fromRoot("..", .beneath)) }
    }

    @Test func beneathRejectsAbsolutePaths() throws {
        #expect(throws: Errno.improperLink) { try read(fromRoot("/root/sub/f", .beneath)) }
    }

    @Test func beneathRejectsAbsoluteSymlinks() throws {
        #expect(throws: Errno.improperLink) { try read(fromRoot("absl", .beneath)) }
    }

    @Test func inRootResolvesAbsoluteSymlinksInsideTheStart() throws {
        // /sub at the real root is a file holding "top"; inside /root it is the directory.
        #expect(try read(fromRoot("absl", .inRoot)) == Array("inside".utf8))
        #expect(try read(fromRoot("/sub/f", .inRoot)) == Array("inside".utf8))
    }

    @Test func inRootKeepsDotDotAtTheStart() throws {
        #expect(try read(fromRoot("../../sub/f", .inRoot)) == Array("inside".utf8))
        // Linux 6.18: upl -> ../outside resolves to /root/outside, which does not exist.
        #expect(throws: Errno.noSuchFileOrDirectory) { try read(fromRoot("upl", .inRoot)) }
    }

    @Test func noSymlinksRejectsAnySymlinkFollowed() throws {
        #expect(throws: Errno.tooManySymbolicLinkLevels) { try read(fromRoot("rell", .noSymlinks)) }
        #expect(try read(fromRoot("sub/f", .noSymlinks)) == Array("inside".utf8))
    }

    @Test func noSymlinksStillOpensAFinalSymlinkWithPathAndNoFollow() throws {
        let file = try world.vfs.open(
            .root, fromRoot("rell", .noSymlinks, follow: false),
            options: OpenOptions(flags: OpenOptions.pathOnly | OpenOptions.noFollow))
        #expect(file.dentry.isSymlink)
    }

    @Test func noXDevRejectsCrossingIntoAMount() throws {
        let other = TmpfsFilesystem()
        try ctx.mount(other, root: other.root, at: "/root/sub")
        try ctx.writeFile("/root/sub/q", contents: [1])
        // Linux 6.18: EXDEV both for a path through the mount and for the mount point itself.
        #expect(throws: Errno.improperLink) { try read(fromRoot("sub/q", .noXDev)) }
        #expect(throws: Errno.improperLink) { try world.vfs.stat(.root, fromRoot("sub", .noXDev)) }
    }

    @Test func noXDevRejectsDotDotOutOfAMount() throws {
        let other = TmpfsFilesystem()
        try ctx.mount(other, root: other.root, at: "/root/sub")
        try ctx.writeFile("/root/sub/q", contents: [1])
        var inside = ctx.operation("q", from: try world.place("/root/sub"))
        inside.resolveFlags = .noXDev
        #expect(try world.vfs.stat(.root, inside).size == 1)
        var out = ctx.operation("..", from: try world.place("/root/sub"))
        out.resolveFlags = .noXDev
        #expect(throws: Errno.improperLink) { try world.vfs.stat(.root, out) }
    }

    // MARK: - Delegated resolution

    @Test func statOfADeepPathCostsOneWalkWithoutMounts() throws {
        let counter = WalkCounter()
        let counted = CountingFilesystem(TmpfsFilesystem(), counter: counter)
        let vfs = VirtualFilesystem()
        let context = FSContext(
            vfs: vfs, namespace: vfs.makeNamespace(root: counted, rootDentry: counted.root))
        try context.makeDirectory("/a")
        try context.makeDirectory("/a/b")
        try context.makeDirectory("/a/b/c")
        try context.writeFile("/a/b/c/d", contents: [1])
        counter.reset()
        #expect(try context.stat("/a/b/c/d").size == 1)
        #expect(counter.walks == 1)
    }

    @Test func crossingOneMountCostsOneMoreWalk() throws {
        let counter = WalkCounter()
        let outer = CountingFilesystem(TmpfsFilesystem(), counter: counter)
        let inner = CountingFilesystem(TmpfsFilesystem(), counter: counter)
        let vfs = VirtualFilesystem()
        let context = FSContext(
            vfs: vfs, namespace: vfs.makeNamespace(root: outer, rootDentry: outer.root))
        try context.makeDirectory("/a")
        try context.makeDirectory("/a/b")
        try context.mount(inner, root: inner.root, at: "/a/b")
        try context.makeDirectory("/a/b/c")
        try context.writeFile("/a/b/c/d", contents: [1])
        counter.reset()
        #expect(try context.stat("/a/b/c/d").size == 1)
        #expect(counter.walks == 2)
    }
}

/// Counts `walk` calls across every `CountingFilesystem` that shares it.
private final class WalkCounter: Sendable {
    private let count = Mutex(0)
    var walks: Int { count.withLock { $0 } }
    func increment() { count.withLock { $0 += 1 } }
    func reset() { count.withLock { $0 = 0 } }
}

/// A file system that forwards every call to a tmpfs, counting `walk`.
private final class CountingFilesystem: FilesystemImpl {
    let base: TmpfsFilesystem
    let counter: WalkCounter

    init(_ base: TmpfsFilesystem, counter: WalkCounter) {
        self.base = base
        self.counter = counter
    }

    var root: Dentry { base.root }
    var typeName: String { base.typeName }

    func walk(_ rp: inout ResolvingPath) throws(Errno) -> WalkStop {
        counter.increment()
        return try base.walk(&rp)
    }

    func makeDirectory(_ rp: ResolvingPath, name: Name, mode: FileMode) throws(Errno) {
        try base.makeDirectory(rp, name: name, mode: mode)
    }

    func makeNode(_ rp: ResolvingPath, name: Name, mode: FileMode, device: UInt64) throws(Errno) {
        try base.makeNode(rp, name: name, mode: mode, device: device)
    }

    func makeSymlink(_ rp: ResolvingPath, name: Name, target: [UInt8]) throws(Errno) {
        try base.makeSymlink(rp, name: name, target: target)
    }

    func makeLink(_ rp: ResolvingPath, name: Name, existing: VirtualDentry) throws(Errno) {
        try base.makeLink(rp, name: name, existing: existing)
    }

    func unlink(_ rp: ResolvingPath, name: Name) throws(Errno) {
        try base.unlink(rp, name: name)
    }

    func removeDirectory(_ rp: ResolvingPath, name: Name) throws(Errno) {
        try base.removeDirectory(rp, name: name)
    }

    func rename(
        from: ResolvingPath, name oldName: Name, to: ResolvingPath, name newName: Name,
        flags: RenameFlags
    ) throws(Errno) {
        try base.rename(from: from, name: oldName, to: to, name: newName, flags: flags)
    }

    func openOrCreate(_ rp: ResolvingPath, name: Name, options: OpenOptions, mode: FileMode)
        throws(Errno) -> CreateOutcome
    {
        try base.openOrCreate(rp, name: name, options: options, mode: mode)
    }

    func makeTemporaryFile(_ rp: ResolvingPath, mode: FileMode, linkable: Bool) throws(Errno)
        -> Dentry
    {
        try base.makeTemporaryFile(rp, mode: mode, linkable: linkable)
    }

    func open(_ location: VirtualDentry, options: OpenOptions, credentials: Credentials)
        throws(Errno) -> any FileDescriptionImpl
    {
        try base.open(location, options: options, credentials: credentials)
    }

    func stat(_ dentry: Dentry, mask: StatxMask) throws(Errno) -> FileStat {
        try base.stat(dentry, mask: mask)
    }

    func ownership(_ dentry: Dentry) throws(Errno) -> Ownership {
        try base.ownership(dentry)
    }

    func setStat(_ dentry: Dentry, _ change: StatChange, credentials: Credentials) throws(Errno) {
        try base.setStat(dentry, change, credentials: credentials)
    }

    func readSymlink(_ dentry: Dentry) throws(Errno) -> [UInt8] {
        try base.readSymlink(dentry)
    }

    func statFilesystem(_ dentry: Dentry) throws(Errno) -> FilesystemStat {
        try base.statFilesystem(dentry)
    }

    func parentAndName(of dentry: Dentry) -> (parent: Dentry, name: Name)? {
        base.parentAndName(of: dentry)
    }

    func getExtendedAttribute(_ dentry: Dentry, name: [UInt8], credentials: Credentials)
        throws(Errno) -> [UInt8]
    {
        try base.getExtendedAttribute(dentry, name: name, credentials: credentials)
    }

    func setExtendedAttribute(
        _ dentry: Dentry, name: [UInt8], value: [UInt8], flags: Int32, credentials: Credentials
    ) throws(Errno) {
        try base.setExtendedAttribute(
            dentry, name: name, value: value, flags: flags, credentials: credentials)
    }

    func listExtendedAttributes(_ dentry: Dentry, credentials: Credentials) throws(Errno)
        -> [[UInt8]]
    {
        try base.listExtendedAttributes(dentry, credentials: credentials)
    }

    func removeExtendedAttribute(_ dentry: Dentry, name: [UInt8], credentials: Credentials)
        throws(Errno)
    {
        try base.removeExtendedAttribute(dentry, name: name, credentials: credentials)
    }
}

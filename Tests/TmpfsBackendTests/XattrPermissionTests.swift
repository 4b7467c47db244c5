import TmpfsBackend
import Testing
import VFSCore

/// Who may get, set, list and remove which extended attributes, through the VFS's path calls.
/// Every errno was observed with python3's os.{set,get,list,remove}xattr on /dev/shm (tmpfs,
/// Linux 6.18), as root and as uid/gid 1000 with no groups (a forked child after setresuid).
@Suite struct XattrPermissionTests {
    let world = TmpfsWorld()

    private func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

    private func set(
        _ path: String, _ name: String, _ value: [UInt8] = [1], flags: Int32 = 0,
        as credentials: Credentials = .root, follow: Bool = true
    ) throws(Errno) {
        try world.vfs.setExtendedAttribute(
            credentials, world.ctx.operation(path, followFinalSymlink: follow), name: bytes(name),
            value: value, flags: flags)
    }

    private func get(
        _ path: String, _ name: String, as credentials: Credentials = .root, follow: Bool = true
    ) throws(Errno) -> [UInt8] {
        try world.vfs.getExtendedAttribute(
            credentials, world.ctx.operation(path, followFinalSymlink: follow), name: bytes(name))
    }

    private func remove(_ path: String, _ name: String, as credentials: Credentials = .root)
        throws(Errno)
    {
        try world.vfs.removeExtendedAttribute(
            credentials, world.ctx.operation(path), name: bytes(name))
    }

    private func list(_ path: String, as credentials: Credentials = .root) throws(Errno)
        -> Set<String>
    {
        Set(
            try world.vfs.listExtendedAttributes(credentials, world.ctx.operation(path)).map {
                String(decoding: $0, as: UTF8.self)
            })
    }

    private let user = TmpfsWorld.user

    /// A root-owned regular file with exactly `mode` (writeFile's umask would mask it).
    private func file(_ path: String, mode: UInt32) throws {
        try world.ctx.writeFile(path, contents: [])
        try world.ctx.changeMode(path, mode)
    }

    // MARK: user.*

    @Test func userAttributesOnRegularFilesAndDirectories() throws {
        try world.ctx.writeFile("/f", contents: [])
        try world.ctx.makeDirectory("/d")
        try set("/f", "user.x", [1, 2])
        try set("/d", "user.x", [3])
        #expect(try get("/f", "user.x") == [1, 2])
        #expect(try get("/d", "user.x") == [3])
        #expect(try list("/f") == ["user.x"])
    }

    @Test func userAttributeOnSymlinkFifoOrDeviceIsEPERMToSetAndENODATAToGet() throws {
        try world.ctx.writeFile("/f", contents: [])
        try world.ctx.makeSymlink(target: "f", at: "/l")
        try world.ctx.makeNode("/p", mode: FileType.fifo.rawValue | 0o666)
        try world.ctx.makeNode("/c", mode: FileType.characterDevice.rawValue | 0o666, device: 0x103)
        try world.ctx.makeNode("/s", mode: FileType.socket.rawValue | 0o666)
        // Linux 6.18 on tmpfs, even as root: lsetxattr on a symlink, setxattr on a FIFO or a
        // character device give EPERM; getxattr gives ENODATA.
        #expect(throws: Errno.notPermitted) { try set("/l", "user.x", follow: false) }
        #expect(throws: Errno.noData) { try get("/l", "user.x", follow: false) }
        for path in ["/p", "/c", "/s"] {
            #expect(throws: Errno.notPermitted, "\(path)") { try set(path, "user.x") }
            #expect(throws: Errno.noData, "\(path)") { try get(path, "user.x") }
        }
        // Through the symlink, the target (a regular file) takes it.
        try set("/l", "user.x")
        #expect(try get("/f", "user.x") == [1])
    }

    @Test func userAttributeSetNeedsWritePermission() throws {
        try file("/ro", mode: 0o644)
        try set("/ro", "user.a")
        // Linux 6.18 on tmpfs, uid 1000 on a 0644 root file: setxattr EACCES, getxattr works.
        #expect(throws: Errno.permissionDenied) { try set("/ro", "user.y", as: user) }
        #expect(throws: Errno.permissionDenied) { try remove("/ro", "user.a", as: user) }
        #expect(try get("/ro", "user.a", as: user) == [1])
    }

    @Test func userAttributeGetNeedsReadPermission() throws {
        try file("/p", mode: 0o600)
        try set("/p", "user.a")
        // Linux 6.18 on tmpfs, uid 1000 on a 0600 root file: getxattr EACCES; listxattr works.
        #expect(throws: Errno.permissionDenied) { try get("/p", "user.a", as: user) }
        #expect(try list("/p", as: user) == ["user.a"])
    }

    @Test func userAttributeOnWritableFileBelongingToSomeoneElse() throws {
        try file("/f", mode: 0o666)
        try set("/f", "user.y", as: user)
        #expect(try get("/f", "user.y", as: user) == [1])
    }

    @Test func stickyDirectoryUserAttributeByNonOwnerIsEPERM() throws {
        try world.ctx.makeDirectory("/sticky")
        try world.ctx.changeMode("/sticky", 0o1777)
        try set("/sticky", "user.s")
        // Linux 6.18 on tmpfs, uid 1000 on root's 01777 directory: set and remove give EPERM
        // (though the mode grants write), get works.
        #expect(throws: Errno.notPermitted) { try set("/sticky", "user.y", as: user) }
        #expect(throws: Errno.notPermitted) { try remove("/sticky", "user.s", as: user) }
        #expect(try get("/sticky", "user.s", as: user) == [1])
    }

    @Test func stickyDirectoryUserAttributeByItsOwnerIsAllowed() throws {
        try world.ctx.makeDirectory("/sticky")
        try world.ctx.changeMode("/sticky", 0o1777)
        try world.ctx.changeOwner("/sticky", uid: 1000, gid: 1000)
        try set("/sticky", "user.y", as: user)
        #expect(try get("/sticky", "user.y", as: user) == [1])
    }

    // MARK: trusted.* and security.*

    @Test func trustedNeedsSysAdmin() throws {
        try file("/f", mode: 0o666)
        try set("/f", "trusted.t")
        try set("/f", "user.u")
        // Linux 6.18 on tmpfs, uid 1000: set EPERM, get ENODATA (present or not), remove EPERM,
        // and listxattr leaves trusted.* out; root sees it.
        #expect(throws: Errno.notPermitted) { try set("/f", "trusted.y", as: user) }
        #expect(throws: Errno.noData) { try get("/f", "trusted.t", as: user) }
        #expect(throws: Errno.noData) { try get("/f", "trusted.nope", as: user) }
        #expect(throws: Errno.notPermitted) { try remove("/f", "trusted.t", as: user) }
        #expect(try list("/f", as: user) == ["user.u"])
        #expect(try list("/f") == ["user.u", "trusted.t"])
        #expect(try get("/f", "trusted.t", as: TmpfsWorld.user(with: .sysAdmin)) == [1])
    }

    @Test func trustedOnSymlinkIsAllowedForSysAdmin() throws {
        try world.ctx.makeSymlink(target: "nowhere", at: "/l")
        // Linux 6.18 on tmpfs: root's lsetxattr("l", "trusted.x") succeeds.
        try set("/l", "trusted.x", follow: false)
        #expect(try get("/l", "trusted.x", follow: false) == [1])
    }

    @Test func securitySetNeedsSysAdminButAnyoneMayRead() throws {
        try file("/f", mode: 0o666)
        try set("/f", "security.z")
        // Linux 6.18 on tmpfs, uid 1000 on a 0666 file: setxattr security.y gives EPERM;
        // getxattr security.z gives the value, and listxattr shows it.
        #expect(throws: Errno.notPermitted) { try set("/f", "security.y", as: user) }
        #expect(try get("/f", "security.z", as: user) == [1])
        #expect(try list("/f", as: user) == ["security.z"])
    }

    // MARK: Flags, presence and sizes

    @Test func createOnlyOnExistingIsEEXISTAndReplaceOnlyOnMissingIsENODATA() throws {
        try world.ctx.writeFile("/f", contents: [])
        try set("/f", "user.u", [1])
        #expect(throws: Errno.fileExists) { try set("/f", "user.u", [2], flags: 1) }
        #expect(throws: Errno.noData) { try set("/f", "user.zz", [2], flags: 2) }
        try set("/f", "user.u", [3], flags: 2)
        try set("/f", "user.new", [4], flags: 1)
        #expect(try get("/f", "user.u") == [3])
        #expect(try get("/f", "user.new") == [4])
    }

    @Test func missingAttributeIsENODATAToGetAndRemove() throws {
        try world.ctx.writeFile("/f", contents: [])
        #expect(throws: Errno.noData) { try get("/f", "user.zz") }
        #expect(throws: Errno.noData) { try remove("/f", "user.zz") }
    }

    @Test func removedAttributeIsGone() throws {
        try world.ctx.writeFile("/f", contents: [])
        try set("/f", "user.u")
        try remove("/f", "user.u")
        #expect(throws: Errno.noData) { try get("/f", "user.u") }
        #expect(try list("/f").isEmpty)
    }

    @Test func nameOf255BytesIsFineAnd256IsERANGE() throws {
        try world.ctx.writeFile("/f", contents: [])
        let longest = "user." + String(repeating: "a", count: 250)
        try set("/f", longest)
        #expect(try get("/f", longest) == [1])
        #expect(throws: Errno.outOfRange) { try set("/f", longest + "a") }
        #expect(throws: Errno.outOfRange) { try get("/f", longest + "a") }
    }

    @Test func valueOf65536BytesIsFineAnd65537IsE2BIG() throws {
        try world.ctx.writeFile("/f", contents: [])
        try set("/f", "user.big", [UInt8](repeating: 7, count: 65536))
        #expect(try get("/f", "user.big").count == 65536)
        #expect(throws: Errno.argListTooLong) {
            try set("/f", "user.big", [UInt8](repeating: 7, count: 65537))
        }
    }

    @Test func argumentChecksComeBeforeThePathIsResolved() throws {
        let tooLong = "user." + String(repeating: "a", count: 251)
        // Linux 6.18: on a path that does not exist, a 256-byte name gives ERANGE for set, get
        // and remove; an empty name ERANGE; a 65537-byte value E2BIG; flags 4 EINVAL.
        #expect(throws: Errno.outOfRange) { try set("/nope", tooLong) }
        #expect(throws: Errno.outOfRange) { try get("/nope", tooLong) }
        #expect(throws: Errno.outOfRange) { try remove("/nope", tooLong) }
        #expect(throws: Errno.outOfRange) { try set("/nope", "") }
        #expect(throws: Errno.outOfRange) { try get("/nope", "") }
        #expect(throws: Errno.argListTooLong) {
            try set("/nope", "user.a", [UInt8](repeating: 0, count: 65537))
        }
        #expect(throws: Errno.invalidArgument) { try set("/nope", tooLong, flags: 4) }
        #expect(throws: Errno.noSuchFileOrDirectory) { try set("/nope", "user.a") }
    }

    @Test func unknownNamespaceIsEOPNOTSUPPForRootAndEACCESForOthersWithoutAccess() throws {
        try file("/p", mode: 0o600)
        #expect(throws: Errno.notSupported) { try set("/p", "foo.bar") }
        // Linux 6.18 on tmpfs, uid 1000 on a 0600 root file: "foo.bar" gives EACCES for set and
        // get: the permission check comes before the namespace.
        #expect(throws: Errno.permissionDenied) { try set("/p", "foo.bar", as: user) }
        #expect(throws: Errno.permissionDenied) { try get("/p", "foo.bar", as: user) }
    }
}

import Foundation
import HostBackend
import HostSyscalls
import Testing
import VFSCore

/// The host process is root; the VFS's own rules decide for the sandbox's caller, and new
/// files belong to the caller.
@Suite struct HostCredentialTests {
    private func userSandbox() throws -> HostSandbox {
        let box = try HostSandbox()
        chmod(box.rootPath, 0o777)
        box.context.credentials = .user(1000, gid: 1000, groups: [2000])
        return box
    }

    @Test func newFilesBelongToTheCallersFsuidAndFsgid() throws {
        let box = try userSandbox()
        try box.context.makeDirectory("/d")
        try box.context.writeFile("/d/f", contents: [])
        try box.context.makeSymlink(target: "f", at: "/d/l")
        for path in ["d", "d/f", "d/l"] {
            let st = try box.hostStat(path)
            #expect(st.uid == 1000 && st.gid == 1000, "\(path)")
        }
    }

    @Test func setGroupIDDirectoryPassesItsGroupOn() throws {
        let box = try HostSandbox()
        try box.context.makeDirectory("/g", mode: 0o777)
        try box.context.changeOwner("/g", uid: nil, gid: 2000)
        try box.context.changeMode("/g", 0o2777)
        box.context.credentials = .user(1000, gid: 1000, groups: [2000])
        try box.context.makeDirectory("/g/sub")
        let st = try box.hostStat("g/sub")
        #expect(st.gid == 2000)
        #expect(st.mode & 0o2000 != 0)
    }

    @Test func unprivilegedCallerCannotWriteARootOwnedFile() throws {
        let box = try HostSandbox()
        try box.context.writeFile("/f", contents: [], mode: 0o644)
        box.context.credentials = .user(1000, gid: 1000)
        #expect(throws: Errno.permissionDenied) {
            try box.context.open("/f", flags: OpenOptions.writeOnly)
        }
        #expect(throws: Errno.permissionDenied) { try box.context.makeDirectory("/x") }
        #expect(throws: Errno.notPermitted) { try box.context.changeMode("/f", 0o777) }
    }

    @Test func searchPermissionIsCheckedOnEachDirectory() throws {
        let box = try HostSandbox()
        try box.context.makeDirectory("/private", mode: 0o700)
        try box.context.writeFile("/private/f", contents: [])
        box.context.credentials = .user(1000, gid: 1000)
        #expect(throws: Errno.permissionDenied) { try box.context.stat("/private/f") }
    }

    @Test func stickyDirectoryProtectsOthersFiles() throws {
        let box = try HostSandbox()
        try box.context.makeDirectory("/tmp", mode: 0o777)
        try box.context.changeMode("/tmp", 0o1777)
        box.context.credentials = .user(1001, gid: 1001)
        try box.context.writeFile("/tmp/theirs", contents: [])
        box.context.credentials = .user(1000, gid: 1000)
        #expect(throws: Errno.notPermitted) { try box.context.unlink("/tmp/theirs") }
    }

    @Test func chownByOwnerWithoutCapabilityIsEPERM() throws {
        let box = try userSandbox()
        try box.context.writeFile("/f", contents: [])
        #expect(throws: Errno.notPermitted) { try box.context.changeOwner("/f", uid: 0, gid: nil) }
        try box.context.changeOwner("/f", uid: nil, gid: 2000)
        #expect(try box.hostStat("f").gid == 2000)
    }

    @Test func writeByUnprivilegedCallerClearsSetUserID() throws {
        let box = try userSandbox()
        try box.context.writeFile("/f", contents: [])
        try box.context.changeMode("/f", 0o4755)
        let file = try box.context.open("/f", flags: OpenOptions.writeOnly)
        _ = try [UInt8(1)].withUnsafeBytes { (raw) throws(Errno) -> Int in
            try file.write(from: raw, credentials: box.context.credentials)
        }
        // Linux 6.18: a write without CAP_FSETID drops S_ISUID.
        #expect(try box.hostStat("f").mode & 0o7777 == 0o755)
    }

    @Test func writeInTheFilesGroupKeepsSetGroupIDWithoutGroupExecute() throws {
        let box = try userSandbox()
        try box.context.writeFile("/f", contents: [])
        try box.context.changeMode("/f", 0o2700)
        let file = try box.context.open("/f", flags: OpenOptions.writeOnly)
        _ = try [UInt8(1)].withUnsafeBytes { (raw) throws(Errno) -> Int in
            try file.write(from: raw, credentials: box.context.credentials)
        }
        // Linux 6.18 on tmpfs: uid 1000 in group 1000 writing its 02700 file keeps S_ISGID.
        #expect(try box.hostStat("f").mode & 0o7777 == 0o2700)
    }

    @Test func writeOutsideTheFilesGroupDropsSetGroupIDWithoutGroupExecute() throws {
        let box = try HostSandbox()
        try box.context.writeFile("/f", contents: [])
        try box.context.changeMode("/f", 0o2666)
        box.context.credentials = .user(1000, gid: 1000, groups: [2000])
        let file = try box.context.open("/f", flags: OpenOptions.writeOnly)
        _ = try [UInt8(1)].withUnsafeBytes { (raw) throws(Errno) -> Int in
            try file.write(from: raw, credentials: box.context.credentials)
        }
        // Linux 6.18 on tmpfs: uid 1000, not in group 0, writing root's 02666 file drops it.
        #expect(try box.hostStat("f").mode & 0o7777 == 0o666)
    }

    @Test func trustedXattrsAreHiddenFromUnprivilegedCallers() throws {
        let box = try HostSandbox()
        try box.context.writeFile("/f", contents: [], mode: 0o666)
        try box.vfs.setExtendedAttribute(
            .root, box.context.operation("/f"), name: Array("trusted.t".utf8), value: [1], flags: 0)
        try box.vfs.setExtendedAttribute(
            .root, box.context.operation("/f"), name: Array("user.u".utf8), value: [1], flags: 0)
        box.context.credentials = .user(1000, gid: 1000)
        let names = try box.vfs.listExtendedAttributes(
            box.context.credentials, box.context.operation("/f"))
        #expect(names == [Array("user.u".utf8)])
    }

    @Test func sameSizeTruncateStripsSetIDWithoutStampingCtime() throws {
        let box = try userSandbox()
        try box.context.writeFile("/a", contents: [], mode: 0o6777)
        let before = try box.hostStat("a")
        #expect(before.mode & 0o7777 == 0o6755)
        try box.context.truncate("/a", size: 0)
        let after = try box.hostStat("a")
        // Linux 6.18: uid 1000's truncate(a, 0) of its empty 06755 file gives 0755, same ctime.
        #expect(after.mode & 0o7777 == 0o755)
        #expect(after.changeTime == before.changeTime)
    }
}

import Foundation
import HostBackend
import HostSyscalls
import Testing
import VFSCore

/// rename's checks come in `do_renameat2`'s and `vfs_rename`'s order for an unprivileged
/// caller too, where the host (root) would answer later or not at all. Expected values are
/// Linux 6.18 on tmpfs, run with python's os module on /dev/shm as uid 1000.
@Suite struct HostRenameTests {
    /// `/t` (0777) holding root's `/t/a/b` (0755 each); the caller is uid 1000.
    private func tree() throws -> HostSandbox {
        let box = try HostSandbox()
        try box.context.makeDirectory("/t")
        try box.context.changeMode("/t", 0o777)
        try box.context.makeDirectory("/t/a", mode: 0o755)
        try box.context.makeDirectory("/t/a/b", mode: 0o755)
        box.context.credentials = .user(1000, gid: 1000)
        return box
    }

    @Test func movingADirectoryBeneathItselfIsEINVALBeforeEACCES() throws {
        let box = try tree()
        // Linux 6.18: EINVAL (the source is lock_rename's trap), though /t/a/b is not writable.
        #expect(throws: Errno.invalidArgument) { try box.context.rename("/t/a", to: "/t/a/b/c") }
        #expect(throws: Errno.invalidArgument) {
            try box.context.rename("/t/a", to: "/t/a/b/c", flags: .noReplace)
        }
    }

    @Test func replacingAnAncestorIsENOTEMPTYBeforeEACCES() throws {
        let box = try tree()
        // Linux 6.18: ENOTEMPTY (the target is the trap), though /t/a is not writable.
        #expect(throws: Errno.directoryNotEmpty) { try box.context.rename("/t/a/b", to: "/t/a") }
    }

    @Test func exchangingWithAnAncestorIsEINVALBeforeEACCES() throws {
        let box = try tree()
        // Linux 6.18: EINVAL for RENAME_EXCHANGE with the trap as target.
        #expect(throws: Errno.invalidArgument) {
            try box.context.rename("/t/a/b", to: "/t/a", flags: .exchange)
        }
    }

    @Test func renamingIntoARemovedDirectoryIsENOENTBeforeEACCES() throws {
        let box = try tree()
        box.context.credentials = .root
        try box.context.writeFile("/t/f", contents: [], mode: 0o666)
        try box.context.makeDirectory("/t/gone", mode: 0o755)
        try box.context.changeDirectory("/t/gone")
        try box.context.removeDirectory("/t/gone")
        box.context.credentials = .user(1000, gid: 1000)
        // Linux 6.18: ENOENT (may_create on a dead directory), though it was not writable.
        #expect(throws: Errno.noSuchFileOrDirectory) { try box.context.rename("/t/f", to: "x") }
    }

    @Test func whiteoutBelongsToTheCaller() throws {
        let box = try tree()
        try box.context.writeFile("/t/f", contents: [])
        try box.context.rename("/t/f", to: "/t/g", flags: .whiteout)
        // Linux 6.18 on tmpfs: a 0:0 character device, mode 0, owned by 1000:1000.
        let st = try box.hostStat("t/f")
        #expect(st.mode == FileType.characterDevice.rawValue)
        #expect(st.uid == 1000 && st.gid == 1000)
    }
}

import Foundation
import Glibc
import GoferServer
import LISAFS
import SystemPackage
import Testing

/// A client must not reach anything outside the served directory: names are single
/// components, symlinks on the host are never followed, and an fd the server holds keeps
/// naming the file it was opened on even if the host swaps a symlink in afterwards.
@Suite struct EscapeTests {
    /// A served directory `root/` inside a scratch directory that also holds `outside`.
    static func setUp() throws -> (ScratchTree, GoferHarness, FDID) {
        let tree = try ScratchTree()
        try tree.write("outside", "secret\n")
        try tree.mkdir("root")
        try tree.write("root/file", "inside\n")
        try tree.mkdir("root/dir")
        let harness = try GoferHarness(root: tree.url("root"))
        let root = try harness.mount().root.controlFD
        return (tree, harness, root)
    }

    @Test(arguments: ["..", ".", "", "/", "dir/..", "../outside", "/etc", "a\u{0}b"])
    func walkRefusesANameThatIsNotOneComponent(name: String) throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        #expect(throws: Errno.invalidArgument) { try harness.walk(root, [name]) }
        #expect(throws: Errno.invalidArgument) { try harness.walk(root, ["dir", name]) }
    }

    @Test func aRefusedWalkLeavesNoFDsBehind() throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        #expect(throws: Errno.invalidArgument) { try harness.walk(root, ["dir", ".."]) }
        // FDIDs are never reused: the refused walk's "dir" FD (2) is gone, the next is 3.
        let next = try harness.walk(root, ["dir"])
        #expect(next.inodes.map(\.controlFD) == [FDID(3)])
        #expect(throws: Errno.badFileDescriptor) { try harness.call(FStatRequest(fd: 2)) }
    }

    @Test(arguments: ["..", "/etc/passwd", "x/y", ""])
    func creatingMessagesRefuseBadNames(name: String) throws {
        let (tree, harness, root) = try Self.setUp()
        let sized = SizedString(name)
        #expect(throws: Errno.invalidArgument) {
            try harness.call(MkdirAtRequest(dirFD: root, name: sized, mode: 0o40755, uid: 0, gid: 0))
        }
        #expect(throws: Errno.invalidArgument) {
            try harness.call(OpenCreateAtRequest(dirFD: root, name: sized, flags: 2, mode: 0o100644, uid: 0, gid: 0))
        }
        #expect(throws: Errno.invalidArgument) {
            try harness.call(SymlinkAtRequest(dirFD: root, name: sized, target: "/", uid: 0, gid: 0))
        }
        #expect(throws: Errno.invalidArgument) {
            try harness.call(UnlinkAtRequest(dirFD: root, name: sized, flags: 0))
        }
        #expect(throws: Errno.invalidArgument) {
            try harness.call(RenameAtRequest(oldDir: root, oldName: "file", newDir: root, newName: sized))
        }
        #expect(tree.read("outside") == "secret\n")
        #expect(tree.read("root/file") == "inside\n")
    }

    @Test func aSymlinkToTheHostRootStopsTheWalk() throws {
        let (tree, harness, root) = try Self.setUp()
        try tree.symlink("root/escape", to: "/")
        let response = try harness.walk(root, ["escape", "etc", "passwd"])
        #expect(response.status == .componentSymlink)
        #expect(response.inodes.count == 1)
        #expect(response.inodes[0].stat.mode & 0o170000 == 0o120000)
        // The symlink's control FD cannot be opened, nor walked from.
        let link = response.inodes[0].controlFD
        #expect(throws: Errno.invalidArgument) { try harness.call(OpenAtRequest(fd: link, flags: 0)) }
        #expect(throws: Errno.notDirectory) { try harness.walk(link, ["etc"]) }
        #expect(try harness.call(ReadLinkAtRequest(fd: link)).response.target == "/")
    }

    @Test func aSymlinkToAFileOutsideIsNotFollowedByWalkStat() throws {
        let (tree, harness, root) = try Self.setUp()
        try tree.symlink("root/out", to: "../outside")
        let stats = try harness.call(WalkStatRequest(dirFD: root, path: ["out", "x"])).response.stats
        #expect(stats.count == 1)
        #expect(stats[0].mode & 0o170000 == 0o120000)
    }

    @Test func aSymlinkSwappedInAfterTheWalkIsNotFollowedByOpen() throws {
        let (tree, harness, root) = try Self.setUp()
        let file = try #require(harness.walk(root, ["file"]).inodes.first).controlFD
        // The host replaces "file" with a symlink to a file outside the served tree.
        try FileManager.default.removeItem(atPath: tree.url("root/file"))
        try tree.symlink("root/file", to: tree.url("outside"))
        let opened = try harness.call(OpenAtRequest(fd: file, flags: 0))
        let openFD = opened.response.openFD
        let data = try harness.call(PReadRequest(fd: openFD, offset: 0, count: 64)).response.data
        // The control FD still names the original (now unlinked) file, never the new target.
        #expect(String(decoding: data, as: UTF8.self) == "inside\n")
        #expect(opened.fds.count == 1)
    }

    @Test func aDirectorySwappedForASymlinkKeepsWalkingTheOriginalDirectory() throws {
        let (tree, harness, root) = try Self.setUp()
        let dir = try #require(harness.walk(root, ["dir"]).inodes.first).controlFD
        try tree.write("root/dir/inner", "x")
        // The host moves the directory away and puts a symlink to "/" in its place.
        guard rename(tree.url("root/dir"), tree.url("root/moved")) == 0 else { throw Errno(rawValue: errno) }
        try tree.symlink("root/dir", to: "/")
        let etc = try harness.walk(dir, ["etc"])
        #expect(etc.status == .componentDoesNotExist)
        #expect(etc.inodes.isEmpty)
        #expect(try harness.walk(dir, ["inner"]).inodes.count == 1)
        // Walking by name from the root now stops at the symlink.
        #expect(try harness.walk(root, ["dir", "etc"]).status == .componentSymlink)
    }

    @Test func aHardLinkCannotBeMadeToADirectory() throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        let dir = try #require(harness.walk(root, ["dir"]).inodes.first).controlFD
        #expect(throws: Errno.notPermitted) { try harness.call(LinkAtRequest(dirFD: root, target: dir, name: "alias")) }
    }

    @Test func mknodMakesRegularFilesOnly() throws {
        let (tree, harness, root) = try Self.setUp()
        for mode: UInt16 in [0o020644, 0o060644, 0o010644, 0o140644] {
            #expect(throws: Errno.notPermitted) {
                try harness.call(MknodAtRequest(dirFD: root, name: "node", mode: mode, uid: 0, gid: 0, minor: 1, major: 1))
            }
        }
        #expect(!tree.exists("root/node"))
        let made = try harness.call(MknodAtRequest(dirFD: root, name: "node", mode: 0o100600, uid: 0, gid: 0))
        #expect(made.response.child.stat.mode == 0o100600)
    }
}

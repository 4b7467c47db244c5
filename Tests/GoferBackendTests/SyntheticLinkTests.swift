import Foundation
import GoferBackend
import LISAFS
import Testing
import VFSCore

#if canImport(Glibc)
    import Glibc
#endif

/// link(2) of a synthetic FIFO or socket (one mknod made in the client, see
/// `GoferFilesystem`'s "Synthetic files"): as on Linux's tmpfs, the new name is the same inode.
/// Kernel facts were checked with python3 on /dev/shm (Linux 6.18 tmpfs).
@Suite struct SyntheticLinkTests {
    /// A synthetic FIFO made as /p (with `mode`) and linked as /q on a fresh gofer mount.
    static func fifoWithTwoNames(mode: UInt32) throws -> (GoferFixture, FSContext) {
        let fixture = try GoferFixture()
        try fixture.context.makeNode("/p", mode: UInt32(S_IFIFO) | mode)
        try fixture.context.makeLink(existing: "/p", new: "/q")
        return (fixture, fixture.context)
    }

    private func write(_ file: FileDescription, _ text: String, _ context: FSContext) throws -> Int {
        try Array(text.utf8).withUnsafeBytes { (bytes) throws(Errno) -> Int in
            try file.write(from: bytes, credentials: context.credentials)
        }
    }

    private func read(_ file: FileDescription, count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let got = try buffer.withUnsafeMutableBytes { (bytes) throws(Errno) -> Int in
            try file.read(into: bytes)
        }
        return Array(buffer[..<got])
    }

    @Test func linkOfASyntheticFifoNamesTheSameInode() throws {
        // Linux 6.18 on tmpfs: both names show nlink 2 and the same st_ino.
        let (fixture, context) = try Self.fifoWithTwoNames(mode: 0o644)
        let p = try context.stat("/p")
        let q = try context.stat("/q")
        #expect(p.nlink == 2)
        #expect(q.nlink == 2)
        #expect(p.inode == q.inode)
        #expect(q.mode.type == .fifo)
        #expect(q.mode.permissions == 0o644)
        #expect(try context.listDirectory("/").sorted() == ["p", "q"])
        // Neither name reaches the host.
        #expect(access(fixture.scratch.host("q"), F_OK) != 0)
        #expect(fixture.filesystem.rpcCount(.linkAt) == 0)
    }

    @Test func linkOfASyntheticSocketNamesTheSameInode() throws {
        // Linux 6.18 on tmpfs: link of a bound socket's file gives nlink 2.
        let fixture = try GoferFixture()
        try fixture.context.makeNode("/s", mode: UInt32(S_IFSOCK) | 0o755)
        try fixture.context.makeLink(existing: "/s", new: "/t")
        let t = try fixture.context.stat("/t")
        #expect(t.mode.type == .socket)
        #expect(t.nlink == 2)
        #expect(t.inode == (try fixture.context.stat("/s")).inode)
    }

    @Test func linkStampsTheFileCtimeAndTheDirectoryTimes() throws {
        // Linux 6.18 on tmpfs: link moves the file's ctime (not its mtime or atime) and the
        // directory's mtime and ctime; the directory grows by 20 bytes (one more entry).
        let fixture = try GoferFixture()
        let context = fixture.context
        try context.makeDirectory("/d", mode: 0o755)
        try context.makeNode("/p", mode: UInt32(S_IFIFO) | 0o644)
        let fileBefore = try context.stat("/p")
        let directoryBefore = try context.stat("/d")
        usleep(20_000)
        try context.makeLink(existing: "/p", new: "/d/q")
        let file = try context.stat("/d/q")
        let directory = try context.stat("/d")
        #expect(file.changeTime > fileBefore.changeTime)
        #expect(file.modificationTime == fileBefore.modificationTime)
        #expect(file.accessTime == fileBefore.accessTime)
        #expect(directory.modificationTime > directoryBefore.modificationTime)
        #expect(directory.changeTime > directoryBefore.changeTime)
        #expect(directory.size == directoryBefore.size + 20)
    }

    @Test func bytesWrittenThroughOneNameAreReadThroughTheOther() throws {
        let (fixture, context) = try Self.fifoWithTwoNames(mode: 0o666)
        defer { withExtendedLifetime(fixture) {} }  // it owns the gofer
        let reader = try context.open("/p", flags: OpenOptions.readOnly | OpenOptions.nonBlocking)
        let writer = try context.open("/q", flags: OpenOptions.writeOnly | OpenOptions.nonBlocking)
        #expect(try write(writer, "through", context) == 7)
        #expect(try read(reader, count: 16) == Array("through".utf8))
    }

    @Test func unlinkingOneNameLeavesTheOther() throws {
        // Linux 6.18 on tmpfs: the other name stays, with nlink 1 and a new ctime.
        let (fixture, context) = try Self.fifoWithTwoNames(mode: 0o666)
        defer { withExtendedLifetime(fixture) {} }  // it owns the gofer
        let before = try context.stat("/q")
        usleep(20_000)
        try context.unlink("/p")
        let after = try context.stat("/q")
        #expect(after.nlink == 1)
        #expect(after.changeTime > before.changeTime)
        #expect(throws: Errno.noSuchFileOrDirectory) { try context.stat("/p") }
        #expect(try context.listDirectory("/") == ["q"])
        try context.unlink("/q")
        #expect(try context.listDirectory("/") == [])
    }

    @Test func aFifoOpenThroughAnUnlinkedNameStillReachesTheOther() throws {
        let (fixture, context) = try Self.fifoWithTwoNames(mode: 0o666)
        defer { withExtendedLifetime(fixture) {} }  // it owns the gofer
        let reader = try context.open("/p", flags: OpenOptions.readOnly | OpenOptions.nonBlocking)
        try context.unlink("/p")
        let writer = try context.open("/q", flags: OpenOptions.writeOnly | OpenOptions.nonBlocking)
        #expect(try write(writer, "still", context) == 5)
        #expect(try read(reader, count: 8) == Array("still".utf8))
    }

    @Test func changesThroughOneNameShowThroughTheOther() throws {
        // Linux 6.18 on tmpfs: chmod and setxattr of one link are seen through the other.
        let (fixture, context) = try Self.fifoWithTwoNames(mode: 0o644)
        try context.changeMode("/q", 0o600)
        #expect(try context.stat("/p").mode.permissions == 0o600)
        let q = try fixture.vfs.getDentry(context.credentials, context.operation("/q"))
        let p = try fixture.vfs.getDentry(context.credentials, context.operation("/p"))
        let name = Array("trusted.k".utf8)
        try fixture.filesystem.setExtendedAttribute(
            q.dentry, name: name, value: [1], flags: 0, credentials: context.credentials)
        #expect(
            try fixture.filesystem.getExtendedAttribute(
                p.dentry, name: name, credentials: context.credentials) == [1])
    }

    @Test func renameOntoAnotherNameOfTheSameInodeDoesNothing() throws {
        // Linux 6.18 on tmpfs: rename of d/x onto p (the same inode) succeeds and leaves both.
        let fixture = try GoferFixture()
        let context = fixture.context
        try context.makeDirectory("/d", mode: 0o755)
        try context.makeNode("/p", mode: UInt32(S_IFIFO) | 0o644)
        try context.makeLink(existing: "/p", new: "/d/x")
        try context.rename("/d/x", to: "/p")
        #expect(try context.listDirectory("/d") == ["x"])
        #expect(try context.stat("/p").nlink == 2)
    }

    @Test func renameOverOneNameDropsOneLink() throws {
        // Linux 6.18 on tmpfs: a regular file renamed over q leaves p with nlink 1 and a new
        // ctime; q is the regular file.
        let (fixture, context) = try Self.fifoWithTwoNames(mode: 0o644)
        defer { withExtendedLifetime(fixture) {} }  // it owns the gofer
        try context.writeFile("/f", contents: [1])
        let before = try context.stat("/p")
        usleep(20_000)
        try context.rename("/f", to: "/q")
        let after = try context.stat("/p")
        #expect(after.nlink == 1)
        #expect(after.changeTime > before.changeTime)
        #expect(try context.stat("/q").mode.type == .regular)
        #expect(try context.readFile("/q") == [1])
    }

    @Test func exchangeMovesOneNameOfALinkedFifo() throws {
        // Linux 6.18 on tmpfs: RENAME_EXCHANGE of a linked FIFO's name r with a regular file h
        // makes h the FIFO (nlink 2, with p) and r the regular file.
        let fixture = try GoferFixture()
        let context = fixture.context
        try context.makeNode("/p", mode: UInt32(S_IFIFO) | 0o644)
        try context.makeLink(existing: "/p", new: "/r")
        try context.writeFile("/h", contents: [7])
        try context.rename("/r", to: "/h", flags: .exchange)
        let h = try context.stat("/h")
        #expect(h.mode.type == .fifo)
        #expect(h.nlink == 2)
        #expect(h.inode == (try context.stat("/p")).inode)
        #expect(try context.readFile("/r") == [7])
    }

    @Test func linkOntoAnExistingNameIsEEXIST() throws {
        let fixture = try GoferFixture()
        try fixture.context.makeNode("/p", mode: UInt32(S_IFIFO) | 0o644)
        try fixture.context.writeFile("/f", contents: [])
        #expect(throws: Errno.fileExists) { try fixture.context.makeLink(existing: "/p", new: "/f") }
        #expect(throws: Errno.fileExists) { try fixture.context.makeLink(existing: "/f", new: "/p") }
        #expect(try fixture.context.stat("/p").nlink == 1)
    }

    @Test func linkIntoAnotherMountIsEXDEV() throws {
        // Linux 6.18: link across two mounts, even bind mounts of one tmpfs, is EXDEV.
        let fixture = try GoferFixture()
        let context = fixture.context
        try context.makeDirectory("/d", mode: 0o755)
        try context.makeDirectory("/m", mode: 0o755)
        try context.makeNode("/d/p", mode: UInt32(S_IFIFO) | 0o644)
        _ = try context.bindMount("/d", at: "/m")
        #expect(throws: Errno.improperLink) { try context.makeLink(existing: "/d/p", new: "/m/q") }
        #expect(throws: Errno.improperLink) { try context.makeLink(existing: "/m/p", new: "/d/q") }
        #expect(try context.stat("/d/p").nlink == 1)
    }

    @Test func linkAsAnotherUserFollowsProtectedHardlinks() throws {
        // fs.protected_hardlinks = 1 (Linux 6.18): a user may not link a FIFO it does not own
        // (only regular files it could read and write): EPERM.
        let scratch = try HostScratch()
        chmod(scratch.path, 0o777)
        let fixture = try GoferFixture(scratch: scratch)
        try fixture.context.makeNode("/p", mode: UInt32(S_IFIFO) | 0o666)
        let user = fixture.context.copy()
        user.credentials = .user(1000, gid: 1000, groups: [])
        #expect(throws: Errno.notPermitted) { try user.makeLink(existing: "/p", new: "/q") }
        try user.makeNode("/mine", mode: UInt32(S_IFIFO) | 0o600)
        try user.makeLink(existing: "/mine", new: "/also")
        #expect(try user.stat("/also").uid == 1000)
    }
}

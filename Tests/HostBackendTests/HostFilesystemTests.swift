import Foundation
import HostBackend
import HostSyscalls
import Testing
import VFSCore

/// Path operations through a host-backed root reach the real directory, with host errnos.
@Suite struct HostFilesystemTests {
    @Test func makeDirectoryAndWriteFileLandOnTheHost() throws {
        let box = try HostSandbox()
        try box.context.makeDirectory("/a", mode: 0o755)
        try box.context.writeFile("/a/f", contents: Array("hi".utf8))
        #expect(box.hostContents("a/f") == "hi")
        #expect(try box.hostStat("a").isDirectory)
        #expect(try box.context.readFile("/a/f") == Array("hi".utf8))
    }

    @Test func filesMadeOnTheHostAreSeen() throws {
        let box = try HostSandbox()
        FileManager.default.createFile(atPath: box.host("g"), contents: Data("abc".utf8))
        #expect(try box.context.stat("/g").size == 3)
        #expect(try box.context.listDirectory("/").contains("g"))
    }

    @Test func modeIsExactlyTheRequestedOneRegardlessOfTheHostUmask() throws {
        let box = try HostSandbox()
        box.context.umask = 0
        try box.context.makeDirectory("/d", mode: 0o777)
        try box.context.writeFile("/f", contents: [], mode: 0o666)
        #expect(try box.hostStat("d").mode & 0o7777 == 0o777)
        #expect(try box.hostStat("f").mode & 0o7777 == 0o666)
    }

    @Test func existingNameIsEEXISTAndMissingParentENOENT() throws {
        let box = try HostSandbox()
        try box.context.makeDirectory("/d")
        #expect(throws: Errno.fileExists) { try box.context.makeDirectory("/d") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try box.context.makeDirectory("/x/y") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try box.context.stat("/nope") }
    }

    @Test func relativeSymlinksAreFollowedInsideTheRoot() throws {
        let box = try HostSandbox()
        try box.context.makeDirectory("/a")
        try box.context.writeFile("/a/f", contents: [7])
        try box.context.makeSymlink(target: "a/f", at: "/l")
        #expect(try box.context.readFile("/l") == [7])
        #expect(try box.context.readSymlink("/l") == "a/f")
        #expect(try box.context.stat("/l", followSymlink: false).mode.isSymlink)
    }

    @Test func absoluteSymlinksRestartAtTheSandboxRoot() throws {
        let box = try HostSandbox()
        try box.context.writeFile("/target", contents: [1])
        try box.context.makeSymlink(target: "/target", at: "/abs")
        #expect(try box.context.readFile("/abs") == [1])
    }

    @Test func unlinkAndRemoveDirectoryRemoveOnTheHost() throws {
        let box = try HostSandbox()
        try box.context.makeDirectory("/d")
        try box.context.writeFile("/d/f", contents: [])
        #expect(throws: Errno.directoryNotEmpty) { try box.context.removeDirectory("/d") }
        try box.context.unlink("/d/f")
        try box.context.removeDirectory("/d")
        #expect(!FileManager.default.fileExists(atPath: box.host("d")))
    }

    @Test func renameMovesTheEntryAndTheCacheFollows() throws {
        let box = try HostSandbox()
        try box.context.makeDirectory("/a")
        try box.context.makeDirectory("/b")
        try box.context.writeFile("/a/f", contents: [5])
        try box.context.rename("/a/f", to: "/b/g")
        #expect(box.hostContents("b/g") == "\u{5}")
        #expect(throws: Errno.noSuchFileOrDirectory) { try box.context.stat("/a/f") }
        #expect(try box.context.readFile("/b/g") == [5])
    }

    @Test func renameExchangeSwapsBothNames() throws {
        let box = try HostSandbox()
        try box.context.writeFile("/x", contents: [1])
        try box.context.makeDirectory("/y")
        try box.context.rename("/x", to: "/y", flags: .exchange)
        #expect(try box.context.stat("/x").mode.isDirectory)
        #expect(try box.context.readFile("/y") == [1])
    }

    @Test func hardLinkSharesTheInode() throws {
        let box = try HostSandbox()
        try box.context.writeFile("/f", contents: [1, 2])
        try box.context.makeLink(existing: "/f", new: "/g")
        #expect(try box.context.stat("/f").nlink == 2)
        #expect(try box.hostStat("f").inode == box.hostStat("g").inode)
    }

    @Test func appendWritesGoToTheEnd() throws {
        let box = try HostSandbox()
        try box.context.writeFile("/f", contents: [1, 2, 3])
        let file = try box.context.open("/f", flags: OpenOptions.writeOnly | OpenOptions.append)
        _ = try [UInt8(9)].withUnsafeBytes { (raw) throws(Errno) -> Int in
            try file.write(from: raw, credentials: .root)
        }
        #expect(file.offset == 4)
        #expect(try box.context.readFile("/f") == [1, 2, 3, 9])
    }

    @Test func truncateAndChmodAndTimesApplyOnTheHost() throws {
        let box = try HostSandbox()
        try box.context.writeFile("/f", contents: [1, 2, 3])
        try box.context.truncate("/f", size: 1)
        try box.context.changeMode("/f", 0o600)
        try box.context.setTimes(
            "/f", access: .set(Timespec(seconds: 10, nanoseconds: 0)),
            modification: .set(Timespec(seconds: 20, nanoseconds: 5)))
        let st = try box.hostStat("f")
        #expect(st.size == 1)
        #expect(st.mode & 0o7777 == 0o600)
        #expect(st.modificationTime == HostTimestamp(seconds: 20, nanoseconds: 5))
        #expect(st.accessTime.seconds == 10)
    }

    @Test func directoryListingComesFromGetdents() throws {
        let box = try HostSandbox()
        for name in ["a", "b", "c"] { try box.context.writeFile("/" + name, contents: []) }
        try box.context.makeDirectory("/sub")
        #expect(Set(try box.context.listDirectory("/")) == ["a", "b", "c", "sub"])
    }

    @Test func xattrsRoundTripThroughProcFdPaths() throws {
        let box = try HostSandbox()
        try box.context.writeFile("/f", contents: [])
        try box.vfs.setExtendedAttribute(
            .root, box.context.operation("/f"), name: Array("user.k".utf8), value: [4, 2], flags: 0)
        #expect(
            try box.vfs.getExtendedAttribute(
                .root, box.context.operation("/f"), name: Array("user.k".utf8)) == [4, 2])
        #expect(
            try box.vfs.listExtendedAttributes(.root, box.context.operation("/f")) == [
                Array("user.k".utf8)
            ])
    }

    @Test func statfsReportsTheHostFilesystem() throws {
        let box = try HostSandbox()
        let st = try box.vfs.statFilesystem(.root, box.context.operation("/"))
        #expect(st.type == 0x0102_1994)  // /dev/shm is tmpfs
    }

    @Test func temporaryFileCanBeLinkedIn() throws {
        let box = try HostSandbox()
        let file = try box.context.open(
            "/", flags: OpenOptions.temporaryFile | OpenOptions.readWrite, mode: 0o600)
        _ = try [UInt8(1)].withUnsafeBytes { (raw) throws(Errno) -> Int in
            try file.write(from: raw, credentials: .root)
        }
        var existing = PathOperation(
            root: box.context.root, start: file.location, path: [], followFinalSymlink: false)
        existing.allowEmptyPath = true
        try box.vfs.makeLink(.root, existing: existing, new: box.context.operation("/named"))
        #expect(box.hostContents("named") == "\u{1}")
    }

    @Test func openingADeviceNodeIsENXIO() throws {
        let box = try HostSandbox()
        try box.context.makeNode(
            "/null", mode: FileType.characterDevice.rawValue | 0o666, device: 0x103)
        #expect(throws: Errno.noSuchAddressOrDevice) {
            try box.context.open("/null", flags: OpenOptions.readOnly)
        }
    }

    @Test func hostFifoConnectsSandboxReadersAndWriters() throws {
        let box = try HostSandbox()
        try box.context.makeNode("/p", mode: FileType.fifo.rawValue | 0o644)
        #expect(try box.hostStat("p").fileTypeBits == FileType.fifo.rawValue)
        let reader = try box.context.open(
            "/p", flags: OpenOptions.readOnly | OpenOptions.nonBlocking)
        let writer = try box.context.open(
            "/p", flags: OpenOptions.writeOnly | OpenOptions.nonBlocking)
        _ = try [UInt8(7), 8].withUnsafeBytes { (raw) throws(Errno) -> Int in
            try writer.write(from: raw, credentials: .root)
        }
        var buffer = [UInt8](repeating: 0, count: 4)
        let count = try buffer.withUnsafeMutableBytes { (raw) throws(Errno) -> Int in
            try reader.read(into: raw)
        }
        #expect(Array(buffer[..<count]) == [7, 8])
        #expect(writer.impl.pipeEnd != nil)
    }

    @Test func tooLongNameInARemovedDirectoryIsENOENT() throws {
        let box = try HostSandbox()
        try box.context.makeDirectory("/d")
        try box.context.changeDirectory("/d")
        try box.context.removeDirectory("/d")
        // Linux 6.18: ENOENT, the dead directory's lookup failing before the length check.
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try box.context.stat(String(repeating: "n", count: 300) + "/b")
        }
    }
}

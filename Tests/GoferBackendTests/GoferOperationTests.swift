import Foundation
import GoferBackend
import LISAFS
import Testing
import VFSCore

#if canImport(Glibc)
    import Glibc
#endif

/// Each FilesystemImpl operation through the real gofer, checked on the host directory.
@Suite struct GoferOperationTests {
    @Test func writesReachTheHostThroughTheDonatedFD() throws {
        let fixture = try GoferFixture()
        try fixture.context.writeFile("/f", contents: Array("hello".utf8))
        #expect(try String(contentsOfFile: fixture.scratch.host("f"), encoding: .utf8) == "hello")
        #expect(fixture.filesystem.rpcCount(.pWrite) == 0)
        #expect(try fixture.context.readFile("/f") == Array("hello".utf8))
        #expect(fixture.filesystem.rpcCount(.pRead) == 0)
    }

    @Test func withoutADonatedFDReadsAndWritesArePReadAndPWrite() throws {
        let fixture = try GoferFixture(options: GoferOptions(ignoreDonatedFDs: true))
        try fixture.context.writeFile("/f", contents: Array("hello".utf8))
        #expect(try fixture.context.readFile("/f") == Array("hello".utf8))
        #expect(fixture.filesystem.rpcCount(.pWrite) >= 1)
        #expect(fixture.filesystem.rpcCount(.pRead) >= 1)
        #expect(try String(contentsOfFile: fixture.scratch.host("f"), encoding: .utf8) == "hello")
    }

    @Test func appendWithoutADonatedFDWritesAtTheEnd() throws {
        let fixture = try GoferFixture(options: GoferOptions(ignoreDonatedFDs: true))
        try fixture.context.writeFile("/f", contents: Array("ab".utf8))
        let file = try fixture.context.open("/f", flags: OpenOptions.writeOnly | OpenOptions.append)
        _ = try Array("cd".utf8).withUnsafeBytes { (b) throws(Errno) -> Int in
            try file.write(from: b, credentials: fixture.context.credentials)
        }
        #expect(try fixture.context.readFile("/f") == Array("abcd".utf8))
    }

    @Test func directoriesListWithDotAndDotDot() throws {
        let scratch = try HostScratch()
        scratch.mkdir("d")
        scratch.write("d/x", "1")
        scratch.mkdir("d/y")
        let fixture = try GoferFixture(scratch: scratch)
        #expect(try fixture.context.listDirectory("/d").sorted() == ["x", "y"])
        let directory = try fixture.context.open("/d", flags: OpenOptions.readOnly)
        var all: [String] = []
        try directory.readDirectory { entry in
            all.append(entry.name.description)
            return true
        }
        #expect(all.sorted() == [".", "..", "x", "y"])
        #expect(fixture.filesystem.rpcCount(.getdents64) >= 1)
    }

    @Test func makeDirectoryGivesTheExactModeDespiteTheHostUmask() throws {
        let fixture = try GoferFixture()
        try fixture.context.makeDirectory("/d", mode: 0o777)
        // FSContext applies its umask (022); the gofer's own umask does not matter.
        #expect(try fixture.context.stat("/d").mode.permissions == 0o755)
        var st = stat()
        #expect(lstat(fixture.scratch.host("d"), &st) == 0)
        #expect(st.st_mode & 0o7777 == 0o755)
    }

    @Test func relativeSymlinksAreSplicedAndAbsoluteOnesRestartAtTheRoot() throws {
        let scratch = try HostScratch()
        scratch.mkdir("d")
        scratch.write("d/target", "abc")
        #expect(symlink("target", scratch.host("d/rel")) == 0)
        #expect(symlink("/d/target", scratch.host("abs")) == 0)
        let fixture = try GoferFixture(scratch: scratch)
        #expect(try fixture.context.stat("/d/rel").size == 3)
        // The absolute target is the sandbox's /d/target, not the host's.
        #expect(try fixture.context.stat("/abs").size == 3)
        #expect(try fixture.context.readSymlink("/abs") == "/d/target")
        #expect(fixture.filesystem.rpcCount(.readLinkAt) == 2)
    }

    @Test func aSymlinkToTheHostRootStaysInside() throws {
        let scratch = try HostScratch()
        #expect(symlink("/", scratch.host("up")) == 0)
        #expect(symlink("../../../../etc", scratch.host("escape")) == 0)
        let fixture = try GoferFixture(scratch: scratch)
        // Both name the sandbox's root: there is no /etc/passwd in it.
        #expect(throws: Errno.noSuchFileOrDirectory) { try fixture.context.stat("/up/etc/passwd") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try fixture.context.stat("/escape/passwd") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try fixture.context.stat("/../../etc/passwd") }
    }

    @Test func walkingThroughAFileIsENOTDIR() throws {
        let scratch = try HostScratch()
        scratch.write("f", "x")
        let fixture = try GoferFixture(scratch: scratch)
        #expect(throws: Errno.notDirectory) { try fixture.context.stat("/f/x/y") }
    }

    @Test func renameAndUnlinkFollowTheCache() throws {
        let fixture = try GoferFixture()
        try fixture.context.makeDirectory("/a")
        try fixture.context.writeFile("/a/f", contents: [1, 2])
        try fixture.context.rename("/a/f", to: "/g")
        #expect(throws: Errno.noSuchFileOrDirectory) { try fixture.context.stat("/a/f") }
        #expect(try fixture.context.stat("/g").size == 2)
        #expect(access(fixture.scratch.host("g"), F_OK) == 0)
        try fixture.context.unlink("/g")
        #expect(throws: Errno.noSuchFileOrDirectory) { try fixture.context.stat("/g") }
        #expect(access(fixture.scratch.host("g"), F_OK) != 0)
        try fixture.context.removeDirectory("/a")
        #expect(access(fixture.scratch.host("a"), F_OK) != 0)
        #expect(fixture.filesystem.rpcCount(.renameAt) == 1)
    }

    @Test func renameNoReplaceIsRenameAt2() throws {
        let fixture = try GoferFixture()
        try fixture.context.writeFile("/a", contents: [1])
        try fixture.context.writeFile("/b", contents: [2])
        #expect(throws: Errno.fileExists) { try fixture.context.rename("/a", to: "/b", flags: .noReplace) }
        try fixture.context.rename("/a", to: "/c", flags: .noReplace)
        #expect(fixture.filesystem.rpcCount(.renameAt2) == 1)
    }

    @Test func removingANonEmptyDirectoryIsENOTEMPTYFromTheGofer() throws {
        let fixture = try GoferFixture()
        try fixture.context.makeDirectory("/d")
        try fixture.context.writeFile("/d/f", contents: [])
        #expect(throws: Errno.directoryNotEmpty) { try fixture.context.removeDirectory("/d") }
    }

    @Test func hardLinksShareTheInodeAndItsLinkCount() throws {
        let fixture = try GoferFixture()
        try fixture.context.writeFile("/f", contents: [1])
        #expect(try fixture.context.stat("/f").nlink == 1)
        try fixture.context.makeLink(existing: "/f", new: "/g")
        #expect(try fixture.context.stat("/f").nlink == 2)
        #expect(try fixture.context.stat("/g").inode == fixture.context.stat("/f").inode)
    }

    @Test func chmodChownAndTruncateAreOneSetStat() throws {
        let fixture = try GoferFixture()
        try fixture.context.writeFile("/f", contents: [1, 2, 3])
        fixture.filesystem.resetRPCCounts()
        try fixture.context.changeMode("/f", 0o600)
        try fixture.context.truncate("/f", size: 1)
        #expect(fixture.filesystem.rpcCount(.setStat) == 2)
        let stat = try fixture.context.stat("/f")
        #expect(stat.mode.permissions == 0o600)
        #expect(stat.size == 1)
    }

    @Test func extendedAttributesRoundTrip() throws {
        let fixture = try GoferFixture()
        try fixture.context.writeFile("/f", contents: [])
        let place = try fixture.vfs.getDentry(fixture.context.credentials, fixture.context.operation("/f"))
        let fs = fixture.filesystem
        let creds = fixture.context.credentials
        try fs.setExtendedAttribute(place.dentry, name: Array("user.k".utf8), value: Array("v".utf8), flags: 0, credentials: creds)
        #expect(try fs.getExtendedAttribute(place.dentry, name: Array("user.k".utf8), credentials: creds) == Array("v".utf8))
        #expect(try fs.listExtendedAttributes(place.dentry, credentials: creds) == [Array("user.k".utf8)])
        try fs.removeExtendedAttribute(place.dentry, name: Array("user.k".utf8), credentials: creds)
        #expect(throws: Errno.noData) {
            try fs.getExtendedAttribute(place.dentry, name: Array("user.k".utf8), credentials: creds)
        }
    }

    @Test func permissionsAreCheckedOnTheCachedAttributes() throws {
        let scratch = try HostScratch()
        chmod(scratch.path, 0o755)
        scratch.mkdir("private", mode: 0o700)
        scratch.write("private/f", "x")
        let fixture = try GoferFixture(scratch: scratch)
        fixture.context.credentials = .user(1000, gid: 1000, groups: [])
        #expect(throws: Errno.permissionDenied) { try fixture.context.stat("/private/f") }
        #expect(throws: Errno.permissionDenied) { try fixture.context.makeDirectory("/x") }
        // EEXIST comes before EACCES, as in Linux.
        #expect(throws: Errno.fileExists) { try fixture.context.makeDirectory("/private") }
    }

    @Test func statfsIsFStatFS() throws {
        let fixture = try GoferFixture()
        let place = try fixture.vfs.getDentry(fixture.context.credentials, fixture.context.operation("/"))
        let stat = try fixture.filesystem.statFilesystem(place.dentry)
        #expect(stat.type == 0x0102_1994)  // /dev/shm is tmpfs
        #expect(fixture.filesystem.rpcCount(.fStatFS) == 1)
    }

    @Test func fsyncAndFallocateAreRPCs() throws {
        let fixture = try GoferFixture()
        let file = try fixture.context.open("/f", flags: OpenOptions.create | OpenOptions.readWrite, mode: 0o644)
        try file.allocate(mode: [], offset: 0, length: 100, credentials: fixture.context.credentials)
        try file.sync(dataOnly: false)
        #expect(fixture.filesystem.rpcCount(.fAllocate) == 1)
        #expect(fixture.filesystem.rpcCount(.fSync) == 1)
        #expect(try fixture.context.stat("/f").size == 100)
    }

    @Test func temporaryFilesAreMadeUnnamed() throws {
        // (More in TemporaryFileTests, and against Linux in GoferDifferentialTests.)
        let fixture = try GoferFixture()
        let file = try fixture.context.open("/", flags: OpenOptions.temporaryFile | OpenOptions.readWrite, mode: 0o600)
        #expect(try file.stat().nlink == 0)
        #expect(try fixture.context.listDirectory("/").filter { $0 != "." && $0 != ".." } == [])
    }

    @Test func aFifoIsSyntheticAndNeverReachesTheHost() throws {
        let fixture = try GoferFixture()
        try fixture.context.makeDirectory("/d")
        try fixture.context.makeNode("/d/p", mode: 0o010644)
        #expect(try fixture.context.stat("/d/p").mode.type == .fifo)
        #expect(try fixture.context.listDirectory("/d") == ["p"])
        // Only the sandbox knows it: the host directory is empty, and so cannot be removed.
        #expect(access(fixture.scratch.host("d/p"), F_OK) != 0)
        #expect(throws: Errno.directoryNotEmpty) { try fixture.context.removeDirectory("/d") }
        #expect(throws: Errno.fileExists) { try fixture.context.makeDirectory("/d/p") }
        try fixture.context.rename("/d/p", to: "/q")
        #expect(try fixture.context.stat("/q").mode.type == .fifo)
        try fixture.context.unlink("/q")
        #expect(throws: Errno.noSuchFileOrDirectory) { try fixture.context.stat("/q") }
        try fixture.context.removeDirectory("/d")
    }

    @Test func aSharedModeFifoIsSyntheticTooAndNeedsNoRevalidation() throws {
        let fixture = try GoferFixture(options: GoferOptions(caching: .shared))
        try fixture.context.makeNode("/p", mode: 0o010644)
        fixture.filesystem.resetRPCCounts()
        #expect(try fixture.context.stat("/p").mode.type == .fifo)
        // Only the root is revalidated (one WalkStat of [""]); the FIFO is not on the host.
        #expect(fixture.filesystem.walkRPCCount <= 1)
        #expect(throws: Errno.notPermitted) { try fixture.context.makeNode("/dev", mode: 0o020644, device: 0x101) }
    }
}

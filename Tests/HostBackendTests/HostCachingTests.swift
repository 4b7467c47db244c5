import Foundation
import HostBackend
import HostSyscalls
import Testing
import VFSCore

/// Exclusive and shared caching, the bounded dentry cache, and read-only host file systems.
@Suite struct HostCachingTests {
    @Test func sharedModeSeesAFileReplacedOnTheHost() throws {
        let box = try HostSandbox(options: HostOptions(caching: .shared))
        try box.context.writeFile("/f", contents: [1])
        #expect(try box.context.readFile("/f") == [1])
        // Replaced behind the sandbox's back: a new inode under the same name.
        try FileManager.default.removeItem(atPath: box.host("f"))
        try FileManager.default.createDirectory(
            atPath: box.host("f"), withIntermediateDirectories: false)
        #expect(try box.context.stat("/f").mode.isDirectory)
    }

    @Test func sharedModeSeesAFileRemovedOnTheHost() throws {
        let box = try HostSandbox(options: HostOptions(caching: .shared))
        try box.context.writeFile("/f", contents: [1])
        _ = try box.context.stat("/f")
        try FileManager.default.removeItem(atPath: box.host("f"))
        #expect(throws: Errno.noSuchFileOrDirectory) { try box.context.stat("/f") }
    }

    @Test func exclusiveModeKeepsUsingTheCachedDentry() throws {
        let box = try HostSandbox(options: HostOptions(caching: .exclusive))
        try box.context.writeFile("/f", contents: [1])
        _ = try box.context.stat("/f")
        try FileManager.default.removeItem(atPath: box.host("f"))
        // The cached O_PATH fd still names the (now unlinked) inode: nlink 0.
        #expect(try box.context.stat("/f").nlink == 0)
    }

    @Test func attributesAreNeverCachedEvenInExclusiveMode() throws {
        let box = try HostSandbox(options: HostOptions(caching: .exclusive))
        try box.context.writeFile("/f", contents: [1])
        _ = try box.context.stat("/f")
        chmod(box.host("f"), 0o600)
        #expect(try box.context.stat("/f").mode.permissions == 0o600)
    }

    @Test func noNegativeCaching() throws {
        let box = try HostSandbox(options: HostOptions(caching: .exclusive))
        #expect(throws: Errno.noSuchFileOrDirectory) { try box.context.stat("/late") }
        FileManager.default.createFile(atPath: box.host("late"), contents: nil)
        #expect(try box.context.stat("/late").mode.isRegular)
    }

    @Test func dentryCacheStaysWithinItsLimitForUnreferencedDentries() throws {
        let box = try HostSandbox(options: HostOptions(dentryCacheLimit: 16))
        for i in 0..<200 {
            FileManager.default.createFile(atPath: box.host("f\(i)"), contents: nil)
        }
        for i in 0..<200 { _ = try box.context.stat("/f\(i)") }
        #expect(box.filesystem.cachedDentryCount <= 16)
    }

    @Test func referencedDentriesAreNotEvicted() throws {
        let box = try HostSandbox(options: HostOptions(dentryCacheLimit: 4))
        try box.context.makeDirectory("/keep")
        try box.context.changeDirectory("/keep")
        let before = box.context.workingDirectory.dentry
        for i in 0..<50 { FileManager.default.createFile(atPath: box.host("f\(i)"), contents: nil) }
        for i in 0..<50 { _ = try box.context.stat("/f\(i)") }
        let again = try box.vfs.getDentry(.root, box.context.operation("/keep"))
        #expect(again.dentry === before)
    }

    @Test func trimCacheClosesUnreferencedDentries() throws {
        let box = try HostSandbox()
        try box.context.makeDirectory("/a")
        try box.context.makeDirectory("/a/b")
        _ = try box.context.stat("/a/b")
        #expect(box.filesystem.cachedDentryCount >= 2)
        box.filesystem.trimCache()
        #expect(box.filesystem.cachedDentryCount == 0)
    }

    @Test func readOnlyHostFilesystemRefusesChangesWithEROFS() throws {
        let box = try HostSandbox(options: HostOptions(readOnly: true))
        FileManager.default.createFile(atPath: box.host("f"), contents: Data([1]))
        #expect(throws: Errno.readOnlyFileSystem) { try box.context.makeDirectory("/d") }
        #expect(throws: Errno.readOnlyFileSystem) { try box.context.unlink("/f") }
        #expect(throws: Errno.readOnlyFileSystem) {
            try box.context.open("/f", flags: OpenOptions.writeOnly)
        }
        #expect(throws: Errno.readOnlyFileSystem) { try box.context.changeMode("/f", 0o600) }
        #expect(try box.context.readFile("/f") == [1])
        let st = try box.vfs.statFilesystem(.root, box.context.operation("/"))
        #expect(st.flags & 1 == 1)  // ST_RDONLY
    }

    @Test func aFifoOnAReadOnlyHostFilesystemOpensForWriting() throws {
        // Linux 6.18: on a read-only mount (mount -o remount,ro of a tmpfs) a FIFO opens
        // O_WRONLY|O_NONBLOCK once a reader exists and carries bytes; only regular files,
        // directories and symlinks are EROFS for write access (sb_permission, and
        // do_dentry_open skips mnt_want_write for special files).
        let box = try HostSandbox(options: HostOptions(readOnly: true))
        #expect(mkfifo(box.host("p"), 0o666) == 0)
        let reader = try box.context.open("/p", flags: OpenOptions.readOnly | OpenOptions.nonBlocking)
        let writer = try box.context.open("/p", flags: OpenOptions.writeOnly | OpenOptions.nonBlocking)
        let written = try [UInt8]([7, 8]).withUnsafeBytes { (raw) throws(Errno) -> Int in
            try writer.write(from: raw, credentials: .root)
        }
        #expect(written == 2)
        var buffer = [UInt8](repeating: 0, count: 4)
        let got = try buffer.withUnsafeMutableBytes { (raw) throws(Errno) -> Int in try reader.read(into: raw) }
        #expect(Array(buffer[..<got]) == [7, 8])
    }

    @Test func readOnlyMountFlagGivesEROFSInTheCoresOrder() throws {
        let box = try HostSandbox(options: HostOptions(readOnly: true), mountFlags: [.readOnly])
        FileManager.default.createFile(atPath: box.host("f"), contents: Data([1]))
        #expect(throws: Errno.readOnlyFileSystem) { try box.context.rename("/f", to: "/g") }
        #expect(throws: Errno.readOnlyFileSystem) {
            try box.context.writeFile("/new", contents: [])
        }
    }
}

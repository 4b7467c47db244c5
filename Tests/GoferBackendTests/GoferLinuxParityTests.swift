import Foundation
import GoferBackend
import SystemPackage
import Testing
import VFSCore

#if canImport(Glibc)
    import Glibc
#endif

/// Behaviours the gofer-backed differential run found differing from Linux, fixed in the
/// client (or server), each checked against what the host (Linux 6.18, /dev/shm) does.
@Suite struct GoferLinuxParityTests {
    /// The names a directory description lists from its current position on, and the
    /// position after each.
    static func listing(_ directory: FileDescription, limit: Int = .max) throws
        -> [(name: String, next: Int64)]
    {
        var found: [(String, Int64)] = []
        try directory.readDirectory { entry in
            guard found.count < limit else { return false }
            found.append((entry.name.description, entry.nextOffset))
            return true
        }
        return found
    }

    /// The host's own getdents64 d_off cookies for `path`, by name (after `.` and `..`).
    static func hostCookies(_ path: String) -> [String: Int64] {
        guard let stream = opendir(path) else { return [:] }
        defer { closedir(stream) }
        var cookies: [String: Int64] = [:]
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            cookies[name] = Int64(entry.pointee.d_off)
        }
        return cookies
    }

    @Test func directoryPositionsAreTheHostsCookies() throws {
        let scratch = try HostScratch()
        scratch.mkdir("d")
        for name in ["a", "b", "c"] { scratch.write("d/" + name, "") }
        let fixture = try GoferFixture(scratch: scratch)
        let host = Self.hostCookies(scratch.host("d"))
        let directory = try fixture.context.open("/d", flags: OpenOptions.readOnly)
        let all = try Self.listing(directory)
        // Linux 6.18 on tmpfs: every entry's d_off is the host's (the last one INT32_MAX).
        // The gofer leaves out `..`'s record (as fsgofer), so the position after `..` is 2.
        for (name, next) in all where name != "." && name != ".." {
            #expect(next == host[name], "\(name)")
        }
        #expect(all.first { $0.name == ".." }?.next == 2)
        #expect(all.count == 5)
        #expect(try directory.seek(0, whence: .current) == Int64(Int32.max))
    }

    @Test func seekingToATellPositionResumesAfterThatEntry() throws {
        let scratch = try HostScratch()
        scratch.mkdir("d")
        for name in ["a", "b", "c", "e"] { scratch.write("d/" + name, "") }
        let fixture = try GoferFixture(scratch: scratch)
        let directory = try fixture.context.open("/d", flags: OpenOptions.readOnly)
        let first = try Self.listing(directory, limit: 4)  // ".", "..", two entries
        let told = try directory.seek(0, whence: .current)
        #expect(told == first[3].next)
        let rest = try Self.listing(directory).map(\.name)
        _ = try directory.seek(0, whence: .set)
        _ = try Self.listing(directory)
        _ = try directory.seek(told, whence: .set)
        #expect(try Self.listing(directory).map(\.name) == rest)
        #expect(Set(first.map(\.name) + rest) == [".", "..", "a", "b", "c", "e"])
    }

    @Test func aSameSizeTruncateOfAnEmptyFileLeavesItsTimes() throws {
        // Linux 6.18 on tmpfs: truncate(2) to the same size of a file without pages stamps
        // neither mtime nor ctime (ftruncate(2) would stamp both).
        let fixture = try GoferFixture()
        try fixture.context.writeFile("/f", contents: [])
        let before = try fixture.context.stat("/f")
        usleep(20_000)
        try fixture.context.truncate("/f", size: 0)
        let after = try fixture.context.stat("/f")
        #expect(after.modificationTime == before.modificationTime)
        #expect(after.changeTime == before.changeTime)
    }

    @Test func aFifoReadThroughANoAccessTimeDescriptorLeavesAtime() throws {
        // Linux 6.18: touch_atime skips O_NOATIME descriptors, on a FIFO too.
        let fixture = try GoferFixture()
        try fixture.context.makeNode("/p", mode: UInt32(S_IFIFO) | 0o644)
        let pipe = try fixture.context.open(
            "/p", flags: OpenOptions.readWrite | OpenOptions.nonBlocking | OpenOptions.noAccessTime)
        _ = try Array("xy".utf8).withUnsafeBytes { (b) throws(Errno) -> Int in
            try pipe.write(from: b, credentials: fixture.context.credentials)
        }
        let before = try fixture.context.stat("/p")
        usleep(20_000)
        var buffer = [UInt8](repeating: 0, count: 8)
        let got = try buffer.withUnsafeMutableBytes { (b) throws(Errno) -> Int in
            try pipe.read(into: b)
        }
        #expect(got == 2)
        #expect(try fixture.context.stat("/p").accessTime == before.accessTime)
    }

    @Test func aDirectoryOpenedWithNoAccessTimeIsReadWithoutStampingIt() throws {
        // Linux 6.18 on tmpfs: getdents through an O_NOATIME descriptor leaves the directory's
        // atime (even when relatime would move it); through a plain one it moves.
        let fixture = try GoferFixture()
        try fixture.context.makeDirectory("/d", mode: 0o755)
        try fixture.context.writeFile("/d/f", contents: [])
        let before = try fixture.context.stat("/d")
        usleep(20_000)
        let quiet = try fixture.context.open(
            "/d", flags: OpenOptions.readOnly | OpenOptions.directory | OpenOptions.noAccessTime)
        #expect(try Self.listing(quiet).map(\.name).sorted() == [".", "..", "f"])
        #expect(try fixture.context.stat("/d").accessTime == before.accessTime)
        let plain = try fixture.context.open(
            "/d", flags: OpenOptions.readOnly | OpenOptions.directory)
        #expect(try Self.listing(plain).map(\.name).sorted() == [".", "..", "f"])
        #expect(try fixture.context.stat("/d").accessTime > before.accessTime)
    }

    @Test func renameExchangeSwapsASyntheticFifoWithAHostDirectory() throws {
        // Linux 6.18: RENAME_EXCHANGE of a directory and a FIFO swaps the two names.
        let fixture = try GoferFixture()
        try fixture.context.makeDirectory("/d", mode: 0o755)
        try fixture.context.writeFile("/d/inside", contents: [1])
        try fixture.context.makeNode("/a", mode: UInt32(S_IFIFO) | 0o644)
        try fixture.context.rename("/d", to: "/a", flags: .exchange)
        #expect(try fixture.context.stat("/a").mode.type == VFSCore.FileType.directory)
        #expect(try fixture.context.stat("/d").mode.type == VFSCore.FileType.fifo)
        #expect(try fixture.context.readFile("/a/inside") == [1])
        // The host saw the directory move; the FIFO stays the client's.
        var st = stat()
        #expect(lstat(fixture.scratch.host("a/inside"), &st) == 0)
        #expect(lstat(fixture.scratch.host("d"), &st) != 0)
    }
}

import TmpfsBackend
import Testing
import VFSCore

/// `FileDescriptionImpl.observeContents` on tmpfs files (what keeps `vfs run`'s mapped copies
/// current): an observer attached through one description is told the contents at once, then
/// every change made through any description or name of the file, and nothing after it
/// detaches. Each test keeps a mirror from the notifications and compares it with the file.
@Suite struct ContentObserverTests {
    let world = TmpfsWorld()

    /// Applies the notifications to an array of bytes, as a copy would.
    final class Mirror: FileContentObserver, @unchecked Sendable {
        var bytes: [UInt8] = []
        var calls = 0

        func contentsWritten(_ written: UnsafeRawBufferPointer, at offset: Int64) {
            calls += 1
            let end = Int(offset) + written.count
            if bytes.count < end { bytes += [UInt8](repeating: 0, count: end - bytes.count) }
            bytes.replaceSubrange(Int(offset)..<end, with: written)
        }

        func contentsZeroed(offset: Int64, length: Int64) {
            calls += 1
            let end = min(bytes.count, Int(offset + length))
            if Int(offset) < end {
                bytes.replaceSubrange(
                    Int(offset)..<end, with: [UInt8](repeating: 0, count: end - Int(offset)))
            }
        }

        func sizeChanged(to size: Int64) {
            calls += 1
            if bytes.count > Int(size) {
                bytes.removeLast(bytes.count - Int(size))
            } else {
                bytes += [UInt8](repeating: 0, count: Int(size) - bytes.count)
            }
        }
    }

    private func open(_ path: String) throws -> FileDescription {
        try world.ctx.open(path, flags: OpenOptions.create | OpenOptions.readWrite, mode: 0o644)
    }

    private func contents(_ path: String) throws -> [UInt8] { try world.ctx.readFile(path) }

    @Test func attachingReportsTheContentsHolesIncluded() throws {
        let file = try open("/f")
        try TmpfsWorld.write(file, Array("abc".utf8), at: 0)
        try TmpfsWorld.write(file, Array("xyz".utf8), at: 100_000)
        let mirror = Mirror()
        try file.impl.observeContents(mirror)
        #expect(mirror.bytes == (try contents("/f")))
        // The size, then the two data pages: the hole between is not reported.
        #expect(mirror.calls == 3)
    }

    @Test func writesThroughAnotherDescriptionAndAHardLinkAreReported() throws {
        let file = try open("/f")
        try TmpfsWorld.write(file, [UInt8](repeating: 0x61, count: 10_000), at: 0)
        let mirror = Mirror()
        try file.impl.observeContents(mirror)
        let other = try open("/f")
        try TmpfsWorld.write(other, Array("WXYZ".utf8), at: 0)
        try TmpfsWorld.write(other, Array("past the end".utf8), at: 20_000)
        try world.ctx.makeLink(existing: "/f", new: "/g")
        let link = try open("/g")
        try TmpfsWorld.write(link, Array("link".utf8), at: 100)
        let appending = try world.ctx.open(
            "/f", flags: OpenOptions.writeOnly | OpenOptions.append)
        try TmpfsWorld.write(appending, Array("appended".utf8))
        #expect(mirror.bytes == (try contents("/f")))
        #expect(mirror.bytes.count == 20_020)
    }

    @Test func truncationAndHolePunchingAreReported() throws {
        let file = try open("/f")
        try TmpfsWorld.write(file, [UInt8](repeating: 0x61, count: 10_000), at: 0)
        let mirror = Mirror()
        try file.impl.observeContents(mirror)
        try file.allocate(mode: [.punchHole, .keepSize], offset: 100, length: 5000)
        #expect(mirror.bytes == (try contents("/f")))
        try world.truncate(file, to: 4100)
        #expect(mirror.bytes == (try contents("/f")))
        try world.ctx.truncate("/f", size: 9000)
        #expect(mirror.bytes == (try contents("/f")))
        try file.allocate(mode: [], offset: 0, length: 12_000)
        #expect(mirror.bytes == (try contents("/f")))
        #expect(mirror.bytes.count == 12_000)
    }

    @Test func nothingIsReportedAfterDetaching() throws {
        let file = try open("/f")
        try TmpfsWorld.write(file, Array("abc".utf8), at: 0)
        let mirror = Mirror()
        try file.impl.observeContents(mirror)
        let other = try open("/f")
        other.impl.stopObservingContents(mirror)
        try TmpfsWorld.write(other, Array("XYZ".utf8), at: 0)
        try world.truncate(other, to: 1)
        #expect(mirror.bytes == Array("abc".utf8))
    }

    @Test func aFailedWriteReportsNothing() throws {
        let small = TmpfsWorld(options: TmpfsOptions(sizeLimit: 4096))
        let file = try small.ctx.open(
            "/f", flags: OpenOptions.create | OpenOptions.readWrite, mode: 0o644)
        try TmpfsWorld.write(file, Array("abc".utf8), at: 0)
        let mirror = Mirror()
        try file.impl.observeContents(mirror)
        let calls = mirror.calls
        #expect(throws: Errno.noSpace) {
            try TmpfsWorld.write(file, Array("far".utf8), at: 1 << 20)
        }
        #expect(mirror.calls == calls)
        #expect(mirror.bytes == (try small.ctx.readFile("/f")))
    }
}

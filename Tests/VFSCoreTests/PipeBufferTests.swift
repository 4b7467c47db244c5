import Testing
import VFSCore

/// The pipe's ring of page-sized buffers and packet mode, driven on `Pipe` directly. Every
/// expectation is what Linux 6.18 gave for the same calls on pipe2(O_NONBLOCK[|O_DIRECT])
/// (python3, os.pipe2 / fcntl F_SETFL O_DIRECT).
@Suite struct PipeBufferTests {
    let pipe = Pipe()

    init() throws {
        try pipe.open(reading: true, writing: true, nonBlocking: true, isFIFO: false)
    }

    func write(_ bytes: [UInt8], packet: Bool = false) throws -> Int {
        try bytes.withUnsafeBytes { try pipe.write(from: $0, nonBlocking: true, packet: packet) }
    }

    func read(_ count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let got = try buffer.withUnsafeMutableBytes { try pipe.read(into: $0, nonBlocking: true) }
        return Array(buffer[0..<got])
    }

    func bytes(_ value: Character, _ count: Int) -> [UInt8] {
        [UInt8](repeating: UInt8(ascii: value.unicodeScalars.first ?? "?"), count: count)
    }

    @Test func aReadReturnsOnePacketAndDropsWhatDoesNotFit() throws {
        _ = try write(bytes("a", 10), packet: true)
        _ = try write(bytes("b", 10), packet: true)
        #expect(try read(64) == bytes("a", 10))
        #expect(try read(4) == bytes("b", 4))
        #expect(throws: Errno.resourceTemporarilyUnavailable) { _ = try read(64) }
        #expect(pipe.bytesAvailable == 0)
    }

    @Test func aLargePacketWriteIsSplitIntoPages() throws {
        #expect(try write(bytes("c", 5000), packet: true) == 5000)
        #expect(try read(65536).count == 4096)
        #expect(try read(65536).count == 904)
    }

    @Test func sixteenPacketsFillThePipeWhateverTheirSize() throws {
        for _ in 0..<16 { #expect(try write([1], packet: true) == 1) }
        #expect(throws: Errno.resourceTemporarilyUnavailable) { _ = try write([1], packet: true) }
        #expect(pipe.bytesAvailable == 16)
    }

    @Test func aNonBlockingPacketWriteTakesWhatSixteenPagesHold() throws {
        #expect(try write(bytes("k", 70000), packet: true) == 65536)
        #expect(try read(100_000).count == 4096)
    }

    @Test func packetsTopUpANonPacketLastBuffer() throws {
        // Linux merges into a mergeable (non-packet) last buffer whatever the writer's mode:
        // 5 plain bytes, then 4,091 one-byte packets fill its page, then 15 more pages.
        _ = try write(bytes("p", 5))
        var packets = 0
        while (try? write([1], packet: true)) != nil { packets += 1 }
        #expect(packets == 4106)
    }

    @Test func plainBytesAfterAPacketStartABufferOfTheirOwn() throws {
        _ = try write(bytes("y", 3), packet: true)
        _ = try write(bytes("z", 3))
        _ = try write(bytes("q", 3))
        #expect(try read(100) == bytes("y", 3))
        #expect(try read(100) == bytes("z", 3) + bytes("q", 3))
    }

    @Test func packetBytesMergedIntoAPlainBufferReadAsPlainBytes() throws {
        _ = try write(bytes("a", 3))
        _ = try write(bytes("b", 5), packet: true)
        _ = try write(bytes("c", 5), packet: true)
        #expect(try read(6) == bytes("a", 3) + bytes("b", 3))
        #expect(try read(100) == bytes("b", 2) + bytes("c", 5))
    }

    @Test func capacityIsCountedInBuffersNotBytes() throws {
        // One byte, then fifteen full pages: sixteen buffers, 61,441 bytes. A 100-byte write
        // cannot top up the full last page and finds no free buffer.
        _ = try write([1])
        for _ in 0..<15 { #expect(try write(bytes("f", 4096)) == 4096) }
        #expect(throws: Errno.resourceTemporarilyUnavailable) { _ = try write(bytes("g", 100)) }
        // Only the last buffer is ever topped up, and it is full.
        #expect(throws: Errno.resourceTemporarilyUnavailable) { _ = try write([2]) }
        #expect(pipe.bytesAvailable == 1 + 15 * 4096)
    }

    @Test func smallWritesShareTheLastBuffer() throws {
        for _ in 0..<16 { _ = try write([1]) }
        // All sixteen bytes went into one page: fifteen buffers are still free, and a write
        // that is a whole number of pages does not top up (Linux: 61440, then EAGAIN).
        #expect(try write(bytes("h", 15 * 4096)) == 15 * 4096)
        #expect(throws: Errno.resourceTemporarilyUnavailable) { _ = try write(bytes("i", 100)) }
        #expect(pipe.bytesAvailable == 16 + 15 * 4096)
    }
}

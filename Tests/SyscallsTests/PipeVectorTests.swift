import Testing
import TmpfsBackend
import VFSCore

@testable import Syscalls

/// readv/writev and RWF_NOWAIT on pipes and FIFOs. Kernel facts from Linux 6.18 through
/// python3's os module (os.pipe2, os.readv, os.writev, os.preadv/os.pwritev with RWF_NOWAIT).
@Suite struct PipeVectorTests {
    func writev(_ task: Task, _ fd: Int32, _ parts: [[UInt8]]) throws -> Int {
        let buffers = parts.map { part -> UnsafeRawBufferPointer in
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: part.count, alignment: 1)
            copy.copyBytes(from: part)
            return UnsafeRawBufferPointer(copy)
        }
        defer { for buffer in buffers { buffer.deallocate() } }
        return try task.writev(fd, buffers)
    }

    func readv(_ task: Task, _ fd: Int32, _ sizes: [Int]) throws -> [[UInt8]] {
        let buffers = sizes.map { UnsafeMutableRawBufferPointer.allocate(byteCount: $0, alignment: 1) }
        defer { for buffer in buffers { buffer.deallocate() } }
        for buffer in buffers { buffer.initializeMemory(as: UInt8.self, repeating: 0) }
        let count = try task.readv(fd, buffers)
        var left = count
        return buffers.map { buffer in
            let taken = min(left, buffer.count)
            left -= taken
            return Array(buffer[0..<taken])
        }
    }

    @Test func aPacketWritevIsOnePacket() throws {
        // Linux: writev([37 bytes, 25 bytes]) on pipe2(O_DIRECT) → one 62-byte packet.
        let world = KernelFixture()
        let (reader, writer) = try world.task.pipe2(OpenOptions.direct | OpenOptions.nonBlocking)
        #expect(try writev(world.task, writer, [[UInt8](repeating: 1, count: 37), [UInt8](repeating: 2, count: 25)]) == 62)
        #expect(try world.task.read(reader, count: 64).count == 62)
    }

    @Test func aReadvTakesAPacketAcrossItsBuffers() throws {
        // Linux: a 15-byte packet read with readv([10, 10]) → 15 (10 + 5), nothing dropped.
        let world = KernelFixture()
        let (reader, writer) = try world.task.pipe2(OpenOptions.direct | OpenOptions.nonBlocking)
        #expect(try world.task.write(writer, [UInt8](repeating: 7, count: 15)) == 15)
        let parts = try readv(world.task, reader, [10, 10])
        #expect(parts.map(\.count) == [10, 5])
    }

    @Test func aBlockingReadvReturnsWhatIsThere() throws {
        // Linux: 5 bytes in a blocking pipe, readv([5, 10]) → 5 at once (it does not wait
        // for more to fill the second buffer).
        let world = KernelFixture()
        let (reader, writer) = try world.task.pipe()
        #expect(try world.task.write(writer, [1, 2, 3, 4, 5]) == 5)
        let parts = try readv(world.task, reader, [5, 10])
        #expect(parts == [[1, 2, 3, 4, 5], []])
    }

    @Test func nowaitIsRefusedOnAFifoButNotOnAPipe() throws {
        // Linux: pwritev2/preadv2(RWF_NOWAIT) on a FIFO → EOPNOTSUPP; on pipe2's ends allowed.
        let world = KernelFixture()
        try world.task.mknodat(Linux.AT_FDCWD, "/fifo", 0o010644, 0)
        let fifoReader = try world.task.openat(
            Linux.AT_FDCWD, "/fifo", OpenOptions.readOnly | OpenOptions.nonBlocking, 0)
        let fifoWriter = try world.task.openat(Linux.AT_FDCWD, "/fifo", OpenOptions.writeOnly, 0)
        let memory = BufferMemory()
        let byte = memory.allocate(1)
        // One struct iovec {base, len}, little-endian.
        let vector = memory.map(
            withUnsafeBytes(of: byte.littleEndian, Array.init)
                + withUnsafeBytes(of: UInt64(1).littleEndian, Array.init))
        let dispatcher = SyscallDispatcher(task: world.task, memory: memory)
        let nowait: UInt64 = 0x8
        let current = UInt64(bitPattern: -1)
        func call(_ number: SyscallNumber, _ fd: Int32) -> Int64 {
            dispatcher.dispatch(
                number.rawValue, SyscallArguments(UInt64(fd), vector, 1, current, current, nowait))
        }
        #expect(call(.pwritev2, fifoWriter) == -Int64(Errno.notSupported.rawValue))
        #expect(call(.preadv2, fifoReader) == -Int64(Errno.notSupported.rawValue))
        let (_, writer) = try world.task.pipe2(OpenOptions.nonBlocking)
        #expect(call(.pwritev2, writer) == 1)
    }
}

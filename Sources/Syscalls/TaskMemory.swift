import CLinuxSupport
import Synchronization
import VFSCore

/// The memory of the process making syscalls. Every access is checked: an address the process
/// does not have mapped is EFAULT, never a crash. `BufferMemory` simulates an address space
/// for tests and in-process callers; `ProcessMemory` reaches another process with
/// process_vm_readv/writev, for a runtime behind ptrace or seccomp.
public protocol TaskMemory: Sendable {
    func read(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(Errno)
    func write(_ address: UInt64, from buffer: UnsafeRawBufferPointer) throws(Errno)
}

extension TaskMemory {
    public func readBytes(_ address: UInt64, count: Int) throws(Errno) -> [UInt8] {
        guard count >= 0 else { throw .invalidArgument }
        var bytes = [UInt8](repeating: 0, count: count)
        let outcome = bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(Errno) in try read(address, into: buffer) }
        }
        try outcome.get()
        return bytes
    }

    public func writeBytes(_ address: UInt64, _ bytes: [UInt8]) throws(Errno) {
        let outcome = bytes.withUnsafeBytes { buffer in
            Result { () throws(Errno) in try write(address, from: buffer) }
        }
        try outcome.get()
    }

    /// `getname`: a NUL-terminated string of fewer than `limit` bytes. ENAMETOOLONG when no NUL
    /// comes within `limit` bytes; EFAULT for an unmapped address (a NULL pointer included).
    public func readCString(_ address: UInt64, limit: Int = Linux.PATH_MAX) throws(Errno)
        -> [UInt8]
    {
        guard address != 0 else { throw .badAddress }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256)
        var offset: UInt64 = 0
        while result.count < limit {
            // Read byte-wise near the end of a mapping: a string may end just before it.
            let want = min(chunk.count, limit - result.count)
            let (next, overflow) = address.addingReportingOverflow(offset)
            guard !overflow else { throw .badAddress }
            let outcome = chunk.withUnsafeMutableBytes { buffer in
                Result { () throws(Errno) in
                    try read(next, into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]))
                }
            }
            if case .failure = outcome {
                // Fall back to single bytes so a string ending right before unmapped memory
                // still reads.
                let byte = try readBytes(next, count: 1)[0]
                if byte == 0 { return result }
                result.append(byte)
                offset += 1
                continue
            }
            if let nul = chunk[..<want].firstIndex(of: 0) {
                result.append(contentsOf: chunk[..<nul])
                return result
            }
            result.append(contentsOf: chunk[..<want])
            offset += UInt64(want)
        }
        throw .fileNameTooLong
    }

    /// Reads a fixed-layout value (a C struct) byte for byte.
    public func readValue<T: BitwiseCopyable>(_ address: UInt64, as type: T.Type) throws(Errno) -> T {
        let bytes = try readBytes(address, count: MemoryLayout<T>.size)
        return bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
    }

    public func writeValue<T: BitwiseCopyable>(_ address: UInt64, _ value: T) throws(Errno) {
        var copy = value
        let outcome = withUnsafeBytes(of: &copy) { buffer in
            Result { () throws(Errno) in try write(address, from: buffer) }
        }
        try outcome.get()
    }
}

/// A simulated address space: regions mapped at chosen addresses. What is not mapped is EFAULT.
/// For tests and for embedding the syscall layer in-process.
public final class BufferMemory: TaskMemory {
    private struct Region {
        var start: UInt64
        var bytes: [UInt8]
        var end: UInt64 { start + UInt64(bytes.count) }
    }
    private let regions = Mutex<[Region]>([])
    private let nextAddress = Mutex<UInt64>(0x10000)

    public init() {}

    /// Maps `bytes` at a fresh address (regions are spaced apart, so an overrun faults) and
    /// returns that address.
    @discardableResult
    public func map(_ bytes: [UInt8]) -> UInt64 {
        let start = nextAddress.withLock { next -> UInt64 in
            let start = next
            next += (UInt64(bytes.count) + 0xFFFF) & ~0xFFF + 0x1000
            return start
        }
        regions.withLock { $0.append(Region(start: start, bytes: bytes)) }
        return start
    }

    /// Maps `count` zero bytes.
    public func allocate(_ count: Int) -> UInt64 { map([UInt8](repeating: 0, count: count)) }

    /// Maps a NUL-terminated copy of `string`.
    public func cString(_ string: String) -> UInt64 { map(Array(string.utf8) + [0]) }

    /// The bytes of the region starting at `address`.
    public func contents(at address: UInt64, count: Int) -> [UInt8] {
        (try? readBytes(address, count: count)) ?? []
    }

    private func locate(_ address: UInt64, _ count: Int) throws(Errno) -> (Int, Int) {
        try regions.withLock { (regions) throws(Errno) -> (Int, Int) in
            let (end, overflow) = address.addingReportingOverflow(UInt64(count))
            guard !overflow else { throw Errno.badAddress }
            for (index, region) in regions.enumerated()
            where address >= region.start && end <= region.end {
                return (index, Int(address - region.start))
            }
            throw Errno.badAddress
        }
    }

    public func read(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) {
        guard buffer.count > 0 else { return }
        let (index, offset) = try locate(address, buffer.count)
        regions.withLock { regions in
            regions[index].bytes.withUnsafeBytes { source in
                buffer.copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + buffer.count)]))
            }
        }
    }

    public func write(_ address: UInt64, from buffer: UnsafeRawBufferPointer) throws(Errno) {
        guard buffer.count > 0 else { return }
        let (index, offset) = try locate(address, buffer.count)
        regions.withLock { regions in
            regions[index].bytes.withUnsafeMutableBytes { destination in
                UnsafeMutableRawBufferPointer(
                    rebasing: destination[offset..<(offset + buffer.count)]
                ).copyMemory(from: buffer)
            }
        }
    }
}

/// Another process's memory, through process_vm_readv / process_vm_writev (the caller needs
/// ptrace access to it). A short transfer or EFAULT from the kernel is EFAULT here.
public struct ProcessMemory: TaskMemory {
    public let pid: Int32

    public init(pid: Int32) { self.pid = pid }

    public func read(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) {
        guard buffer.count > 0, let base = buffer.baseAddress else { return }
        let count = vfs_process_vm_read(pid, base, buffer.count, address)
        guard count == buffer.count else { throw .badAddress }
    }

    public func write(_ address: UInt64, from buffer: UnsafeRawBufferPointer) throws(Errno) {
        guard buffer.count > 0, let base = buffer.baseAddress else { return }
        let count = vfs_process_vm_write(pid, base, buffer.count, address)
        guard count == buffer.count else { throw .badAddress }
    }
}

import Syscalls
import VFSCore

/// A traced process's memory with the path strings the supervisor read (and possibly
/// rewrote, e.g. a relative path made absolute) laid over their addresses, so the syscall
/// layer sees exactly the bytes the routing decision was made on (no second read that the
/// program could race) and a rewritten path without writing into the program.
struct OverlayMemory: TaskMemory {
    let base: ProcessMemory
    /// (address, bytes including the terminating NUL).
    var overlays: [(address: UInt64, bytes: [UInt8])] = []

    init(pid: Int32) { base = ProcessMemory(pid: pid) }

    mutating func overlay(_ address: UInt64, path: [UInt8]) {
        overlays.append((address, path + [0]))
    }

    func read(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) {
        for overlay in overlays {
            let start = overlay.address
            guard address >= start, address - start < UInt64(overlay.bytes.count) else { continue }
            let offset = Int(address - start)
            let available = overlay.bytes.count - offset
            let here = min(available, buffer.count)
            overlay.bytes.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(rebasing: buffer[..<here]).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + here)]))
            }
            if here < buffer.count {
                // Past the overlaid string: the program's own bytes, or zeros where it has
                // none mapped (the reader stops at the overlay's NUL anyway).
                let rest = UnsafeMutableRawBufferPointer(rebasing: buffer[here...])
                do throws(Errno) {
                    try base.read(address + UInt64(here), into: rest)
                } catch {
                    rest.initializeMemory(as: UInt8.self, repeating: 0)
                }
            }
            return
        }
        try base.read(address, into: buffer)
    }

    func write(_ address: UInt64, from buffer: UnsafeRawBufferPointer) throws(Errno) {
        try base.write(address, from: buffer)
    }
}

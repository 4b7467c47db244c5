import Syscalls
import VFSCore

/// The VFS side of the steps that pass structs, vectors or buffers: each goes through
/// `SyscallDispatcher` with the same registers the kernel side passes, its memory a
/// `BufferMemory`, so the syscall layer's own decoding (open_how, iovecs, struct flock,
/// struct statx, int[2]) is what gets compared.
extension VFSExecutor {
    /// Runs syscall `number`; the result, or the errno thrown.
    func dispatch(_ number: SyscallNumber, _ arguments: SyscallArguments) throws(Errno) -> Int64 {
        let result = SyscallDispatcher(task: task, memory: memory).dispatch(
            number.rawValue, arguments)
        if result < 0 { throw Errno(rawValue: Int32(truncatingIfNeeded: -result)) }
        return result
    }

    /// A register holding `value`'s bits (a negative descriptor or offset as the kernel sees it).
    func register<T: BinaryInteger>(_ value: T) -> UInt64 { UInt64(truncatingIfNeeded: value) }

    /// A NUL-terminated copy of `text` in the task's memory; 0 (NULL) for nil.
    func string(_ text: String?) -> UInt64 {
        guard let text else { return 0 }
        return memory.map(Array(text.utf8) + [0])
    }

    func performDispatched(_ operation: Operation) throws(Errno) -> Outcome? {
        switch operation {
        case .statx(let l, let flags, let mask):
            let buffer = memory.allocate(256)
            _ = try dispatch(
                .statx,
                SyscallArguments(
                    register(dirfd(l)), string(l.path), register(flags), register(mask), buffer))
            return .statx(KernelExecutor.statxRecord(memory.contents(at: buffer, count: 256)))
        case .openat2(let l, let how, let slot):
            guard how.size <= 1 << 16 else { return .unsupported("open_how size \(how.size)") }
            let fd = try dispatch(
                .openat2,
                SyscallArguments(
                    register(dirfd(l)), string(l.path), memory.map(how.bytes), UInt64(how.size)))
            return descriptor(fd, into: slot)
        case .readv(let slot, let lengths, let call):
            guard lengths.allSatisfy({ $0 >= 0 && $0 <= 1 << 20 }) else {
                return .unsupported("iovec lengths")
            }
            let buffers = lengths.map { memory.allocate(max($0, 1)) }
            let vectors = iovecs(zip(buffers, lengths).map { ($0, $1) })
            let count = try vectored(slot, vectors, lengths.count, call, reading: true)
            var bytes: [UInt8] = []
            var remaining = Int(count)
            for (index, length) in lengths.enumerated() where remaining > 0 {
                let take = min(length, remaining)
                bytes += memory.contents(at: buffers[index], count: take)
                remaining -= take
            }
            return .bytes(bytes)
        case .writev(let slot, let chunks, let call):
            let buffers = chunks.map { memory.map($0.isEmpty ? [0] : $0) }
            let vectors = iovecs(zip(buffers, chunks).map { ($0, $1.count) })
            return .value(try vectored(slot, vectors, chunks.count, call, reading: false))
        case .getcwd(let size):
            guard size >= 0, size <= 1 << 16 else { return .unsupported("size \(size)") }
            let buffer = memory.allocate(max(size, 1))
            let count = try dispatch(.getcwd, SyscallArguments(buffer, UInt64(size)))
            return .bytes(memory.contents(at: buffer, count: min(Int(count), size)))
        case .chroot(let p):
            _ = try dispatch(.chroot, SyscallArguments(string(p)))
            return .done
        case .mount(let source, let target, let fstype, let flags, let data):
            _ = try dispatch(
                .mount,
                SyscallArguments(
                    string(source), string(target), string(fstype), flags, string(data)))
            return .done
        case .umount(let p, let flags):
            _ = try dispatch(.umount2, SyscallArguments(string(p), register(flags)))
            return .done
        case .lock(let slot, let command, let request):
            let lock = LinuxFlock(
                type: request.type, whence: request.whence, start: request.start,
                length: request.length, pid: request.pid)
            let buffer = memory.map(lock.bytes)
            _ = try dispatch(
                .fcntl, SyscallArguments(register(fd(slot)), register(command), buffer))
            guard command == Linux.F_GETLK || command == Linux.F_OFD_GETLK else { return .done }
            let back = LinuxFlock(bytes: memory.contents(at: buffer, count: LinuxFlock.size))
            return .lock(
                LockRecord(
                    type: back.type, whence: back.whence, start: back.start, length: back.length,
                    pid: back.type != Linux.F_UNLCK && back.pid == task.id ? 0 : back.pid))
        case .flock(let slot, let operation):
            _ = try dispatch(.flock, SyscallArguments(register(fd(slot)), register(operation)))
            return .done
        case .pipe2(let flags, let read, let write):
            let buffer = memory.allocate(8)
            _ = try dispatch(.pipe2, SyscallArguments(buffer, register(flags)))
            let bytes = memory.contents(at: buffer, count: 8)
            let ends = [0, 4].map { at in
                Int32(
                    bitPattern: (0..<4).reduce(UInt32(0)) {
                        $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1))
                    })
            }
            setSlot(read, ends[0])
            setSlot(write, ends[1])
            return .descriptors(ends)
        case .memfd(let name, let count, let flags, let slot):
            guard count >= 0, count <= 4096 else { return .unsupported("name repeat \(count)") }
            let fd = try dispatch(
                .memfdCreate,
                SyscallArguments(string(String(repeating: name, count: count)), UInt64(flags)))
            return descriptor(fd, into: slot)
        case .closeRange(let first, let last, let flags):
            if first < 3 && flags & Linux.CLOSE_RANGE_CLOEXEC == 0 && first <= last {
                return .unsupported("close_range from \(first) would close the child's stdio")
            }
            _ = try dispatch(
                .closeRange, SyscallArguments(UInt64(first), UInt64(last), UInt64(flags)))
            if flags & Linux.CLOSE_RANGE_CLOEXEC == 0 {
                clearSlots { UInt32(bitPattern: $0) >= first && UInt32(bitPattern: $0) <= last }
            }
            return .done
        case .dup3(let slot, let onto, let flags):
            let fd = try dispatch(
                .dup3, SyscallArguments(register(fd(slot)), register(fd(onto)), register(flags)))
            return descriptor(fd, into: onto)
        case .mknodDevice(let l, let mode, let device):
            _ = try dispatch(
                .mknodat,
                SyscallArguments(register(dirfd(l)), string(l.path), UInt64(mode), UInt64(device)))
            return .done
        default:
            return nil
        }
    }

    /// An array of `struct iovec { void *base; size_t len; }` in the task's memory.
    private func iovecs(_ entries: [(base: UInt64, length: Int)]) -> UInt64 {
        var bytes: [UInt8] = []
        for entry in entries {
            withUnsafeBytes(of: entry.base.littleEndian) { bytes += $0 }
            withUnsafeBytes(of: UInt64(entry.length).littleEndian) { bytes += $0 }
        }
        return memory.map(bytes.isEmpty ? [0] : bytes)
    }

    private func vectored(
        _ slot: Int, _ vectors: UInt64, _ count: Int, _ call: VectorCall, reading: Bool
    ) throws(Errno) -> Int64 {
        let fd = register(self.fd(slot))
        switch call {
        case .plain:
            return try dispatch(
                reading ? .readv : .writev, SyscallArguments(fd, vectors, UInt64(count)))
        case .positioned(let offset):
            return try dispatch(
                reading ? .preadv : .pwritev,
                SyscallArguments(fd, vectors, UInt64(count), register(offset), 0))
        case .flagged(let offset, let flags):
            return try dispatch(
                reading ? .preadv2 : .pwritev2,
                SyscallArguments(fd, vectors, UInt64(count), register(offset), 0, register(flags)))
        }
    }

    private func descriptor(_ fd: Int64, into slot: Int) -> Outcome {
        let number = Int32(truncatingIfNeeded: fd)
        setSlot(slot, number)
        return .descriptor(number)
    }
}

import VFSCore

extension SyscallTable {
    /// open, openat, openat2, creat, close, close_range, dup, dup2, dup3.
    static let openEntries: [SyscallEntry] = [
        SyscallEntry(.open) { (task, memory, a) throws(Errno) -> Int64 in
            Int64(try task.open(try memory.path(a[0]), a.int32(1), a.uint32(2)))
        },
        SyscallEntry(.openat) { (task, memory, a) throws(Errno) -> Int64 in
            Int64(try task.openat(a.int32(0), try memory.path(a[1]), a.int32(2), a.uint32(3)))
        },
        SyscallEntry(.creat) { (task, memory, a) throws(Errno) -> Int64 in
            Int64(try task.creat(try memory.path(a[0]), a.uint32(1)))
        },
        SyscallEntry(.openat2) { (task, memory, a) throws(Errno) -> Int64 in
            // struct open_how { u64 flags, mode, resolve }: 24 bytes in version 0; a larger
            // struct must be zero past what we know (copy_struct_from_user), E2BIG otherwise.
            let size = a.count(3)
            guard size >= 24 else { throw .invalidArgument }
            guard size <= 4096 else { throw .argListTooLong }
            let how = try memory.readBytes(a[2], count: size)
            if how[24...].contains(where: { $0 != 0 }) { throw .argListTooLong }
            let fields = how.withUnsafeBytes { raw in
                (raw.loadUnaligned(as: UInt64.self),
                 raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                 raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
            }
            let path = try memory.path(a[1])
            return Int64(
                try task.openat2(
                    a.int32(0), path, flags: fields.0, mode: fields.1, resolve: fields.2))
        },
        SyscallEntry(.close) { (task, _, a) throws(Errno) -> Int64 in
            try task.close(a.int32(0))
            return 0
        },
        SyscallEntry(.closeRange) { (task, _, a) throws(Errno) -> Int64 in
            try task.close_range(a.uint32(0), a.uint32(1), a.uint32(2))
            return 0
        },
        SyscallEntry(.dup) { (task, _, a) throws(Errno) -> Int64 in
            Int64(try task.dup(a.int32(0)))
        },
        SyscallEntry(.dup2) { (task, _, a) throws(Errno) -> Int64 in
            Int64(try task.dup2(a.int32(0), a.int32(1)))
        },
        SyscallEntry(.dup3) { (task, _, a) throws(Errno) -> Int64 in
            Int64(try task.dup3(a.int32(0), a.int32(1), a.int32(2)))
        },
    ]
}

extension TaskMemory {
    /// A path argument: a C string of fewer than PATH_MAX bytes (ENAMETOOLONG otherwise,
    /// EFAULT for a bad pointer). An empty string is returned as such; the call decides
    /// whether that is ENOENT.
    func path(_ address: UInt64) throws(Errno) -> PathArgument {
        PathArgument(bytes: try readCString(address, limit: Linux.PATH_MAX))
    }
}

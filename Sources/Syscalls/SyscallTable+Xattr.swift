import VFSCore

extension SyscallTable {
    /// The twelve xattr calls. Names are read as C strings of at most 255 bytes (ERANGE when
    /// empty or longer, as `strncpy_from_user` into XATTR_NAME_MAX+1 gives); values are copied
    /// in (E2BIG past 64 KiB) or out (the length when the buffer size is 0).
    static let xattrEntries: [SyscallEntry] = [
        SyscallEntry(.setxattr) { (task, memory, a) throws(Errno) -> Int64 in
            let (name, value) = try setArguments(memory, a)
            try task.setxattr(try memory.path(a[0]), name, value, a.int32(4))
            return 0
        },
        SyscallEntry(.lsetxattr) { (task, memory, a) throws(Errno) -> Int64 in
            let (name, value) = try setArguments(memory, a)
            try task.lsetxattr(try memory.path(a[0]), name, value, a.int32(4))
            return 0
        },
        SyscallEntry(.fsetxattr) { (task, memory, a) throws(Errno) -> Int64 in
            let (name, value) = try setArguments(memory, a)
            try task.fsetxattr(a.int32(0), name, value, a.int32(4))
            return 0
        },
        SyscallEntry(.getxattr) { (task, memory, a) throws(Errno) -> Int64 in
            let name = try xattrName(memory, a[1])
            let value = try task.getxattr(try memory.path(a[0]), name, a.count(3))
            return try reply(memory, value, to: a[2], size: a.count(3))
        },
        SyscallEntry(.lgetxattr) { (task, memory, a) throws(Errno) -> Int64 in
            let name = try xattrName(memory, a[1])
            let value = try task.lgetxattr(try memory.path(a[0]), name, a.count(3))
            return try reply(memory, value, to: a[2], size: a.count(3))
        },
        SyscallEntry(.fgetxattr) { (task, memory, a) throws(Errno) -> Int64 in
            let name = try xattrName(memory, a[1])
            let value = try task.fgetxattr(a.int32(0), name, a.count(3))
            return try reply(memory, value, to: a[2], size: a.count(3))
        },
        SyscallEntry(.listxattr) { (task, memory, a) throws(Errno) -> Int64 in
            let list = try task.listxattr(try memory.path(a[0]), a.count(2))
            return try reply(memory, list, to: a[1], size: a.count(2))
        },
        SyscallEntry(.llistxattr) { (task, memory, a) throws(Errno) -> Int64 in
            let list = try task.llistxattr(try memory.path(a[0]), a.count(2))
            return try reply(memory, list, to: a[1], size: a.count(2))
        },
        SyscallEntry(.flistxattr) { (task, memory, a) throws(Errno) -> Int64 in
            let list = try task.flistxattr(a.int32(0), a.count(2))
            return try reply(memory, list, to: a[1], size: a.count(2))
        },
        SyscallEntry(.removexattr) { (task, memory, a) throws(Errno) -> Int64 in
            try task.removexattr(try memory.path(a[0]), try xattrName(memory, a[1]))
            return 0
        },
        SyscallEntry(.lremovexattr) { (task, memory, a) throws(Errno) -> Int64 in
            try task.lremovexattr(try memory.path(a[0]), try xattrName(memory, a[1]))
            return 0
        },
        SyscallEntry(.fremovexattr) { (task, memory, a) throws(Errno) -> Int64 in
            try task.fremovexattr(a.int32(0), try xattrName(memory, a[1]))
            return 0
        },
    ]

    /// An xattr name: ERANGE when empty or longer than XATTR_NAME_MAX.
    static func xattrName(_ memory: any TaskMemory, _ address: UInt64) throws(Errno) -> [UInt8] {
        let name: [UInt8]
        do throws(Errno) {
            name = try memory.readCString(address, limit: ExtendedAttributeRules.nameMax + 1)
        } catch {
            throw error == .fileNameTooLong ? .outOfRange : error
        }
        guard !name.isEmpty else { throw .outOfRange }
        return name
    }

    /// setxattr's flags, name and value, in the kernel's order of checks.
    static func setArguments(_ memory: any TaskMemory, _ a: SyscallArguments) throws(Errno)
        -> ([UInt8], [UInt8])
    {
        try ExtendedAttributeRules.checkFlags(a.int32(4))
        let name = try xattrName(memory, a[1])
        let size = a.count(3)
        guard size <= ExtendedAttributeRules.sizeMax else { throw .argListTooLong }
        let value = size == 0 ? [] : try memory.readBytes(a[2], count: size)
        return (name, value)
    }

    /// Copies a reply out unless the caller only asked for its size; returns its length.
    static func reply(_ memory: any TaskMemory, _ bytes: [UInt8], to address: UInt64, size: Int)
        throws(Errno) -> Int64
    {
        if size > 0 && !bytes.isEmpty { try memory.writeBytes(address, bytes) }
        return Int64(bytes.count)
    }
}

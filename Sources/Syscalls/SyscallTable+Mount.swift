import VFSCore

extension SyscallTable {
    /// mount, umount2.
    static let mountEntries: [SyscallEntry] = [
        SyscallEntry(.mount) { (task, memory, a) throws(Errno) -> Int64 in
            // The kernel copies the type, the source and the data before it looks the target
            // up, so a bad pointer among them is EFAULT even when the target does not exist.
            let fstype = try mountString(memory, a[2])
            let source = try mountString(memory, a[0])
            let data = try mountData(memory, a[4])
            let target = try memory.path(a[1])
            try task.mount(
                source.map { PathArgument(bytes: $0) }, target,
                fstype.map { String(decoding: $0, as: UTF8.self) }, a[3],
                data.map { String(decoding: $0, as: UTF8.self) })
            return 0
        },
        SyscallEntry(.umount2) { (task, memory, a) throws(Errno) -> Int64 in
            let flags = a.int32(1)
            try Task.checkUmountFlags(flags)
            try task.umount2(try memory.path(a[0]), flags)
            return 0
        },
    ]

    /// `copy_mount_string`: nil for a NULL pointer; EFAULT for a bad one; EINVAL for a string
    /// of PATH_MAX bytes or more (`strndup_user`).
    static func mountString(_ memory: any TaskMemory, _ address: UInt64) throws(Errno)
        -> [UInt8]?
    {
        guard address != 0 else { return nil }
        do throws(Errno) {
            return try memory.readCString(address, limit: Linux.PATH_MAX)
        } catch {
            throw error == .fileNameTooLong ? .invalidArgument : error
        }
    }

    /// `copy_mount_options`: nil for a NULL pointer; otherwise a page, cut at its first NUL
    /// or its last byte (the kernel forces that one to NUL).
    static func mountData(_ memory: any TaskMemory, _ address: UInt64) throws(Errno)
        -> [UInt8]?
    {
        guard address != 0 else { return nil }
        let page = 4096
        do throws(Errno) {
            return try memory.readCString(address, limit: page)
        } catch {
            guard error == .fileNameTooLong else { throw error }
            return try memory.readBytes(address, count: page - 1)
        }
    }
}

import VFSCore

extension SyscallTable {
    /// getdents64, getdents, getcwd, chdir, fchdir, chroot, umask.
    static let directoryEntries: [SyscallEntry] = [
        SyscallEntry(.getdents64) { (task, memory, a) throws(Errno) -> Int64 in
            try directoryRecords(task, memory, a, layout: .dirent64)
        },
        SyscallEntry(.getdents) { (task, memory, a) throws(Errno) -> Int64 in
            try directoryRecords(task, memory, a, layout: .legacy)
        },
        SyscallEntry(.getcwd) { (task, memory, a) throws(Errno) -> Int64 in
            let path = try task.getcwd(a.count(1))
            try memory.writeBytes(a[0], path)
            return Int64(path.count)
        },
        SyscallEntry(.chdir) { (task, memory, a) throws(Errno) -> Int64 in
            try task.chdir(try memory.path(a[0]))
            return 0
        },
        SyscallEntry(.fchdir) { (task, _, a) throws(Errno) -> Int64 in
            try task.fchdir(a.int32(0))
            return 0
        },
        SyscallEntry(.chroot) { (task, memory, a) throws(Errno) -> Int64 in
            try task.chroot(try memory.path(a[0]))
            return 0
        },
        SyscallEntry(.umask) { (task, _, a) throws(Errno) -> Int64 in
            Int64(task.umask(a.uint32(0)))
        },
    ]

    /// getdents64 / getdents: each record goes straight to the caller's memory, so a fault
    /// part-way returns the records already placed (and leaves the position after them), as
    /// Linux does. The count is an `unsigned int` the kernel keeps in an `int`: 2^31 or more
    /// reads as negative, and is EINVAL unless the directory is at its end.
    static func directoryRecords(
        _ task: Task, _ memory: any TaskMemory, _ a: SyscallArguments,
        layout: Task.DirentLayout
    ) throws(Errno) -> Int64 {
        let count = Int(Int32(bitPattern: a.uint32(2)))
        let base = a[1]
        let used = try task.fillDirectoryRecords(a.int32(0), count: count, layout: layout) {
            record, at in
            let (address, overflow) = base.addingReportingOverflow(UInt64(at))
            guard !overflow else { return false }
            do {
                try memory.writeBytes(address, record)
                return true
            } catch {
                return false
            }
        }
        return Int64(used)
    }
}

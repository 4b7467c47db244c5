import VFSCore

extension SyscallTable {
    /// fcntl. The record-lock commands take a `struct flock *` and go to `fcntlLock`
    /// (SyscallTable+Locks.swift), which checks the descriptor before reading the struct and
    /// writes it back for F_GETLK / F_OFD_GETLK; every other command is `Task.fcntl` on the
    /// raw third argument.
    static let fcntlEntries: [SyscallEntry] = [
        SyscallEntry(.fcntl) { (task, memory, a) throws(Errno) -> Int64 in
            let fd = a.int32(0)
            let command = a.int32(1)
            if Task.isLockCommand(command) {
                return try fcntlLock(task, memory, fd, command, a[2])
            }
            return Int64(try task.fcntl(fd, command, Int(a.int64(2))))
        }
    ]
}

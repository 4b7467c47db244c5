import VFSCore

extension SyscallTable {
    /// flock. (fcntl's lock commands are served by fcntl's entry through `fcntlLock` below.)
    static let lockEntries: [SyscallEntry] = [
        SyscallEntry(.flock) { (task, _, a) throws(Errno) -> Int64 in
            try task.flock(a.int32(0), a.int32(1))
            return 0
        }
    ]

    /// fcntl(fd, F_GETLK / F_SETLK / F_SETLKW / F_OFD_*, struct flock *): EBADF for a bad or
    /// O_PATH `fd` comes before EFAULT for an unreadable `address`, as the kernel looks the
    /// descriptor up before copying the struct in. F_GETLK and F_OFD_GETLK copy the result
    /// back (EFAULT if that fails).
    static func fcntlLock(
        _ task: Task, _ memory: any TaskMemory, _ fd: Int32, _ command: Int32, _ address: UInt64
    ) throws(Errno) -> Int64 {
        guard !(try task.files.get(fd)).isPathOnly else { throw .badFileDescriptor }
        var lock = LinuxFlock(bytes: try memory.readBytes(address, count: LinuxFlock.size))
        try task.fcntlLock(fd, command, &lock)
        if command == Linux.F_GETLK || command == Linux.F_OFD_GETLK {
            try memory.writeBytes(address, lock.bytes)
        }
        return 0
    }
}

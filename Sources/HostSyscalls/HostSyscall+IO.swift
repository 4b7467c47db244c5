import SystemPackage

/// I/O on open host fds.
extension HostSyscall {
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(Errno)
        -> Int
    {
        try call(HostSyscallNumber.read, Int(fd), Int(bitPattern: buffer.baseAddress), buffer.count)
    }

    public static func write(_ fd: Int32, from buffer: UnsafeRawBufferPointer) throws(Errno) -> Int
    {
        try call(
            HostSyscallNumber.write, Int(fd), Int(bitPattern: buffer.baseAddress), buffer.count)
    }

    public static func pread(
        _ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64
    ) throws(Errno) -> Int {
        try call(
            HostSyscallNumber.pread64, Int(fd), Int(bitPattern: buffer.baseAddress), buffer.count,
            Int(offset))
    }

    public static func pwrite(_ fd: Int32, from buffer: UnsafeRawBufferPointer, at offset: Int64)
        throws(Errno) -> Int
    {
        try call(
            HostSyscallNumber.pwrite64, Int(fd), Int(bitPattern: buffer.baseAddress), buffer.count,
            Int(offset))
    }

    /// lseek(2); `whence` 0...4 (SEEK_SET, CUR, END, DATA, HOLE).
    public static func lseek(_ fd: Int32, _ offset: Int64, whence: Int32) throws(Errno) -> Int64 {
        Int64(try call(HostSyscallNumber.lseek, Int(fd), Int(offset), Int(whence)))
    }

    /// pwritev2(2) of one buffer; `flags` RWF_* (RWF_APPEND = 0x10 writes at the end of file
    /// atomically, whatever the fd's flags; offset -1 uses and advances the fd's own offset).
    public static func pwritev2(
        _ fd: Int32, from buffer: UnsafeRawBufferPointer, at offset: Int64, flags: Int32
    ) throws(Errno) -> Int {
        var iovec = (Int(bitPattern: buffer.baseAddress), buffer.count)
        return try withUnsafeMutableBytes(of: &iovec) { (raw) throws(Errno) -> Int in
            // pwritev2(fd, iov, iovcnt, pos_l, pos_h, flags)
            try call(328, Int(fd), Int(bitPattern: raw.baseAddress), 1, Int(offset), 0, Int(flags))
        }
    }

    /// truncate(2) of a path (follows symlinks; a /proc/self/fd path reaches an O_PATH fd's file).
    public static func truncate(_ path: some Collection<UInt8>, _ length: Int64) throws(Errno) {
        try withCPath(path) { (p) throws(Errno) in
            _ = try call(76, p, Int(length))
        }
    }

    public static func ftruncate(_ fd: Int32, _ length: Int64) throws(Errno) {
        _ = try call(HostSyscallNumber.ftruncate, Int(fd), Int(length))
    }

    public static func fallocate(_ fd: Int32, mode: Int32, offset: Int64, length: Int64)
        throws(Errno)
    {
        _ = try call(HostSyscallNumber.fallocate, Int(fd), Int(mode), Int(offset), Int(length))
    }

    public static func fsync(_ fd: Int32, dataOnly: Bool = false) throws(Errno) {
        _ = try call(dataOnly ? HostSyscallNumber.fdatasync : HostSyscallNumber.fsync, Int(fd))
    }

    /// fcntl(2) with an integer argument (F_GETFL = 3, F_SETFL = 4, ...).
    public static func fcntl(_ fd: Int32, _ command: Int32, _ argument: Int = 0) throws(Errno)
        -> Int
    {
        try call(72, Int(fd), Int(command), argument)
    }
}

/// One `struct linux_dirent64`, parsed.
public struct HostDirectoryEntry: Sendable, Hashable {
    public var inode: UInt64
    /// `d_off`: the position that resumes after this entry.
    public var nextOffset: Int64
    /// DT_* type.
    public var type: UInt8
    public var name: [UInt8]
}

extension HostSyscall {
    /// getdents64(2): the next entries of a directory fd from its current offset (empty at the
    /// end). `bufferSize` bounds one call.
    public static func getdents64(_ fd: Int32, bufferSize: Int = 8192) throws(Errno)
        -> [HostDirectoryEntry]
    {
        var buffer = [UInt8](repeating: 0, count: bufferSize)
        let count = try HostSyscall.withMutableBytes(&buffer) { (raw) throws(Errno) -> Int in
            try call(
                HostSyscallNumber.getdents64, Int(fd), Int(bitPattern: raw.baseAddress), bufferSize)
        }
        var entries: [HostDirectoryEntry] = []
        buffer.withUnsafeBytes { raw in
            var position = 0
            // d_ino u64, d_off i64, d_reclen u16, d_type u8, d_name NUL-terminated.
            while position + 19 <= count {
                let inode = raw.loadUnaligned(fromByteOffset: position, as: UInt64.self)
                let next = raw.loadUnaligned(fromByteOffset: position + 8, as: Int64.self)
                let length = Int(raw.loadUnaligned(fromByteOffset: position + 16, as: UInt16.self))
                let type = raw[position + 18]
                guard length >= 19, position + length <= count else { break }
                var end = position + 19
                while end < position + length && raw[end] != 0 { end += 1 }
                entries.append(
                    HostDirectoryEntry(
                        inode: inode, nextOffset: next, type: type,
                        name: Array(raw[(position + 19)..<end])))
                position += length
            }
        }
        return entries
    }
}

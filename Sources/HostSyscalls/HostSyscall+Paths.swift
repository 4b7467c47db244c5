import SystemPackage

/// The fd-relative path calls. Each takes a directory fd and a path relative to it; callers
/// that must stay confined pass a single validated name (no `/`), so the kernel resolves
/// nothing but that one entry of that one directory, and these calls never follow a final
/// symlink unless asked (mkdirat, mknodat, symlinkat, unlinkat, renameat2 never do).
extension HostSyscall {
    public static func mkdirat(_ directory: Int32, _ path: some Collection<UInt8>, mode: UInt32)
        throws(Errno)
    {
        try withCPath(path) { (p) throws(Errno) in
            _ = try call(HostSyscallNumber.mkdirat, Int(directory), p, Int(mode))
        }
    }

    /// mknodat(2); `mode` carries the file type; `device` is the encoded dev_t.
    public static func mknodat(
        _ directory: Int32, _ path: some Collection<UInt8>, mode: UInt32, device: UInt64 = 0
    ) throws(Errno) {
        try withCPath(path) { (p) throws(Errno) in
            _ = try call(
                HostSyscallNumber.mknodat, Int(directory), p, Int(mode),
                Int(bitPattern: UInt(device)))
        }
    }

    public static func symlinkat(
        target: some Collection<UInt8>, _ directory: Int32, _ path: some Collection<UInt8>
    ) throws(Errno) {
        try withCPaths(target, path) { (t, p) throws(Errno) in
            _ = try call(HostSyscallNumber.symlinkat, t, Int(directory), p)
        }
    }

    /// readlinkat(2), the whole target (retried with a larger buffer if it filled one). With
    /// an empty path, reads the symlink an O_PATH fd stands for.
    public static func readlinkat(_ directory: Int32, _ path: some Collection<UInt8>)
        throws(Errno) -> [UInt8]
    {
        var capacity = 256
        while true {
            var buffer = [UInt8](repeating: 0, count: capacity)
            let count = try withCPath(path) { (p) throws(Errno) -> Int in
                try HostSyscall.withMutableBytes(&buffer) { (raw) throws(Errno) -> Int in
                    try call(
                        HostSyscallNumber.readlinkat, Int(directory), p,
                        Int(bitPattern: raw.baseAddress), capacity)
                }
            }
            if count < capacity {
                buffer.removeSubrange(count...)
                return buffer
            }
            guard capacity < 65536 else { throw .fileNameTooLong }
            capacity *= 4
        }
    }

    /// linkat(2). AT_EMPTY_PATH with an empty old path links the file an fd stands for
    /// (needs CAP_DAC_READ_SEARCH, which root has).
    public static func linkat(
        _ oldDirectory: Int32, _ oldPath: some Collection<UInt8>, _ newDirectory: Int32,
        _ newPath: some Collection<UInt8>, flags: Int32 = 0
    ) throws(Errno) {
        try withCPaths(oldPath, newPath) { (o, n) throws(Errno) in
            _ = try call(
                HostSyscallNumber.linkat, Int(oldDirectory), o, Int(newDirectory), n, Int(flags))
        }
    }

    /// unlinkat(2); `flags` AT_REMOVEDIR for rmdir.
    public static func unlinkat(
        _ directory: Int32, _ path: some Collection<UInt8>, flags: Int32 = 0
    )
        throws(Errno)
    {
        try withCPath(path) { (p) throws(Errno) in
            _ = try call(HostSyscallNumber.unlinkat, Int(directory), p, Int(flags))
        }
    }

    /// renameat2(2) with RENAME_NOREPLACE (1) / RENAME_EXCHANGE (2) / RENAME_WHITEOUT (4).
    public static func renameat2(
        _ oldDirectory: Int32, _ oldPath: some Collection<UInt8>, _ newDirectory: Int32,
        _ newPath: some Collection<UInt8>, flags: UInt32 = 0
    ) throws(Errno) {
        try withCPaths(oldPath, newPath) { (o, n) throws(Errno) in
            _ = try call(
                HostSyscallNumber.renameat2, Int(oldDirectory), o, Int(newDirectory), n,
                Int(flags))
        }
    }

    /// fchmodat2(2) (Linux 6.6+), which takes flags: with AT_EMPTY_PATH and an empty path it
    /// changes the file an O_PATH fd stands for (a symlink gives EOPNOTSUPP, as Linux 6.18 does
    /// for any chmod of a link).
    public static func fchmodat(
        _ directory: Int32, _ path: some Collection<UInt8>, mode: UInt32, flags: Int32 = 0
    ) throws(Errno) {
        try withCPath(path) { (p) throws(Errno) in
            _ = try call(HostSyscallNumber.fchmodat2, Int(directory), p, Int(mode), Int(flags))
        }
    }

    /// fchmod(2): needs a real (not O_PATH) fd; EBADF otherwise.
    public static func fchmod(_ fd: Int32, mode: UInt32) throws(Errno) {
        _ = try call(HostSyscallNumber.fchmod, Int(fd), Int(mode))
    }

    /// fchownat(2); nil is -1 (unchanged). Works on O_PATH fds with AT_EMPTY_PATH.
    public static func fchownat(
        _ directory: Int32, _ path: some Collection<UInt8>, uid: UInt32?, gid: UInt32?,
        flags: Int32 = 0
    ) throws(Errno) {
        try withCPath(path) { (p) throws(Errno) in
            _ = try call(
                HostSyscallNumber.fchownat, Int(directory), p,
                Int(Int32(bitPattern: uid ?? UInt32.max)),
                Int(Int32(bitPattern: gid ?? UInt32.max)),
                Int(flags))
        }
    }

    /// A time for utimensat: a value, now (UTIME_NOW) or unchanged (UTIME_OMIT).
    public enum TimeSetting: Sendable, Hashable {
        case now
        case omit
        case set(seconds: Int64, nanoseconds: Int64)
    }

    /// utimensat(2). On an O_PATH fd use an empty path with AT_EMPTY_PATH (a NULL path is
    /// EBADF there: Linux 6.18).
    public static func utimensat(
        _ directory: Int32, _ path: some Collection<UInt8>, access: TimeSetting,
        modification: TimeSetting, flags: Int32 = 0
    ) throws(Errno) {
        func encode(_ t: TimeSetting) -> (Int64, Int64) {
            switch t {
            case .now: return (0, (1 << 30) - 1)
            case .omit: return (0, (1 << 30) - 2)
            case .set(let s, let n): return (s, n)
            }
        }
        var times = (encode(access), encode(modification))
        try withCPath(path) { (p) throws(Errno) in
            try withUnsafeMutableBytes(of: &times) { (raw) throws(Errno) in
                _ = try call(
                    HostSyscallNumber.utimensat, Int(directory), p,
                    Int(bitPattern: raw.baseAddress), Int(flags))
            }
        }
    }
}

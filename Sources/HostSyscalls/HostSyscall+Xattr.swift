import SystemPackage

/// Where an xattr call applies. Linux 6.18 refuses every xattr call on an O_PATH fd (the f*
/// forms and the *xattrat forms with AT_EMPTY_PATH alike give EBADF), so a file held only by an
/// O_PATH fd is reached by `.path(fd.procPath, follow: true)`: the non-`l` call follows the
/// /proc/self/fd magic link to exactly that inode — a symlink's own inode included — while
/// the `l` forms would act on the /proc link itself (EPERM).
public enum HostXattrTarget {
    /// An fd open for I/O (not O_PATH).
    case fd(Int32)
    /// A path; `follow` picks the non-`l` call.
    case path([UInt8], follow: Bool)

    /// The file an O_PATH (or any) fd stands for.
    public static func procPath(of fd: HostFD) -> HostXattrTarget {
        .path(fd.procPath, follow: true)
    }
}

extension HostSyscall {
    /// Calls the fd, l- or plain path form of an xattr syscall; the first argument slot differs.
    private static func xattrCall(
        _ target: HostXattrTarget, numbers: (fd: Int, path: Int, lpath: Int),
        _ a1: Int, _ a2: Int, _ a3: Int, _ a4: Int = 0
    ) throws(Errno) -> Int {
        switch target {
        case .fd(let fd):
            return try call(numbers.fd, Int(fd), a1, a2, a3, a4)
        case .path(let path, let follow):
            return try withCPath(path) { (p) throws(Errno) -> Int in
                try call(follow ? numbers.path : numbers.lpath, p, a1, a2, a3, a4)
            }
        }
    }

    /// The whole value of an xattr (size query, then fetch; retried if it grew between).
    public static func getxattr(_ target: HostXattrTarget, name: some Collection<UInt8>)
        throws(Errno) -> [UInt8]
    {
        let numbers = (
            HostSyscallNumber.fgetxattr, HostSyscallNumber.getxattr, HostSyscallNumber.lgetxattr
        )
        return try withCPath(name) { (n) throws(Errno) -> [UInt8] in
            while true {
                let size = try xattrCall(target, numbers: numbers, n, 0, 0)
                var value = [UInt8](repeating: 0, count: max(size, 1))
                do throws(Errno) {
                    let count = try HostSyscall.withMutableBytes(&value) {
                        (raw) throws(Errno) -> Int in
                        try xattrCall(
                            target, numbers: numbers, n, Int(bitPattern: raw.baseAddress), size)
                    }
                    value.removeSubrange(count...)
                    return value
                } catch {
                    if error != .outOfRange { throw error }
                }
            }
        }
    }

    /// setxattr; `flags` XATTR_CREATE (1) / XATTR_REPLACE (2).
    public static func setxattr(
        _ target: HostXattrTarget, name: some Collection<UInt8>, value: [UInt8], flags: Int32
    ) throws(Errno) {
        let numbers = (
            HostSyscallNumber.fsetxattr, HostSyscallNumber.setxattr, HostSyscallNumber.lsetxattr
        )
        try withCPath(name) { (n) throws(Errno) in
            try HostSyscall.withBytes(value) { (raw) throws(Errno) in
                _ = try xattrCall(
                    target, numbers: numbers, n, Int(bitPattern: raw.baseAddress), value.count,
                    Int(flags))
            }
        }
    }

    /// listxattr: the names (the NUL-separated list split).
    public static func listxattr(_ target: HostXattrTarget) throws(Errno) -> [[UInt8]] {
        let numbers = (
            HostSyscallNumber.flistxattr, HostSyscallNumber.listxattr, HostSyscallNumber.llistxattr
        )
        while true {
            let size = try xattrCall(target, numbers: numbers, 0, 0, 0)
            var list = [UInt8](repeating: 0, count: max(size, 1))
            do throws(Errno) {
                let count = try HostSyscall.withMutableBytes(&list) { (raw) throws(Errno) -> Int in
                    try xattrCall(
                        target, numbers: numbers, Int(bitPattern: raw.baseAddress), size, 0)
                }
                return list[..<count].split(separator: 0).map { Array($0) }
            } catch {
                if error != .outOfRange { throw error }
            }
        }
    }

    public static func removexattr(_ target: HostXattrTarget, name: some Collection<UInt8>)
        throws(Errno)
    {
        let numbers = (
            HostSyscallNumber.fremovexattr, HostSyscallNumber.removexattr,
            HostSyscallNumber.lremovexattr
        )
        try withCPath(name) { (n) throws(Errno) in
            _ = try xattrCall(target, numbers: numbers, n, 0, 0)
        }
    }
}

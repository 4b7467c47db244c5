import VFSCore

extension Linux {
    /// flock(2)'s obsolete LOCK_MAND: since Linux 5.15 a request carrying it is ignored
    /// (returns 0, even for a bad fd).
    public static let LOCK_MAND: Int32 = 32
}

/// `struct flock` on x86-64, 32 bytes: l_type (i16) at 0, l_whence (i16) at 2, l_start (i64)
/// at 8, l_len (i64) at 16, l_pid (i32) at 24, then 4 bytes of padding (checked with
/// `offsetof` against glibc's header). `struct flock64` is the same on 64-bit.
public struct LinuxFlock: Sendable, Hashable {
    public static let size = 32

    /// F_RDLCK, F_WRLCK or F_UNLCK.
    public var type: Int16
    /// SEEK_SET, SEEK_CUR or SEEK_END: what `start` counts from.
    public var whence: Int16
    public var start: Int64
    /// 0 for "to end of file and beyond"; negative for the bytes before `start`.
    public var length: Int64
    /// The owner F_GETLK reports (-1 for an OFD lock); must be 0 for the F_OFD_* commands.
    public var pid: Int32

    public init(type: Int16, whence: Int16 = 0, start: Int64 = 0, length: Int64 = 0, pid: Int32 = 0)
    {
        self.type = type
        self.whence = whence
        self.start = start
        self.length = length
        self.pid = pid
    }

    /// Decodes the little-endian layout; missing trailing bytes read as zero.
    public init(bytes: [UInt8]) {
        func field(_ offset: Int, _ width: Int) -> UInt64 {
            var value: UInt64 = 0
            for index in 0..<width where offset + index < bytes.count {
                value |= UInt64(bytes[offset + index]) << (8 * UInt64(index))
            }
            return value
        }
        type = Int16(truncatingIfNeeded: field(0, 2))
        whence = Int16(truncatingIfNeeded: field(2, 2))
        start = Int64(bitPattern: field(8, 8))
        length = Int64(bitPattern: field(16, 8))
        pid = Int32(truncatingIfNeeded: field(24, 4))
    }

    /// The 32 bytes as the kernel writes them back (padding zero).
    public var bytes: [UInt8] {
        var result = [UInt8](repeating: 0, count: LinuxFlock.size)
        func put(_ value: UInt64, _ offset: Int, _ width: Int) {
            for index in 0..<width {
                result[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))
            }
        }
        put(UInt64(UInt16(bitPattern: type)), 0, 2)
        put(UInt64(UInt16(bitPattern: whence)), 2, 2)
        put(UInt64(bitPattern: start), 8, 8)
        put(UInt64(bitPattern: length), 16, 8)
        put(UInt64(UInt32(bitPattern: pid)), 24, 4)
        return result
    }
}

/// fcntl's record-lock commands and flock(2). The locks live in `Kernel.locks`
/// (`FileLockTable`, which states who owns what and when locks go).
extension Task {
    /// fcntl(2) F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW on `lock`,
    /// with fs/locks.c's checks in its order:
    /// - EBADF for a closed or O_PATH `fd`.
    /// - F_GETLK: EINVAL unless l_type is F_RDLCK or F_WRLCK (F_OFD_GETLK also takes F_UNLCK,
    ///   to find the description's own lock on the range).
    /// - The range (`flock64_to_posix_lock`): EINVAL for an unknown l_whence; EOVERFLOW when
    ///   l_start or the end passes the largest offset; EINVAL when the start, or the start of a
    ///   negative l_len's range, is before 0; then EINVAL for an unknown l_type.
    /// - F_SETLK*: EBADF for F_RDLCK without read access or F_WRLCK without write access.
    /// - F_OFD_*: EINVAL unless l_pid is 0.
    /// - A conflict: F_SETLK is EAGAIN; F_SETLKW sleeps, or is EDEADLK when the wait would close
    ///   a cycle of processes waiting on each other (never checked for OFD locks).
    /// F_GETLK rewrites `lock` with the first conflicting lock (l_whence SEEK_SET, l_len 0 for
    /// "to EOF", l_pid -1 for an OFD lock), or only sets l_type to F_UNLCK.
    /// Other commands are EINVAL.
    public func fcntlLock(_ fd: Int32, _ command: Int32, _ lock: inout LinuxFlock) throws(Errno) {
        let description = try files.get(fd)
        guard !description.isPathOnly else { throw .badFileDescriptor }
        let ofd: Bool
        let testing: Bool
        switch command {
        case Linux.F_GETLK: (ofd, testing) = (false, true)
        case Linux.F_OFD_GETLK: (ofd, testing) = (true, true)
        case Linux.F_SETLK, Linux.F_SETLKW: (ofd, testing) = (false, false)
        case Linux.F_OFD_SETLK, Linux.F_OFD_SETLKW: (ofd, testing) = (true, false)
        default: throw .invalidArgument
        }
        if command == Linux.F_GETLK && lock.type != Linux.F_RDLCK && lock.type != Linux.F_WRLCK {
            throw .invalidArgument
        }
        let range = try lockRange(lock, description)
        guard [Linux.F_RDLCK, Linux.F_WRLCK, Linux.F_UNLCK].contains(lock.type) else {
            throw .invalidArgument
        }
        if !testing {
            if lock.type == Linux.F_RDLCK && !description.isReadable { throw .badFileDescriptor }
            if lock.type == Linux.F_WRLCK && !description.isWritable { throw .badFileDescriptor }
        }
        if ofd && lock.pid != 0 { throw .invalidArgument }
        let request = FileLockTable.RecordLock(
            owner: ofd ? .description(ObjectIdentifier(description)) : .process(id),
            type: lock.type, start: range.start, end: range.end)
        if !testing {
            let wait = command == Linux.F_SETLKW || command == Linux.F_OFD_SETLKW
            try kernel.locks.setRecordLock(request, on: description, wait: wait)
            // A close of `fd` racing with the call (say, while F_SETLKW slept) has already
            // dropped the process's locks; one set after it would outlive every descriptor.
            // Linux's fcntl_setlk undoes it and fails with EBADF.
            if !ofd && lock.type != Linux.F_UNLCK && (try? files.get(fd)) !== description {
                var undo = request
                undo.type = Linux.F_UNLCK
                try? kernel.locks.setRecordLock(undo, on: description, wait: false)
                throw .badFileDescriptor
            }
            return
        }
        guard let held = try kernel.locks.testRecordLock(request, on: description) else {
            lock.type = Linux.F_UNLCK
            return
        }
        lock = LinuxFlock(
            type: held.type, whence: Int16(Linux.SEEK_SET), start: held.start,
            length: held.end == Int64.max ? 0 : held.end - held.start + 1,
            pid: held.owner.reportedPID)
    }

    /// `flock64_to_posix_lock`: the inclusive byte range `lock` names, from the description's
    /// offset (SEEK_CUR) or the file's size (SEEK_END). Linux 6.18 on tmpfs gives EOVERFLOW for
    /// l_start INT64_MAX with l_len 2, and EINVAL for l_start 3 with l_len -5.
    private func lockRange(_ lock: LinuxFlock, _ description: FileDescription) throws(Errno)
        -> (start: Int64, end: Int64)
    {
        let base: Int64
        switch Int32(lock.whence) {
        case Linux.SEEK_SET: base = 0
        case Linux.SEEK_CUR: base = description.offset
        case Linux.SEEK_END: base = try description.stat(mask: .size).size
        default: throw .invalidArgument
        }
        // base ≥ 0, so "l_start > OFFSET_MAX - base" cannot wrap, nor can base + l_start after.
        guard lock.start <= Int64.max - base else { throw .overflow }
        var start = base + lock.start
        guard start >= 0 else { throw .invalidArgument }
        let end: Int64
        if lock.length > 0 {
            guard lock.length - 1 <= Int64.max - start else { throw .overflow }
            end = start + (lock.length - 1)
        } else if lock.length < 0 {
            // start ≥ 0 and length < 0: the sum cannot wrap.
            guard start + lock.length >= 0 else { throw .invalidArgument }
            end = start - 1
            start += lock.length
        } else {
            end = Int64.max
        }
        return (start, end)
    }

    /// flock(2): LOCK_SH, LOCK_EX or LOCK_UN, optionally | LOCK_NB. The lock belongs to the
    /// open file description: descriptors dup'ed from it (or inherited across fork) share it;
    /// another open of the file conflicts. A held lock is converted by being dropped first,
    /// so a conversion that fails with LOCK_NB leaves no lock (Linux 6.18 on tmpfs: SH held by
    /// two opens, EX|NB on one gives EWOULDBLOCK and the other may then take EX).
    /// Checks in Linux's order: LOCK_MAND set → 0 (ignored); any other operation → EINVAL;
    /// EBADF for a closed or O_PATH `fd`, or (except LOCK_UN) one opened for neither reading
    /// nor writing; EWOULDBLOCK under LOCK_NB when another description holds a conflicting lock.
    public func flock(_ fd: Int32, _ operation: Int32) throws(Errno) {
        if operation & Linux.LOCK_MAND != 0 { return }
        let type: Int16
        switch operation & ~Linux.LOCK_NB {
        case Linux.LOCK_SH: type = Linux.F_RDLCK
        case Linux.LOCK_EX: type = Linux.F_WRLCK
        case Linux.LOCK_UN: type = Linux.F_UNLCK
        default: throw .invalidArgument
        }
        let description = try files.get(fd)
        guard !description.isPathOnly else { throw .badFileDescriptor }
        if type != Linux.F_UNLCK && !description.isReadable && !description.isWritable {
            throw .badFileDescriptor
        }
        try kernel.locks.flock(type, on: description, wait: operation & Linux.LOCK_NB == 0)
    }
}

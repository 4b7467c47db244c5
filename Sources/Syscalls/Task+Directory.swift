import VFSCore

/// getdents64, getdents, chdir, fchdir, getcwd, chroot, umask (fs/readdir.c, fs/open.c,
/// fs/d_path.c).
extension Task {
    // MARK: - Reading directories

    /// getdents64(2): fills `buffer` with `struct linux_dirent64` records (see
    /// `LinuxDirent64`), as many whole records as fit, and returns the bytes used; 0 at the end
    /// of the directory. Each record's `d_off` is the position after it, so
    /// `lseek(fd, d_off, SEEK_SET)` resumes there.
    ///
    /// Errors in Linux's order: EBADF for a closed or O_PATH descriptor; ENOTDIR unless a
    /// directory; ENOENT once the directory has been removed; EINVAL when not even the first
    /// record fits (a count of 0 included, but not at the end, where the answer is 0).
    public func getdents64(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) throws(Errno)
        -> Int
    {
        try fillDirectoryRecords(fd, count: buffer.count, layout: .dirent64) { record, at in
            record.withUnsafeBytes { bytes in
                UnsafeMutableRawBufferPointer(rebasing: buffer[at..<(at + bytes.count)])
                    .copyMemory(from: bytes)
            }
            return true
        }
    }

    /// getdents64(2) with a buffer of `count` bytes: the records, as raw bytes.
    public func getdents64(_ fd: Int32, count: Int) throws(Errno) -> [UInt8] {
        var result: [UInt8] = []
        _ = try fillDirectoryRecords(fd, count: count, layout: .dirent64) { record, _ in
            result.append(contentsOf: record)
            return true
        }
        return result
    }

    /// getdents(2), the old form: `struct linux_dirent` records (see `LinuxDirent`), whose
    /// `d_type` is the last byte of each record. Same errors as getdents64.
    public func getdents(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) throws(Errno)
        -> Int
    {
        try fillDirectoryRecords(fd, count: buffer.count, layout: .legacy) { record, at in
            record.withUnsafeBytes { bytes in
                UnsafeMutableRawBufferPointer(rebasing: buffer[at..<(at + bytes.count)])
                    .copyMemory(from: bytes)
            }
            return true
        }
    }

    public func getdents(_ fd: Int32, count: Int) throws(Errno) -> [UInt8] {
        var result: [UInt8] = []
        _ = try fillDirectoryRecords(fd, count: count, layout: .legacy) { record, _ in
            result.append(contentsOf: record)
            return true
        }
        return result
    }

    /// The two record layouts of fs/readdir.c.
    enum DirentLayout {
        /// `linux_dirent64`: ino u64, off s64, reclen u16, type u8, name, NUL.
        case dirent64
        /// `linux_dirent`: ino unsigned long, off unsigned long, reclen u16, name, NUL, padding,
        /// then type in the record's last byte.
        case legacy
    }

    /// The core of both getdents calls: encodes entries from the description's position on
    /// and hands each record to `put` with the byte offset it goes at, while they fit in
    /// `count` bytes. `put` returns false when the caller's memory faults: as in Linux, that
    /// is EFAULT if no record was placed yet, and otherwise ends the call with what was placed
    /// (the position stays after the last placed record).
    func fillDirectoryRecords(
        _ fd: Int32, count: Int, layout: DirentLayout,
        _ put: ([UInt8], Int) -> Bool
    ) throws(Errno) -> Int {
        let description = try files.get(fd)
        var used = 0
        var failure: Errno?
        try description.readDirectory { entry in
            let record = Task.encodeDirent(entry, layout: layout)
            // `filldir64`: a record larger than what is left stops the fill; EINVAL if it is
            // the first.
            guard record.count <= count - used else {
                if used == 0 { failure = .invalidArgument }
                return false
            }
            guard put(record, used) else {
                if used == 0 { failure = .badAddress }
                return false
            }
            used += record.count
            return true
        }
        if used == 0, let failure { throw failure }
        return used
    }

    /// One record, padded with zeros to a multiple of 8 bytes.
    static func encodeDirent(_ entry: DirectoryEntry, layout: DirentLayout) -> [UInt8] {
        let name = entry.name.bytes
        let header = layout == .dirent64 ? 19 : 18
        // dirent64: name + NUL; the old form also needs room for the trailing d_type byte.
        let unpadded = header + name.count + (layout == .dirent64 ? 1 : 2)
        let length = (unpadded + 7) & ~7
        var record = [UInt8](repeating: 0, count: length)
        record.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: entry.inode.littleEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: entry.nextOffset.littleEndian, toByteOffset: 8, as: Int64.self)
            raw.storeBytes(of: UInt16(length).littleEndian, toByteOffset: 16, as: UInt16.self)
        }
        let type = entry.type.directoryEntryType
        switch layout {
        case .dirent64:
            record[18] = type
        case .legacy:
            record[length - 1] = type
        }
        record.replaceSubrange(header..<(header + name.count), with: name)
        return record
    }

    // MARK: - Working directory and root

    /// chdir(2): ENOENT, ENOTDIR (also for "file/"), ELOOP... from the lookup, then ENOTDIR
    /// unless a directory, then EACCES without search permission on it.
    public func chdir(_ path: PathArgument) throws(Errno) {
        let place = try vfs.getDentry(credentials, operation(Linux.AT_FDCWD, path))
        try fs.setWorkingDirectory(place)
    }

    /// fchdir(2): EBADF unless open (an O_PATH descriptor will do, as in Linux), ENOTDIR unless
    /// a directory, EACCES without search permission.
    public func fchdir(_ fd: Int32) throws(Errno) {
        let description = try files.get(fd)
        try fs.setWorkingDirectory(description.location)
    }

    /// getcwd(2): the working directory's path and its NUL, which must fit in `size` bytes
    /// (ERANGE otherwise, a size of 0 included). ENOENT once the directory has been removed
    /// (checked first); ENAMETOOLONG past PATH_MAX. A directory outside the root (after
    /// chroot) reads "(unreachable)/..." as Linux has since 2.6.36. The syscall returns the
    /// length of what it copies, NUL included.
    public func getcwd(_ size: Int) throws(Errno) -> [UInt8] {
        var path = try vfs.pathname(of: fs.workingDirectory, root: fs.root)
        path.append(0)
        guard path.count <= Linux.PATH_MAX else { throw .fileNameTooLong }
        guard path.count <= size else { throw .outOfRange }
        return path
    }

    /// chroot(2): the lookup's errors, then ENOTDIR unless a directory, EACCES without search
    /// permission, then EPERM without CAP_SYS_CHROOT. The working directory stays where it is.
    public func chroot(_ path: PathArgument) throws(Errno) {
        let place = try vfs.getDentry(credentials, operation(Linux.AT_FDCWD, path))
        try fs.setRoot(place)
    }

    /// umask(2): sets the mask to `mask`'s permission bits (0777) and returns the old one.
    @discardableResult
    public func umask(_ mask: UInt32) -> UInt32 {
        fs.exchangeUmask(mask)
    }
}

/// A decoded `struct linux_dirent64` record, for callers reading getdents64's output.
public struct LinuxDirent64: Sendable, Hashable {
    public var inode: UInt64
    public var offset: Int64
    public var recordLength: UInt16
    public var type: UInt8
    public var name: [UInt8]

    /// The records in `bytes` (as getdents64 filled them). Stops at a malformed record.
    public static func parse(_ bytes: [UInt8]) -> [LinuxDirent64] {
        parseRecords(bytes, legacy: false)
    }

    /// The records of the old getdents(2), whose type is each record's last byte.
    public static func parseLegacy(_ bytes: [UInt8]) -> [LinuxDirent64] {
        parseRecords(bytes, legacy: true)
    }

    private static func parseRecords(_ bytes: [UInt8], legacy: Bool) -> [LinuxDirent64] {
        var result: [LinuxDirent64] = []
        var at = 0
        let header = legacy ? 18 : 19
        while bytes.count - at >= header + 1 {
            let (inode, offset, length) = bytes.withUnsafeBytes { raw in
                (
                    UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)),
                    Int64(littleEndian: raw.loadUnaligned(fromByteOffset: at + 8, as: Int64.self)),
                    UInt16(
                        littleEndian: raw.loadUnaligned(fromByteOffset: at + 16, as: UInt16.self))
                )
            }
            let end = at + Int(length)
            guard Int(length) > header, end <= bytes.count else { break }
            let type = legacy ? bytes[end - 1] : bytes[at + 18]
            let nameBytes = bytes[(at + header)..<end]
            let name = Array(nameBytes.prefix { $0 != 0 })
            result.append(
                LinuxDirent64(
                    inode: inode, offset: offset, recordLength: length, type: type, name: name))
            at = end
        }
        return result
    }
}

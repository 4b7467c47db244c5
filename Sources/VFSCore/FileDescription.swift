import Synchronization

/// An open file: Linux's `struct file`. Holds where the file is (pinning its mount), the
/// offset, the status flags, and the file system's implementation. File-descriptor tables
/// share one description between `dup`ed descriptors, so they share its offset.
///
/// Lock order: `position` (the offset lock, held across a read or write so that concurrent
/// calls on one description do not interleave offsets, as Linux's `f_pos_lock`) is taken
/// before anything the implementation locks; `status` is a leaf.
public final class FileDescription: @unchecked Sendable {
    /// Linux caps one read or write at MAX_RW_COUNT (INT_MAX rounded down to a page).
    public static let maxTransfer = 0x7fff_f000

    public let location: VirtualDentry
    public let impl: any FileDescriptionImpl
    /// The access mode and creation-time flags the file was opened with.
    public let openFlags: OpenOptions
    /// Credentials of the opener (`f_cred`).
    public let credentials: Credentials

    private let pin: PinnedLocation
    private let position = Mutex<Int64>(0)
    private let status: Mutex<Int32>
    /// What must happen when the description goes away (see `onRelease`).
    private let releaseHandlers = Mutex<[@Sendable () -> Void]>([])

    /// Whether this description holds write access to its mount (see
    /// `Mount.acquireWriteAccess`), given back when it goes away.
    private let holdsWriteAccess: Bool

    public init(
        location: VirtualDentry, impl: any FileDescriptionImpl, flags: OpenOptions,
        credentials: Credentials, holdsWriteAccess: Bool = false
    ) {
        self.holdsWriteAccess = holdsWriteAccess
        self.location = location
        self.impl = impl
        self.openFlags = flags
        self.credentials = credentials
        self.pin = PinnedLocation(location)
        self.status = Mutex(flags.flags)
    }

    /// The handlers run first, as Linux's `__fput` removes flock and OFD locks
    /// (`locks_remove_file`) before the file system's release.
    deinit {
        for handler in releaseHandlers.withLock({ $0 }) { handler() }
        impl.release()
        if holdsWriteAccess { location.mount.releaseWriteAccess() }
    }

    /// Registers `handler` to run once, when the last reference to this description goes away
    /// (the syscall layer's lock table drops the description's OFD and flock locks this way).
    /// The handler must not capture the description, which would then never go away.
    public func onRelease(_ handler: @escaping @Sendable () -> Void) {
        releaseHandlers.withLock { $0.append(handler) }
    }

    /// A file descriptor referring to this description is being closed (see
    /// `FileDescriptionImpl.onClose`); file-descriptor tables call it once per descriptor
    /// closed, whether or not other references remain.
    public func onClose() throws(Errno) {
        try impl.onClose(openFlags: openFlags)
    }

    public var isReadable: Bool { openFlags.isReadable }
    public var isWritable: Bool { openFlags.isWritable }
    public var isPathOnly: Bool { openFlags.isPathOnly }
    public var dentry: Dentry { location.dentry }

    /// F_GETFL: access mode plus the current status flags.
    public var statusFlags: Int32 { status.withLock { $0 } }

    /// F_SETFL: only O_APPEND, O_NONBLOCK, O_DIRECT, O_NOATIME and O_ASYNC change.
    public func setStatusFlags(_ flags: Int32) {
        let settable = OpenOptions.settableStatusFlags
        let updated = status.withLock { (current) -> Int32 in
            current = (current & ~settable) | (flags & settable)
            return current
        }
        impl.statusFlagsChanged(updated)
    }

    private var appends: Bool { statusFlags & OpenOptions.append != 0 }

    public var offset: Int64 { position.withLock { $0 } }

    // MARK: - I/O

    /// read(2): at the offset, advancing it. EBADF unless open for reading.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        guard isReadable else { throw .badFileDescriptor }
        let buffer = clamp(buffer)
        // Streams have no offset; a blocked reader must not hold the offset lock a writer
        // through the same description needs.
        if !impl.isSeekable { return try impl.read(into: buffer, at: 0) }
        return try position.withLock { (offset) throws(Errno) -> Int in
            let count = try impl.read(into: buffer, at: offset)
            offset = offset.addingReportingOverflow(Int64(count)).partialValue
            return count
        }
    }

    /// pread64(2): at `offset`, leaving the file offset alone. EINVAL for a negative offset.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno)
        -> Int
    {
        // ksys_pread64's order: EINVAL for a negative offset, EBADF for O_PATH, ESPIPE
        // without FMODE_PREAD, then vfs_read's EBADF without FMODE_READ.
        guard offset >= 0 else { throw .invalidArgument }
        guard !isPathOnly else { throw .badFileDescriptor }
        guard impl.isSeekable else { throw .illegalSeek }
        guard isReadable else { throw .badFileDescriptor }
        return try impl.read(into: clamp(buffer), at: offset)
    }

    /// write(2): at the offset (or the end, under O_APPEND), advancing it. `append`, when
    /// given, overrides O_APPEND for this call (pwritev2's RWF_APPEND and RWF_NOAPPEND).
    public func write(
        from buffer: UnsafeRawBufferPointer, credentials: Credentials, append: Bool? = nil
    ) throws(Errno) -> Int {
        let appends = append ?? self.appends
        guard isWritable else { throw .badFileDescriptor }
        let buffer = clamp(buffer)
        if !impl.isSeekable {
            return try impl.write(from: buffer, at: 0, append: false, credentials: credentials)
                .count
        }
        return try position.withLock { (offset) throws(Errno) -> Int in
            let result = try impl.write(
                from: buffer, at: offset, append: appends, credentials: credentials)
            offset = result.end
            return result.count
        }
    }

    /// pwrite64(2). Under O_APPEND Linux appends and ignores `offset` (a documented bug kept
    /// for compatibility); so do we. `append`, when given, overrides O_APPEND for this call.
    public func write(
        from buffer: UnsafeRawBufferPointer, at offset: Int64, credentials: Credentials,
        append: Bool? = nil
    ) throws(Errno) -> Int {
        let appends = append ?? self.appends
        // ksys_pwrite64's order, as for pread64.
        guard offset >= 0 else { throw .invalidArgument }
        guard !isPathOnly else { throw .badFileDescriptor }
        guard impl.isSeekable else { throw .illegalSeek }
        guard isWritable else { throw .badFileDescriptor }
        return try impl.write(
            from: clamp(buffer), at: offset, append: appends, credentials: credentials
        ).count
    }

    /// lseek(2).
    public func seek(_ offset: Int64, whence: SeekWhence) throws(Errno) -> Int64 {
        guard !isPathOnly else { throw .badFileDescriptor }
        guard impl.isSeekable else { throw .illegalSeek }
        return try position.withLock { (position) throws(Errno) -> Int64 in
            let target: Int64
            switch whence {
            case .set:
                target = offset
            case .current:
                let sum = position.addingReportingOverflow(offset)
                guard !sum.overflow else { throw Errno.invalidArgument }
                target = sum.partialValue
            case .end:
                if dentry.isDirectory { throw Errno.invalidArgument }
                let sum = try impl.endOffset().addingReportingOverflow(offset)
                guard !sum.overflow else { throw Errno.invalidArgument }
                target = sum.partialValue
            case .data, .hole:
                target = try impl.seekDataOrHole(whence, from: offset)
            }
            guard target >= 0 else { throw Errno.invalidArgument }
            position = target
            return target
        }
    }

    /// getdents64's core: entries from the offset on, advancing it past each accepted entry.
    public func readDirectory(_ emit: (DirectoryEntry) -> Bool) throws(Errno) {
        guard !isPathOnly else { throw .badFileDescriptor }
        try position.withLock { (position) throws(Errno) in
            position = try impl.readDirectory(from: position, emit)
        }
    }

    /// fallocate(2), with `vfs_fallocate`'s checks in its order: EINVAL for a negative offset
    /// or a non-positive length; EOPNOTSUPP for unknown or contradictory modes (PUNCH_HOLE
    /// needs KEEP_SIZE); EBADF unless open for writing; ESPIPE, EISDIR, ENODEV by file type;
    /// EFBIG when the range wraps past the largest offset; then the file system.
    ///
    /// `credentials` are the caller's (the set-ID stripping of `file_modified` asks whether
    /// *the caller* has CAP_FSETID); they default to the opener's.
    public func allocate(
        mode: AllocateMode, offset: Int64, length: Int64, credentials: Credentials? = nil
    ) throws(Errno) {
        guard offset >= 0, length > 0 else { throw .invalidArgument }
        let known: AllocateMode = [
            .keepSize, .punchHole, .noHideStale, .collapseRange, .zeroRange, .insertRange,
            .unshareRange,
        ]
        guard known.isSuperset(of: mode) else { throw .notSupportedOnSocket }
        if mode.contains(.punchHole) && mode.contains(.zeroRange) { throw .notSupportedOnSocket }
        if mode.contains(.punchHole) && !mode.contains(.keepSize) { throw .notSupportedOnSocket }
        guard isWritable else { throw .badFileDescriptor }
        switch dentry.fileType {
        case .fifo: throw .illegalSeek
        case .directory: throw .isDirectory
        case .regular, .blockDevice: break
        default: throw .operationNotSupportedByDevice
        }
        guard !offset.addingReportingOverflow(length).overflow else { throw .fileTooLarge }
        try impl.allocate(
            mode: mode, offset: offset, length: length,
            credentials: credentials ?? self.credentials)
    }

    public func sync(dataOnly: Bool) throws(Errno) {
        guard !isPathOnly else { throw .badFileDescriptor }
        try impl.sync(dataOnly: dataOnly)
    }

    // MARK: - Attributes, through the file system

    public func stat(mask: StatxMask = .basicStats) throws(Errno) -> FileStat {
        var result = try location.mount.filesystem.stat(dentry, mask: mask)
        result.mountID = location.mount.id
        return result
    }

    private func clamp(_ buffer: UnsafeMutableRawBufferPointer) -> UnsafeMutableRawBufferPointer {
        buffer.count <= FileDescription.maxTransfer
            ? buffer : UnsafeMutableRawBufferPointer(rebasing: buffer[..<FileDescription.maxTransfer])
    }

    private func clamp(_ buffer: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        buffer.count <= FileDescription.maxTransfer
            ? buffer : UnsafeRawBufferPointer(rebasing: buffer[..<FileDescription.maxTransfer])
    }
}

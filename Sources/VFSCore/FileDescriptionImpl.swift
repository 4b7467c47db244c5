/// One entry read from a directory (getdents64's `linux_dirent64` before encoding).
public struct DirectoryEntry: Sendable {
    public var name: Name
    public var type: FileType
    public var inode: UInt64
    /// The position that resumes reading after this entry (`d_off`).
    public var nextOffset: Int64

    public init(name: Name, type: FileType, inode: UInt64, nextOffset: Int64) {
        self.name = name
        self.type = type
        self.inode = inode
        self.nextOffset = nextOffset
    }
}

/// lseek's whence values.
public enum SeekWhence: Int32, Sendable {
    case set = 0
    case current = 1
    case end = 2
    case data = 3
    case hole = 4
}

/// fallocate's mode bits.
public struct AllocateMode: OptionSet, Sendable, Hashable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public static let keepSize = AllocateMode(rawValue: 0x01)
    public static let punchHole = AllocateMode(rawValue: 0x02)
    public static let noHideStale = AllocateMode(rawValue: 0x04)
    public static let collapseRange = AllocateMode(rawValue: 0x08)
    public static let zeroRange = AllocateMode(rawValue: 0x10)
    public static let insertRange = AllocateMode(rawValue: 0x20)
    public static let unshareRange = AllocateMode(rawValue: 0x40)
}

/// The file system's side of an open file. The core's `FileDescription` keeps the offset and
/// flags and calls these with explicit positions; an implementation never sees the offset lock.
///
/// The defaults below are not placeholders: each is the errno Linux gives for a file type that
/// lacks the operation (read of a directory is EISDIR, getdents of a file ENOTDIR, ...).
public protocol FileDescriptionImpl: AnyObject, Sendable {
    /// Reads at `offset`; 0 at end of file.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int
    /// Writes at `offset`, or at the end of file when `append` (then atomically with finding
    /// the end). Returns the count written and the offset just past it.
    func write(
        from buffer: UnsafeRawBufferPointer, at offset: Int64, append: Bool,
        credentials: Credentials
    ) throws(Errno) -> (count: Int, end: Int64)
    /// The size SEEK_END counts from.
    func endOffset() throws(Errno) -> Int64
    /// SEEK_DATA / SEEK_HOLE.
    func seekDataOrHole(_ whence: SeekWhence, from offset: Int64) throws(Errno) -> Int64
    /// Calls `emit` with entries from `position` on, until it returns false or the directory
    /// ends; returns the position to resume from. Entries must not be lost or repeated while
    /// the directory changes between calls.
    func readDirectory(from position: Int64, _ emit: (DirectoryEntry) -> Bool) throws(Errno)
        -> Int64
    func allocate(
        mode: AllocateMode, offset: Int64, length: Int64, credentials: Credentials
    ) throws(Errno)
    func sync(dataOnly: Bool) throws(Errno)
    /// Called once, when the last reference to the description goes away.
    func release()
    /// False for pipes and sockets: pread, pwrite and lseek are ESPIPE.
    var isSeekable: Bool { get }
    /// F_SETFL changed the status flags (O_NONBLOCK, O_APPEND...).
    func statusFlagsChanged(_ flags: Int32)
    /// The pipe end behind this file, for pipes and for FIFOs a file system wraps (F_GETPIPE_SZ
    /// and O_ASYNC apply to both); nil for everything else.
    var pipeEnd: PipeFile? { get }
}

extension FileDescriptionImpl {
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno)
        -> Int
    { throw .invalidArgument }
    public func write(
        from buffer: UnsafeRawBufferPointer, at offset: Int64, append: Bool,
        credentials: Credentials
    ) throws(Errno) -> (count: Int, end: Int64) { throw .invalidArgument }
    public func endOffset() throws(Errno) -> Int64 { 0 }
    public func seekDataOrHole(_ whence: SeekWhence, from offset: Int64) throws(Errno) -> Int64 {
        throw .invalidArgument
    }
    public func readDirectory(from position: Int64, _ emit: (DirectoryEntry) -> Bool)
        throws(Errno) -> Int64
    { throw .notDirectory }
    public func allocate(
        mode: AllocateMode, offset: Int64, length: Int64, credentials: Credentials
    ) throws(Errno) { throw .operationNotSupportedByDevice }
    public func sync(dataOnly: Bool) throws(Errno) {}
    public func release() {}
    public var isSeekable: Bool { true }
    public func statusFlagsChanged(_ flags: Int32) {}
    public var pipeEnd: PipeFile? { nil }
}

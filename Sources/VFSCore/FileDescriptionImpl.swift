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
    /// Called each time a file descriptor referring to the description is closed (close,
    /// close_range, dup2 over it, exec's close-on-exec, exit), before the reference goes:
    /// Linux's `filp_close` calling `f_op->flush`, gVisor's `FileDescriptionImpl.OnClose`.
    /// `openFlags` are the description's open flags. Its error is close(2)'s result (the
    /// descriptor is closed all the same). Default: nothing.
    func onClose(openFlags: OpenOptions) throws(Errno)
    /// False for pipes and sockets: pread, pwrite and lseek are ESPIPE.
    var isSeekable: Bool { get }
    /// F_SETFL changed the status flags (O_NONBLOCK, O_APPEND...).
    func statusFlagsChanged(_ flags: Int32)
    /// The pipe end behind this file, for pipes and for FIFOs a file system wraps (F_GETPIPE_SZ
    /// and O_ASYNC apply to both); nil for everything else.
    var pipeEnd: PipeFile? { get }
    /// What a real process may mmap in place of this file (`vfs run` installs it at the
    /// descriptor's number in the program, then lets the host kernel map it); nil when the file
    /// cannot be mapped (directories, FIFOs, O_PATH: mmap is ENODEV, or EACCES/EBADF by mode).
    func mappingSource() -> MappingSource?
    /// For a `.copyOfContents` file that can keep a copy current: tells `observer`, at once and
    /// while the contents cannot change, the file's size and every data extent (as
    /// `sizeChanged` then `contentsWritten` calls), then every later change made through any
    /// description of the same file, until `stopObservingContents`. Default:
    /// ENODEV (the copy cannot be kept current; a user must not share it).
    func observeContents(_ observer: any FileContentObserver) throws(Errno)
    /// Undoes `observeContents` (nothing if `observer` is not attached).
    func stopObservingContents(_ observer: any FileContentObserver)
}

/// Told about every change to a file's bytes or size (`FileDescriptionImpl.observeContents`),
/// in the order the changes happen. An implementation calls it with the file's data lock held
/// (see its lock order): the observer must not call back into the file system, and should be
/// quick (it mirrors the change into a copy). Calls come from whichever thread changes the file.
public protocol FileContentObserver: AnyObject {
    /// `bytes` were written at `offset` (the file is now at least `offset + bytes.count` long).
    func contentsWritten(_ bytes: UnsafeRawBufferPointer, at offset: Int64)
    /// `[offset, offset + length)` now reads as zeros (a punched hole); the size is unchanged.
    func contentsZeroed(offset: Int64, length: Int64)
    /// The file is now `size` bytes long (truncate, or a size-extending fallocate); bytes past
    /// a shrink are gone and read as zeros if the file grows again.
    func sizeChanged(to size: Int64)
}

/// How a file can be memory-mapped by a real process (see `FileDescriptionImpl.mappingSource`).
public enum MappingSource: Sendable, Equatable {
    /// A host descriptor open on this very file, owned by the implementation (valid while the
    /// description lives; a user duplicates it). Mappings of it are the file's own pages, so
    /// MAP_SHARED writes reach the file and every later read sees them. It should have the
    /// description's access mode (a user checks and reopens it otherwise), so the host kernel's
    /// own mmap and mprotect checks (EACCES for PROT_WRITE|MAP_SHARED on a read-only file) are
    /// Linux's.
    case hostDescriptor(Int32)
    /// No host file behind it: only a copy of the contents can be mapped. A copy kept current
    /// (`observeContents`) reads like the file in any mapping; writes through a shared mapping
    /// would still not reach the file, so a user must refuse shared mappings that can write
    /// (ENODEV), and every shared mapping of a copy that cannot be kept current.
    case copyOfContents
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
    public func onClose(openFlags: OpenOptions) throws(Errno) {}
    public var isSeekable: Bool { true }
    public func statusFlagsChanged(_ flags: Int32) {}
    public var pipeEnd: PipeFile? { nil }
    public func mappingSource() -> MappingSource? { nil }
    public func observeContents(_ observer: any FileContentObserver) throws(Errno) {
        throw .operationNotSupportedByDevice
    }
    public func stopObservingContents(_ observer: any FileContentObserver) {}
}

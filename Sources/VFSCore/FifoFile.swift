import Synchronization

/// What a FIFO's inode records when its pipe moves data. Linux stamps the FIFO's inode, not
/// the pipe: a read that returns data stamps atime (`file_accessed`, which O_NOATIME skips),
/// a write that moves data stamps mtime and ctime (`file_update_time`). Each file system keeps
/// those times where its inodes live (tmpfs in the inode, the gofer in a synthetic dentry, the
/// host backend by moving the bytes through the real host FIFO so the host kernel stamps it).
public protocol FifoInodeEvents: Sendable {
    /// `count` bytes (> 0) were read; `noAccessTime`: the description has O_NOATIME.
    func dataRead(_ count: Int, noAccessTime: Bool)
    /// The pipe took `bytes` (not empty).
    func dataWritten(_ bytes: UnsafeRawBufferPointer)
}

/// An open FIFO of a file system: an end of the inode's shared pipe, and the inode's
/// timestamp rule (`events`), called after the pipe's lock is released.
///
/// Lock order: none held across calls (`noAccessTime` is an atomic; the pipe's lock is a leaf).
public final class FifoFile: FileDescriptionImpl {
    public let pipe: PipeFile
    let events: any FifoInodeEvents
    /// O_NOATIME, from open or F_SETFL.
    private let noAccessTime: Atomic<Bool>

    public init(pipe: PipeFile, events: any FifoInodeEvents, options: OpenOptions) {
        self.pipe = pipe
        self.events = events
        self.noAccessTime = Atomic(options.has(OpenOptions.noAccessTime))
    }

    public var isSeekable: Bool { false }
    public var pipeEnd: PipeFile? { pipe }

    public func statusFlagsChanged(_ flags: Int32) {
        pipe.statusFlagsChanged(flags)
        noAccessTime.store(flags & OpenOptions.noAccessTime != 0, ordering: .relaxed)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno)
        -> Int
    {
        let count = try pipe.read(into: buffer, at: offset)
        if count > 0 { events.dataRead(count, noAccessTime: noAccessTime.load(ordering: .relaxed)) }
        return count
    }

    public func write(
        from buffer: UnsafeRawBufferPointer, at offset: Int64, append: Bool,
        credentials: Credentials
    ) throws(Errno) -> (count: Int, end: Int64) {
        let result = try pipe.write(from: buffer, at: offset, append: append, credentials: credentials)
        if result.count > 0 { events.dataWritten(UnsafeRawBufferPointer(rebasing: buffer[..<result.count])) }
        return result
    }
}

import Synchronization
import VFSCore

/// An open tmpfs regular file: positional I/O on the inode's sparse pages.
///
/// Lock order: the inode's `data` lock (shared for reads, exclusive for writes), then its
/// `metadata` for timestamps and set-ID stripping.
final class TmpfsRegularFile: FileDescriptionImpl {
    let inode: TmpfsInode
    let data: ReadWriteProtected<SparsePages>
    let mount: Mount
    let filesystem: TmpfsFilesystem
    /// O_NOATIME, from open or F_SETFL: reads leave atime alone (file_accessed).
    let noAccessTime: Atomic<Bool>

    init(
        inode: TmpfsInode, data: ReadWriteProtected<SparsePages>, mount: Mount,
        filesystem: TmpfsFilesystem, noAccessTime: Bool = false
    ) {
        self.inode = inode
        self.data = data
        self.mount = mount
        self.filesystem = filesystem
        self.noAccessTime = Atomic(noAccessTime)
    }

    func statusFlagsChanged(_ flags: Int32) {
        noAccessTime.store(flags & OpenOptions.noAccessTime != 0, ordering: .relaxed)
    }

    /// The pages live in this process only: a real process can map a copy, kept current with
    /// `observeContents`.
    func mappingSource() -> MappingSource? { .copyOfContents }

    /// Under the data write lock: the size and each data extent (holes are not reported), then
    /// the observer joins the inode's list, so no change falls between the copy and the first
    /// notification.
    func observeContents(_ observer: any FileContentObserver) throws(Errno) {
        try data.write { (pages) throws(Errno) in
            observer.sizeChanged(to: pages.size)
            let size = pages.size
            try DataExtents.forEachChunk(
                size: size,
                nextData: { position in
                    guard let start = try? pages.seekData(from: position) else { return nil }
                    return (start, min(size, (try? pages.seekHole(from: start)) ?? size))
                },
                read: { buffer, offset throws(Errno) in try pages.read(into: buffer, at: offset) }
            ) { bytes, offset in observer.contentsWritten(bytes, at: offset) }
            inode.contentObservers.append(observer)
        }
    }

    func stopObservingContents(_ observer: any FileContentObserver) {
        data.write { _ in inode.contentObservers.removeAll { $0 === observer } }
    }

    /// Every read stamps atime under the mount's atime rules, even one that transfers nothing
    /// (zero bytes, or at or past EOF): shmem_file_read_iter always ends in file_accessed.
    /// Linux 6.18: pread(fd, 0, 0) and pread(fd, 10, 100) on a 3-byte file, each right after a
    /// write, update atime.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        let count = try data.read { (pages) throws(Errno) -> Int in
            try pages.read(into: buffer, at: offset)
        }
        if !noAccessTime.load(ordering: .relaxed) {
            inode.touchAccessed(filesystem.now(), mountFlags: mount.flags)
        }
        return count
    }

    /// Writes stamp mtime and ctime and strip set-user-ID (and group-executable
    /// set-group-ID) from writers without CAP_FSETID; a zero-length write does none of that.
    func write(
        from buffer: UnsafeRawBufferPointer, at offset: Int64, append: Bool,
        credentials: Credentials
    ) throws(Errno) -> (count: Int, end: Int64) {
        guard buffer.count > 0 else { return (0, offset) }
        let space = filesystem.space
        return try data.write { (pages) throws(Errno) -> (count: Int, end: Int64) in
            let position = append ? pages.size : offset
            let count = try pages.write(from: buffer, at: position) { space.takePages($0) }
            for observer in inode.contentObservers {
                observer.contentsWritten(UnsafeRawBufferPointer(rebasing: buffer[..<count]), at: position)
            }
            let now = filesystem.now()
            inode.metadata.withLock { meta in
                if let stripped = Permissions.modeAfterWrite(credentials, meta.ownership) {
                    meta.mode = stripped
                }
                meta.modificationTime = now
                meta.changeTime = now
            }
            return (count, position + Int64(count))
        }
    }

    func endOffset() throws(Errno) -> Int64 {
        data.read { $0.size }
    }

    func seekDataOrHole(_ whence: SeekWhence, from offset: Int64) throws(Errno) -> Int64 {
        try data.read { (pages) throws(Errno) -> Int64 in
            whence == .data ? try pages.seekData(from: offset) : try pages.seekHole(from: offset)
        }
    }

    /// shmem_fallocate: plain allocation (optionally FALLOC_FL_KEEP_SIZE) and
    /// FALLOC_FL_PUNCH_HOLE; other modes are EOPNOTSUPP on tmpfs. Success is a modification
    /// like a write (`file_modified`): mtime and ctime, and set-ID bits stripped as a write
    /// strips them. Linux 6.18: every successful mode, even one allocating nothing new, changes
    /// m and c, and uid 1000's fallocate turns a 06777 file into 0777; a failed one (ENOSPC)
    /// changes nothing.
    func allocate(mode: AllocateMode, offset: Int64, length: Int64, credentials: Credentials)
        throws(Errno)
    {
        guard mode.isSubset(of: [.keepSize, .punchHole]) else { throw .notSupportedOnSocket }
        let space = filesystem.space
        try data.write { (pages) throws(Errno) in
            if mode.contains(.punchHole) {
                try pages.punchHole(offset: offset, length: length) { space.releasePages($0) }
                for observer in inode.contentObservers {
                    observer.contentsZeroed(offset: offset, length: length)
                }
            } else {
                let before = pages.size
                try pages.allocate(
                    offset: offset, length: length, keepSize: mode.contains(.keepSize)
                ) { space.takePages($0) }
                if pages.size != before {
                    for observer in inode.contentObservers { observer.sizeChanged(to: pages.size) }
                }
            }
            let now = filesystem.now()
            inode.metadata.withLock { meta in
                if let stripped = Permissions.modeAfterWrite(credentials, meta.ownership) {
                    meta.mode = stripped
                }
                meta.modificationTime = now
                meta.changeTime = now
            }
        }
    }
}

/// An open tmpfs directory: getdents over the entries, stable while they change.
final class TmpfsDirectoryFile: FileDescriptionImpl {
    let dentry: TmpfsDentry
    let directory: TmpfsDirectory
    let mount: Mount
    let filesystem: TmpfsFilesystem
    /// O_NOATIME, from open or F_SETFL: getdents leaves atime alone (file_accessed).
    let noAccessTime: Atomic<Bool>

    init(
        dentry: TmpfsDentry, directory: TmpfsDirectory, mount: Mount,
        filesystem: TmpfsFilesystem, noAccessTime: Bool = false
    ) {
        self.dentry = dentry
        self.directory = directory
        self.mount = mount
        self.filesystem = filesystem
        self.noAccessTime = Atomic(noAccessTime)
    }

    func statusFlagsChanged(_ flags: Int32) {
        noAccessTime.store(flags & OpenOptions.noAccessTime != 0, ordering: .relaxed)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        throw .isDirectory
    }

    func write(
        from buffer: UnsafeRawBufferPointer, at offset: Int64, append: Bool,
        credentials: Credentials
    ) throws(Errno) -> (count: Int, end: Int64) {
        throw .isDirectory
    }

    private static let dot = Name(unchecked: [0x2E][...])
    private static let dotDot = Name(unchecked: [0x2E, 0x2E][...])

    /// Positions, as Linux 6.18's tmpfs (simple_offset) has them (see `TmpfsDirectory`): 0 is
    /// `.`, 1 is `..`, 2 the head of the child list, N the entry with the largest offset at
    /// or below N (the head when there is none), and `TmpfsDirectory.endOfDirectory`
    /// (INT32_MAX) the end, where reading the last entry leaves the offset. A removed
    /// directory reads as ENOENT, as Linux's `iterate_dir` answers.
    func readDirectory(from position: Int64, _ emit: (DirectoryEntry) -> Bool) throws(Errno)
        -> Int64
    {
        guard position >= 0 else { throw .invalidArgument }
        var position = position
        let resume = try directory.lock.withReadLock { () throws(Errno) -> Int64 in
            if directory.isRemoved { throw .noSuchFileOrDirectory }
            if position == 0 {
                let entry = DirectoryEntry(
                    name: Self.dot, type: .directory, inode: dentry.inode.number, nextOffset: 1)
                guard emit(entry) else { return 0 }
                position = 1
            }
            if position == 1 {
                let parent = dentry.parent ?? dentry
                let next = directory.positionOfHead
                let entry = DirectoryEntry(
                    name: Self.dotDot, type: .directory, inode: parent.inode.number,
                    nextOffset: next)
                guard emit(entry) else { return 1 }
                position = next
            }
            return directory.forEachListed(from: position) { offset, child in
                emit(
                    DirectoryEntry(
                        name: child.name, type: child.fileType, inode: child.inode.number,
                        nextOffset: offset))
            }
        }
        if !noAccessTime.load(ordering: .relaxed) {
            dentry.inode.touchAccessed(filesystem.now(), mountFlags: mount.flags)
        }
        return resume
    }
}

/// O_PATH descriptions, and opened FIFOs, sockets and device nodes: they have attributes but
/// no tmpfs I/O of their own.
final class TmpfsInertFile: FileDescriptionImpl {
    let inode: TmpfsInode
    init(inode: TmpfsInode) { self.inode = inode }
}

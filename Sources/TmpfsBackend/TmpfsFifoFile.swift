import Synchronization
import VFSCore

/// An open tmpfs FIFO: the inode's shared pipe, plus the timestamps Linux keeps on the FIFO's
/// inode — a read that returns data stamps atime (`file_accessed`), a write that moves data
/// stamps mtime and ctime (`file_update_time`).
final class TmpfsFifoFile: FileDescriptionImpl {
    let pipe: PipeFile
    let inode: TmpfsInode
    let mount: Mount
    let filesystem: TmpfsFilesystem
    /// O_NOATIME, from open or F_SETFL: reads leave atime alone (file_accessed).
    let noAccessTime: Atomic<Bool>

    init(
        pipe: PipeFile, inode: TmpfsInode, mount: Mount, filesystem: TmpfsFilesystem,
        noAccessTime: Bool = false
    ) {
        self.pipe = pipe
        self.inode = inode
        self.mount = mount
        self.filesystem = filesystem
        self.noAccessTime = Atomic(noAccessTime)
    }

    var isSeekable: Bool { false }
    var pipeEnd: PipeFile? { pipe }

    func statusFlagsChanged(_ flags: Int32) {
        pipe.statusFlagsChanged(flags)
        noAccessTime.store(flags & OpenOptions.noAccessTime != 0, ordering: .relaxed)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        let count = try pipe.read(into: buffer, at: offset)
        if count > 0 && !noAccessTime.load(ordering: .relaxed) {
            inode.touchAccessed(filesystem.now(), mountFlags: mount.flags)
        }
        return count
    }

    func write(
        from buffer: UnsafeRawBufferPointer, at offset: Int64, append: Bool,
        credentials: Credentials
    ) throws(Errno) -> (count: Int, end: Int64) {
        let result = try pipe.write(from: buffer, at: offset, append: append, credentials: credentials)
        if result.count > 0 { inode.touchModified(filesystem.now()) }
        return result
    }
}

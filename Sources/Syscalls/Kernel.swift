import Synchronization
import TmpfsBackend
import VFSCore

/// What all tasks of one sandbox share: the VFS, the file systems mount(2) can create, the
/// record-lock and flock tables, and the hidden file systems behind pipes and memfds.
public final class Kernel: Sendable {
    public let vfs: VirtualFilesystem
    /// Builds a file system for mount(2)'s type and data string; nil type → ENODEV.
    public let filesystemFactories: [String: @Sendable (String) throws(Errno) -> any FilesystemImpl]
    /// POSIX record locks, OFD locks and flock locks.
    public let locks = FileLockTable()
    /// Where pipe2's pipes live: an anonymous file system mounted nowhere, as Linux's pipefs.
    let pipes: AnonymousFiles
    /// Where memfd_create's files live: a tmpfs mounted nowhere, as Linux's internal shm mount.
    let memfdMount: Mount
    private let lastTaskID = Atomic<Int32>(0)
    /// umount2's MNT_EXPIRE marks, by mount id: the first call marks, the second unmounts.
    let expiryMarks = Mutex<Set<UInt64>>([])

    public init(vfs: VirtualFilesystem = VirtualFilesystem()) {
        self.vfs = vfs
        self.filesystemFactories = [
            "tmpfs": { (data) throws(Errno) -> any FilesystemImpl in
                TmpfsFilesystem(options: try TmpfsOptions(parsing: data))
            }
        ]
        let anonymous = AnonymousFilesystem()
        let anonymousNamespace = vfs.makeNamespace(root: anonymous, rootDentry: anonymous.root)
        self.pipes = AnonymousFiles(filesystem: anonymous, mount: anonymousNamespace.root)
        let shm = TmpfsFilesystem()
        self.memfdMount = vfs.makeNamespace(root: shm, rootDentry: shm.root).root
        // Linux's internal shm mount is a kern_mount, without MNT_RELATIME: a memfd's atime
        // moves at every read (Linux 6.18: two reads at EOF of a memfd, the second moves it).
        // Setting flags on a mount nothing writes to yet cannot fail.
        try? vfs.remount(memfdMount, flags: [.strictAccessTime])
    }

    func nextTaskID() -> Int32 {
        lastTaskID.add(1, ordering: .relaxed).newValue
    }
}

/// The anonymous file system and its mount, for pipes.
struct AnonymousFiles: Sendable {
    let filesystem: AnonymousFilesystem
    let mount: Mount
}

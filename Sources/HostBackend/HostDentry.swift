import HostSyscalls
import Synchronization
import VFSCore

/// A dentry of a host directory tree: an O_PATH|O_NOFOLLOW fd on the host file (so the file is
/// reached again without resolving any path), the inode number and type it had when opened
/// (what shared mode revalidates against), and where it sits in the tree.
///
/// `..` is answered from `placement.parent`, never by the host: the parent is always a dentry
/// this file system opened beneath its root, so no `..` can leave the root even if the host
/// moves the directory elsewhere.
public final class HostDentry: Dentry, @unchecked Sendable {
    public let fd: HostFD
    public let inode: UInt64
    /// st_dev of the file, with `inode` its identity on the host.
    public let device: UInt64

    struct Placement {
        var parent: HostDentry?
        var name: Name
    }
    /// Guarded by its own leaf lock; changed by rename.
    let placement: Mutex<Placement>

    init(fd: HostFD, stat: HostStat, parent: HostDentry?, name: Name) {
        self.fd = fd
        self.inode = stat.inode
        self.device = stat.dev
        self.placement = Mutex(Placement(parent: parent, name: name))
        super.init(fileType: FileType(rawValue: stat.fileTypeBits) ?? .regular)
    }

    var parent: HostDentry? { placement.withLock { $0.parent } }

    /// The same host file: the same inode number on the same device.
    func isSameFile(as other: HostDentry) -> Bool {
        inode == other.inode && device == other.device
    }
}

/// Which dentries a `HostFilesystem` keeps (VFSCore's LRU of unreferenced dentries). Every
/// cached dentry holds an O_PATH fd, so the bound is what keeps a long walk over a big tree
/// from exhausting the process's fds; an evicted dentry closes its fd after the cache's lock
/// is dropped.
typealias HostDentryCache = DentryCache<HostDentry>

extension DentryCache where D == HostDentry {
    /// One dentry per host file: the same inode number and type.
    convenience init(hostLimit limit: Int) {
        self.init(limit: limit) { $0.inode == $1.inode && $0.fileType == $1.fileType }
    }
}

import Synchronization
import VFSCore

/// A name in the tmpfs tree: the inode it names and where it stands (parent and name).
///
/// Lock order: `placement` is a leaf. It changes only under the parent directories' locks (and,
/// for a move between directories, the file system's rename lock), so a holder of those sees
/// it stable; others (walking `..`, getcwd) read it briefly.
final class TmpfsDentry: Dentry, @unchecked Sendable {
    let inode: TmpfsInode

    struct Placement {
        var parent: TmpfsDentry?
        var name: Name
    }
    let placement: Mutex<Placement>

    init(inode: TmpfsInode, parent: TmpfsDentry?, name: Name) {
        self.inode = inode
        self.placement = Mutex(Placement(parent: parent, name: name))
        super.init(fileType: inode.type)
    }

    var parent: TmpfsDentry? { placement.withLock { $0.parent } }
    var name: Name { placement.withLock { $0.name } }

    /// Breaks the parent/child reference cycles so a discarded tree is freed.
    func tearDown() {
        var pending: [TmpfsDentry] = [self]
        while let dentry = pending.popLast() {
            dentry.placement.withLock { $0.parent = nil }
            if let directory = dentry.inode.directory {
                directory.lock.withWriteLock { pending.append(contentsOf: directory.removeAll()) }
            }
        }
    }
}

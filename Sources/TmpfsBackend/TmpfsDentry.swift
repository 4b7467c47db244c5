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

        mutating func detachParent() -> TmpfsDentry? {
            defer { parent = nil }
            return parent
        }
    }
    let placement: Mutex<Placement>

    init(inode: TmpfsInode, parent: TmpfsDentry?, name: Name) {
        self.inode = inode
        self.placement = Mutex(Placement(parent: parent, name: name))
        super.init(fileType: inode.type)
    }

    var parent: TmpfsDentry? { placement.withLock { $0.parent } }
    var name: Name { placement.withLock { $0.name } }

    /// Releases the chain of parents one link at a time. A removed directory is kept alive
    /// only by the children still naming it as their parent (a working directory or an open
    /// file below it), so dropping the last of a deep chain would otherwise nest one deinit
    /// per level and overflow the stack (3000 levels did on a 512 KiB thread). Linux's `dput`
    /// is a loop for the same reason. A parent someone else still holds stops the walk.
    deinit {
        var next = placement.withLock { $0.detachParent() }
        while var current = next {
            next = nil
            guard isKnownUniquelyReferenced(&current) else { return }
            next = current.placement.withLock { $0.detachParent() }
        }
    }

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

import Synchronization
import VFSCore

/// The counters behind tmpfs's `nr_inodes=` and `size=` limits (ENOSPC past them), and the
/// inode-number allocator. Lock-free: atomics only.
final class TmpfsSpace: Sendable {
    let inodeLimit: Int?
    /// size= in pages, rounded up.
    let pageLimit: Int?
    private let usedInodes = Atomic<Int>(0)
    private let usedPages = Atomic<Int>(0)
    private let lastInodeNumber = Atomic<UInt64>(0)

    static let physicalPages = Int(TmpfsOptions.physicalMemory / 4096)

    init(options: TmpfsOptions) {
        inodeLimit = options.inodeLimit
        pageLimit = options.sizeLimit.map { Int(($0 / 4096) + ($0 % 4096 == 0 ? 0 : 1)) }
    }

    var inodesInUse: Int { usedInodes.load(ordering: .relaxed) }
    var pagesInUse: Int { usedPages.load(ordering: .relaxed) }

    func nextInodeNumber() -> UInt64 {
        lastInodeNumber.add(1, ordering: .relaxed).newValue
    }

    /// Takes one inode; ENOSPC when nr_inodes are all in use.
    func takeInode() throws(Errno) {
        let now = usedInodes.add(1, ordering: .relaxed).newValue
        if let limit = inodeLimit, now > limit {
            usedInodes.subtract(1, ordering: .relaxed)
            throw .noSpace
        }
    }

    /// The root directory counts, whatever the limit.
    func takeInodeUnchecked() {
        usedInodes.add(1, ordering: .relaxed)
    }

    func releaseInode() {
        usedInodes.subtract(1, ordering: .relaxed)
    }

    /// Takes `count` pages; false, with nothing taken, when they do not fit under size=. An
    /// unlimited tmpfs (size=0) still refuses more pages than the machine has memory: Linux
    /// would grind into the OOM killer there, a library must answer ENOSPC instead.
    func takePages(_ count: Int) -> Bool {
        guard count > 0 else { return true }
        let limit = pageLimit ?? TmpfsSpace.physicalPages
        // Checked first so a huge request cannot overflow the counter.
        guard count <= limit else { return false }
        let now = usedPages.add(count, ordering: .relaxed).newValue
        if now > limit {
            usedPages.subtract(count, ordering: .relaxed)
            return false
        }
        return true
    }

    func releasePages(_ count: Int) {
        guard count > 0 else { return }
        usedPages.subtract(count, ordering: .relaxed)
    }
}

import VFSCore

/// A directory's entries, in a form that keeps readdir stable while entries come and go.
///
/// Every entry gets a sequence number when it is linked in (Linux's simple_offset offset,
/// from 2 up), and numbers only grow. Readers go newest first, as Linux 6.18's tmpfs does, and
/// a position means "the entries below this number": a reader never misses an entry present
/// for its whole read and never sees one twice, and entries made after it has started are
/// above its position, so it never sees them (Linux: getdents after the end, or in the middle,
/// does not show files created since; a rewind does). Removal leaves a tombstone in the
/// ordered list, compacted when half are tombstones.
///
/// Guarded by `lock`: lookups and readdir take it shared; changes take it exclusively. Lock
/// order: a directory's lock comes before the locks of entries inside it (ancestors first).
final class TmpfsDirectory: @unchecked Sendable {
    let lock = ReadWriteLock()

    struct Entry {
        let dentry: TmpfsDentry
        let sequence: Int64
    }
    private(set) var entries: [Name: Entry] = [:]
    private var order: [(sequence: Int64, dentry: TmpfsDentry?)] = []
    private var tombstones = 0
    /// 0 and 1 are `.` and `..`.
    private var nextSequence: Int64 = 2
    /// Set by rmdir: no entry may be created in a removed directory (ENOENT).
    var isRemoved = false
    /// Subdirectories, each of which adds one to this directory's link count.
    private(set) var subdirectoryCount = 0

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    /// Call with `lock` held (shared is enough).
    func lookup(_ name: Name) -> TmpfsDentry? {
        entries[name]?.dentry
    }

    /// Call with `lock` held exclusively. `name` must be owned storage.
    func insert(_ dentry: TmpfsDentry, as name: Name) {
        let sequence = nextSequence
        nextSequence += 1
        entries[name] = Entry(dentry: dentry, sequence: sequence)
        order.append((sequence, dentry))
        if dentry.isDirectory { subdirectoryCount += 1 }
    }

    /// Call with `lock` held exclusively.
    @discardableResult
    func remove(_ name: Name) -> TmpfsDentry? {
        guard let entry = entries.removeValue(forKey: name) else { return nil }
        if let index = position(of: entry.sequence), order[index].sequence == entry.sequence {
            order[index].dentry = nil
            tombstones += 1
        }
        if entry.dentry.isDirectory { subdirectoryCount -= 1 }
        if tombstones > 32 && tombstones * 2 > order.count {
            order.removeAll { $0.dentry == nil }
            tombstones = 0
        }
        return entry.dentry
    }

    /// Linux's DIR_OFFSET_EOD (INT32_MAX): the position after the oldest entry.
    static let endOfDirectory = Int64(Int32.max)

    /// Live entries whose sequence is below `bound`, newest first, while `body` accepts them.
    /// `body` gets each entry's d_off: one past the sequence of the next older entry (the
    /// position that finds it), or `endOfDirectory` after the oldest. Returns the position to
    /// resume from. Call with `lock` held (shared is enough).
    func forEachNewestFirst(below bound: Int64, _ body: (Int64, TmpfsDentry) -> Bool) -> Int64 {
        var next = liveEntry(before: position(of: bound) ?? order.count)
        while let (index, dentry) = next {
            let older = liveEntry(before: index)
            let offset = older.map { order[$0.index].sequence + 1 } ?? TmpfsDirectory.endOfDirectory
            if !body(offset, dentry) { return order[index].sequence + 1 }
            next = older
        }
        return TmpfsDirectory.endOfDirectory
    }

    /// d_off of `..`: the position that finds the newest entry, or the end when empty.
    /// Call with `lock` held (shared is enough).
    var positionOfNewest: Int64 {
        liveEntry(before: order.count).map { order[$0.index].sequence + 1 }
            ?? TmpfsDirectory.endOfDirectory
    }

    /// The newest live entry at an index below `end`.
    private func liveEntry(before end: Int) -> (index: Int, dentry: TmpfsDentry)? {
        var index = end - 1
        while index >= 0 {
            if let dentry = order[index].dentry { return (index, dentry) }
            index -= 1
        }
        return nil
    }

    /// All entries, for tearing the tree down.
    func removeAll() -> [TmpfsDentry] {
        let all = entries.values.map(\.dentry)
        entries.removeAll()
        order.removeAll()
        return all
    }

    /// Index of the first slot with sequence >= `sequence` (binary search; `order` is sorted).
    private func position(of sequence: Int64) -> Int? {
        var low = 0
        var high = order.count
        while low < high {
            let mid = low + (high - low) / 2
            if order[mid].sequence < sequence { low = mid + 1 } else { high = mid }
        }
        return low < order.count ? low : nil
    }
}

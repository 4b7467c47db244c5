import VFSCore

/// A directory's entries, in a form that keeps readdir stable while entries come and go.
///
/// Every entry gets a sequence number when it is linked in, and numbers only grow, so a reader
/// that remembers "next number to return" never misses an entry present for its whole read and
/// never sees one twice: the role tmpfs's cursor dentries (and later its offset map) play in
/// Linux. Removal leaves a tombstone in the ordered list, compacted when half are tombstones.
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

    /// Entries whose sequence is at least `from`, in order, while `body` returns true. Returns
    /// the sequence to resume from. Call with `lock` held (shared is enough).
    func forEach(from: Int64, _ body: (Int64, TmpfsDentry) -> Bool) -> Int64 {
        var index = position(of: from) ?? order.count
        var resume = max(from, 2)
        while index < order.count {
            let slot = order[index]
            index += 1
            guard let dentry = slot.dentry else { continue }
            if !body(slot.sequence, dentry) { return slot.sequence }
            resume = slot.sequence + 1
        }
        return max(resume, nextSequence)
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

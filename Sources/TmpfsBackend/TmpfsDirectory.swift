import VFSCore

/// A directory's entries, in a form that keeps readdir stable while entries come and go, laid
/// out as Linux 6.18's tmpfs (simple_offset) lays them out, because programs can see it
/// through getdents's d_off and lseek:
///
/// - Every entry has an *offset* (from 3, DIR_OFFSET_MIN, up; never reused) and a place in
///   the *child list*, newest first. Linking a name in takes the next offset and the head of
///   the list. A rename takes a new offset, or the replaced entry's offset when it replaces
///   one, and the head of the list; RENAME_EXCHANGE leaves each name its offset and moves
///   both to the head (the moved-in source on top).
/// - Reading starts at the entry with the largest offset at or below the position (at the
///   head for position 2, or when there is none), then follows the list; an entry's d_off is the offset of the next
///   one in the list, or DIR_OFFSET_EOD (INT32_MAX) after the last. So a reader never sees
///   an entry twice while nothing is renamed, and entries linked in after it started are
///   ahead of it in the list and never seen (Linux: getdents after the end, or in the
///   middle, does not show files created since; a rewind does).
///
/// The list is `order` (appended at the head end), with tombstones for removed entries,
/// compacted when half are tombstones.
///
/// Guarded by `lock`: lookups and readdir take it shared; changes take it exclusively. Lock
/// order: a directory's lock comes before the locks of entries inside it (ancestors first).
final class TmpfsDirectory: @unchecked Sendable {
    let lock = ReadWriteLock()

    struct Entry {
        let dentry: TmpfsDentry
        /// Place in the child list (larger is nearer the head).
        let sequence: Int64
        /// The simple_offset offset: what d_off and lseek positions count in.
        let offset: Int64
    }
    private(set) var entries: [Name: Entry] = [:]
    /// The child list, oldest first (the head is the end), sorted by `sequence`.
    private var order: [(sequence: Int64, offset: Int64, dentry: TmpfsDentry?)] = []
    private var tombstones = 0
    private var nextSequence: Int64 = 0
    /// DIR_OFFSET_MIN: 0 and 1 are `.` and `..`, 2 means "from the head".
    private var nextOffset: Int64 = 3
    /// Live offsets in ascending order, and where each entry is in `order`.
    private var offsets: [Int64] = []
    private var sequenceOfOffset: [Int64: Int64] = [:]
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

    /// The offset a name has (for a rename that hands it on). Call with `lock` held.
    func offset(of name: Name) -> Int64? {
        entries[name]?.offset
    }

    /// Links `dentry` in at the head of the list, with a new offset or `offset` (a rename's
    /// inherited one). Call with `lock` held exclusively. `name` must be owned storage.
    func insert(_ dentry: TmpfsDentry, as name: Name, offset: Int64? = nil) {
        let sequence = nextSequence
        nextSequence += 1
        let assigned: Int64
        if let offset {
            assigned = offset
        } else {
            assigned = nextOffset
            nextOffset += 1
        }
        entries[name] = Entry(dentry: dentry, sequence: sequence, offset: assigned)
        order.append((sequence, assigned, dentry))
        let at = firstOffsetIndex(atLeast: assigned)
        if at == offsets.count || offsets[at] != assigned { offsets.insert(assigned, at: at) }
        sequenceOfOffset[assigned] = sequence
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
        if sequenceOfOffset[entry.offset] == entry.sequence {
            sequenceOfOffset[entry.offset] = nil
            let at = firstOffsetIndex(atLeast: entry.offset)
            if at < offsets.count && offsets[at] == entry.offset { offsets.remove(at: at) }
        }
        if entry.dentry.isDirectory { subdirectoryCount -= 1 }
        if tombstones > 32 && tombstones * 2 > order.count {
            order.removeAll { $0.dentry == nil }
            tombstones = 0
        }
        return entry.dentry
    }

    /// Linux's DIR_OFFSET_EOD (INT32_MAX): the position after the last entry.
    static let endOfDirectory = Int64(Int32.max)
    /// DIR_OFFSET_FIRST: the position that starts at the head of the list.
    static let firstPosition: Int64 = 2

    /// offset_iterate_dir: from `position` (see the type's comment) along the list while
    /// `body` accepts entries; `body` gets each entry's d_off. Returns the position to resume
    /// from: the offset of the entry `body` refused, or the end. Call with `lock` held
    /// (shared is enough).
    func forEachListed(from position: Int64, _ body: (Int64, TmpfsDentry) -> Bool) -> Int64 {
        if position == TmpfsDirectory.endOfDirectory { return position }
        // offset_dir_lookup: the entry with the largest offset at or below the position; with
        // none (position 2, or below every offset), the head (Linux 6.18: after unlinking
        // the oldest of a, b, c, positions 3, 5 and 6 all list c, b).
        var next = liveEntry(before: order.count)
        let at = firstOffsetIndex(above: position)
        if position != TmpfsDirectory.firstPosition, at > 0,
            let sequence = sequenceOfOffset[offsets[at - 1]],
            let index = self.position(of: sequence), let dentry = order[index].dentry
        {
            next = (index, dentry)
        }
        while let (index, dentry) = next {
            let following = liveEntry(before: index)
            let offset = following.map { order[$0.index].offset } ?? TmpfsDirectory.endOfDirectory
            if !body(offset, dentry) { return order[index].offset }
            next = following
        }
        return TmpfsDirectory.endOfDirectory
    }

    /// d_off of `..`: the head's offset, or the end when the directory is empty.
    /// Call with `lock` held (shared is enough).
    var positionOfHead: Int64 {
        liveEntry(before: order.count).map { order[$0.index].offset }
            ?? TmpfsDirectory.endOfDirectory
    }

    /// The live entry nearest the head among the slots below `end` (the next one along the
    /// list after the slot at `end`).
    private func liveEntry(before end: Int) -> (index: Int, dentry: TmpfsDentry)? {
        var index = end - 1
        while index >= 0 {
            if let dentry = order[index].dentry { return (index, dentry) }
            index -= 1
        }
        return nil
    }

    /// Index of the first live offset > `position` (binary search).
    private func firstOffsetIndex(above position: Int64) -> Int {
        var low = 0
        var high = offsets.count
        while low < high {
            let mid = low + (high - low) / 2
            if offsets[mid] <= position { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Index of the first live offset >= `offset` (binary search).
    private func firstOffsetIndex(atLeast offset: Int64) -> Int {
        var low = 0
        var high = offsets.count
        while low < high {
            let mid = low + (high - low) / 2
            if offsets[mid] < offset { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// All entries, for tearing the tree down.
    func removeAll() -> [TmpfsDentry] {
        let all = entries.values.map(\.dentry)
        entries.removeAll()
        order.removeAll()
        offsets.removeAll()
        sequenceOfOffset.removeAll()
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

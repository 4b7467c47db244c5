import VFSCore

/// POSIX record locks (fcntl F_SETLK), open-file-description locks (F_OFD_SETLK) and flock
/// locks, per file, as Linux's `fs/locks.c` keeps them in an inode's `file_lock_context`.
///
/// - Files are told apart by inode, not by path or dentry: hard links share their locks. The
///   key is the file system object and the inode number `stat` reports.
/// - Record locks (POSIX and OFD alike) sit in one list per file, Linux's `flc_posix`: each
///   owner's locks are contiguous, sorted by start, never overlapping, and adjacent locks of
///   one type are merged. An owner's first lock goes to the end of the list. F_GETLK reports
///   the first conflicting lock in this order, as Linux does.
/// - A POSIX lock belongs to a process (`Task.id`): threads of one process never conflict, and
///   closing any descriptor of the file drops all of the process's locks on it. An OFD lock
///   and a flock lock belong to an open file description and go when the description does
///   (a release handler registered on the description; Linux's `locks_remove_file`).
/// - flock locks are a separate list and never conflict with record locks.
/// - Blocking requests (F_SETLKW, F_OFD_SETLKW, flock without LOCK_NB) sleep on one condition
///   variable and retry whenever any lock changes. A POSIX waiter records which owner it waits
///   behind, for `posix_locks_deadlock`'s EDEADLK check (OFD waiters are never checked).
///
/// Lock order: `state` is a leaf, except that it takes a description's release-handler list
/// (itself a leaf) when registering. No file-system call runs under it: the inode number and
/// size are read before. Callers keep the descriptions they pass alive until the call returns
/// (so a description's release handler, which takes `state`, never runs under `state`).
public final class FileLockTable: Sendable {
    /// A file: its file system (by identity) and inode number.
    struct FileKey: Hashable {
        let filesystem: ObjectIdentifier
        let inode: UInt64
    }

    /// Who owns a lock: a process (POSIX locks) or an open file description (OFD and flock).
    enum Owner: Hashable {
        case process(Int32)
        case description(ObjectIdentifier)

        /// l_pid as F_GETLK reports it: the process, or -1 for an OFD lock.
        var reportedPID: Int32 {
            switch self {
            case .process(let pid): pid
            case .description: -1
            }
        }
    }

    /// A byte-range lock; `end` is inclusive, `Int64.max` meaning "to end of file and beyond".
    struct RecordLock: Equatable {
        var owner: Owner
        var type: Int16
        var start: Int64
        var end: Int64

        func overlaps(_ other: RecordLock) -> Bool {
            start <= other.end && other.start <= end
        }

        /// `posix_locks_conflict`: another owner's overlapping lock, one of the two a write lock.
        func conflicts(with held: RecordLock) -> Bool {
            owner != held.owner && overlaps(held)
                && (type == Linux.F_WRLCK || held.type == Linux.F_WRLCK)
        }
    }

    struct FlockLock {
        var owner: ObjectIdentifier
        var exclusive: Bool
    }

    struct FileLocks {
        /// Kept alive while it has locks, so that its identity in `FileKey` is not reused.
        let filesystem: any FilesystemImpl
        var records: [RecordLock] = []
        var flocks: [FlockLock] = []
        var isEmpty: Bool { records.isEmpty && flocks.isEmpty }
    }

    /// A sleeping POSIX request: the process, and the owner of the lock it waits behind.
    struct Wait {
        let token: UInt64
        let waiter: Int32
        let blocker: Owner
    }

    struct State {
        var files: [FileKey: FileLocks] = [:]
        /// The files on which each process holds POSIX locks, so that a close by a process with
        /// none costs nothing.
        var processFiles: [Int32: Set<FileKey>] = [:]
        /// Descriptions whose release handler is registered, with the files they hold OFD or
        /// flock locks on.
        var descriptionFiles: [ObjectIdentifier: Set<FileKey>] = [:]
        var waits: [Wait] = []
        var lastToken: UInt64 = 0
        /// Requests asleep right now, of every kind.
        var sleepers = 0
    }

    /// `MAX_DEADLK_ITERATIONS`: how far the deadlock check follows a chain of waiters.
    static let maxDeadlockIterations = 10

    private let state = ConditionLock(State())

    public init() {}

    // MARK: - Identifying a file

    /// The file `description` is open on, with its size (for SEEK_END).
    static func file(of description: FileDescription) throws(Errno)
        -> (key: FileKey, filesystem: any FilesystemImpl, size: Int64)
    {
        let filesystem = description.location.mount.filesystem
        let stat = try description.stat(mask: [.ino, .size])
        return (
            FileKey(filesystem: ObjectIdentifier(filesystem), inode: stat.inode), filesystem,
            stat.size
        )
    }

    // MARK: - Record locks

    /// Sets (or, for F_UNLCK, clears) `request` for its owner: EAGAIN on a conflict unless
    /// `wait`; when waiting, EDEADLK if a POSIX owner would wait on itself through a chain of
    /// waiting processes.
    func setRecordLock(
        _ request: RecordLock, on description: FileDescription, wait: Bool
    ) throws(Errno) {
        let file = try FileLockTable.file(of: description)
        try withExtendedLifetime(description) { () throws(Errno) in
            try state.withLock { (state, waiter) throws(Errno) in
                var token: UInt64?
                defer { if let token { state.waits.removeAll { $0.token == token } } }
                while true {
                    if let token { state.waits.removeAll { $0.token == token } }
                    if request.type != Linux.F_UNLCK,
                        let blocker = state.files[file.key]?.records.first(where: {
                            request.conflicts(with: $0)
                        })
                    {
                        guard wait else { throw Errno.resourceTemporarilyUnavailable }
                        if case .process(let pid) = request.owner {
                            if FileLockTable.wouldDeadlock(pid, behind: blocker.owner, state.waits)
                            {
                                throw Errno.deadlock
                            }
                            state.lastToken += 1
                            token = state.lastToken
                            state.waits.append(
                                Wait(token: state.lastToken, waiter: pid, blocker: blocker.owner))
                        }
                        state.sleepers += 1
                        waiter.wait()
                        state.sleepers -= 1
                        continue
                    }
                    apply(request, to: file.key, filesystem: file.filesystem, description, &state)
                    waiter.broadcast()
                    return
                }
            }
        }
    }

    /// F_GETLK / F_OFD_GETLK: the first lock `request` conflicts with, or nil. An F_UNLCK request
    /// (F_OFD_GETLK only) finds the owner's own overlapping lock instead.
    func testRecordLock(_ request: RecordLock, on description: FileDescription) throws(Errno)
        -> RecordLock?
    {
        let file = try FileLockTable.file(of: description)
        return withExtendedLifetime(description) {
            state.withLock { (state, _) -> RecordLock? in
                guard let records = state.files[file.key]?.records else { return nil }
                if request.type == Linux.F_UNLCK {
                    return records.first { $0.owner == request.owner && $0.overlaps(request) }
                }
                return records.first { request.conflicts(with: $0) }
            }
        }
    }

    /// `posix_locks_deadlock`: following "the owner of the lock I wait behind is itself waiting
    /// behind..." from `blocker`, do we come back to `pid`? Gives up (no deadlock) after
    /// MAX_DEADLK_ITERATIONS steps, as Linux.
    static func wouldDeadlock(_ pid: Int32, behind blocker: Owner, _ waits: [Wait]) -> Bool {
        var current = blocker
        var steps = 0
        while case .process(let owner) = current,
            let next = waits.last(where: { $0.waiter == owner })?.blocker
        {
            if steps > maxDeadlockIterations { return false }
            steps += 1
            if next == .process(pid) { return true }
            current = next
        }
        return false
    }

    /// `posix_lock_inode` once no conflict stands: the owner's locks lose the request's range
    /// (splitting a lock that straddles it), gain the request unless it is F_UNLCK, and merge
    /// with adjacent or overlapping locks of the same type.
    private func apply(
        _ request: RecordLock, to key: FileKey, filesystem: any FilesystemImpl,
        _ description: FileDescription, _ state: inout State
    ) {
        var locks = state.files[key] ?? FileLocks(filesystem: filesystem)
        let position = locks.records.firstIndex { $0.owner == request.owner }
        var mine: [RecordLock] = []
        for lock in locks.records where lock.owner == request.owner {
            if !lock.overlaps(request) {
                mine.append(lock)
                continue
            }
            // start > request.start ≥ 0 and end < request.end ≤ Int64.max: neither wraps.
            if lock.start < request.start {
                mine.append(
                    RecordLock(
                        owner: lock.owner, type: lock.type, start: lock.start,
                        end: request.start - 1))
            }
            if lock.end > request.end {
                mine.append(
                    RecordLock(
                        owner: lock.owner, type: lock.type, start: request.end + 1, end: lock.end))
            }
        }
        if request.type != Linux.F_UNLCK { mine.append(request) }
        mine.sort { $0.start < $1.start }
        var merged: [RecordLock] = []
        for lock in mine {
            // Compare with "start - 1" (start ≥ 0), never "end + 1", which wraps at Int64.max.
            if let last = merged.last, last.type == lock.type, last.end >= lock.start - 1 {
                merged[merged.count - 1].end = max(last.end, lock.end)
            } else {
                merged.append(lock)
            }
        }
        locks.records.removeAll { $0.owner == request.owner }
        locks.records.insert(contentsOf: merged, at: position ?? locks.records.endIndex)

        switch request.owner {
        case .process(let pid):
            if merged.isEmpty {
                state.processFiles[pid]?.remove(key)
                if state.processFiles[pid]?.isEmpty == true { state.processFiles[pid] = nil }
            } else {
                state.processFiles[pid, default: []].insert(key)
            }
        case .description(let id):
            if !merged.isEmpty { track(description, id, key, &state) }
        }
        store(locks, key, &state)
    }

    // MARK: - flock

    /// flock(2) for `description`: `type` F_RDLCK (LOCK_SH), F_WRLCK (LOCK_EX) or F_UNLCK.
    /// A held lock of the other type is dropped before the new one is sought, so a failed
    /// conversion leaves none (flock(2): "not guaranteed to be atomic"). EWOULDBLOCK on a
    /// conflict unless `wait`.
    func flock(_ type: Int16, on description: FileDescription, wait: Bool) throws(Errno) {
        let file = try FileLockTable.file(of: description)
        let id = ObjectIdentifier(description)
        let exclusive = type == Linux.F_WRLCK
        try withExtendedLifetime(description) { () throws(Errno) in
            try state.withLock { (state, waiter) throws(Errno) in
                if var locks = state.files[file.key],
                    let index = locks.flocks.firstIndex(where: { $0.owner == id })
                {
                    if type != Linux.F_UNLCK && locks.flocks[index].exclusive == exclusive {
                        return
                    }
                    locks.flocks.remove(at: index)
                    store(locks, file.key, &state)
                    waiter.broadcast()
                }
                if type == Linux.F_UNLCK { return }
                while let flocks = state.files[file.key]?.flocks,
                    flocks.contains(where: { $0.owner != id && ($0.exclusive || exclusive) })
                {
                    guard wait else { throw Errno.wouldBlock }
                    state.sleepers += 1
                    waiter.wait()
                    state.sleepers -= 1
                }
                var locks = state.files[file.key] ?? FileLocks(filesystem: file.filesystem)
                locks.flocks.append(FlockLock(owner: id, exclusive: exclusive))
                track(description, id, file.key, &state)
                store(locks, file.key, &state)
            }
        }
    }

    // MARK: - Release

    /// close(2) of any descriptor a process has for the file behind `description`: all of the
    /// process's POSIX locks on that file go (`locks_remove_posix`).
    func releasePOSIXLocks(of process: Int32, on description: FileDescription) {
        let holdsAny = state.withLock { (state, _) in state.processFiles[process] != nil }
        guard holdsAny, let file = try? FileLockTable.file(of: description) else { return }
        withExtendedLifetime(description) {
            state.withLock { (state, waiter) in
                guard state.processFiles[process]?.contains(file.key) == true else { return }
                removeRecords(ownedBy: .process(process), on: file.key, &state)
                state.processFiles[process]?.remove(file.key)
                if state.processFiles[process]?.isEmpty == true {
                    state.processFiles[process] = nil
                }
                waiter.broadcast()
            }
        }
    }

    /// A process's exit: all of its POSIX locks go.
    func releaseAll(ownedByProcess process: Int32) {
        state.withLock { (state, waiter) in
            guard let keys = state.processFiles.removeValue(forKey: process) else { return }
            for key in keys { removeRecords(ownedBy: .process(process), on: key, &state) }
            waiter.broadcast()
        }
    }

    /// A description went away: its OFD and flock locks go.
    private func released(_ id: ObjectIdentifier) {
        state.withLock { (state, waiter) in
            guard let keys = state.descriptionFiles.removeValue(forKey: id) else { return }
            for key in keys {
                guard var locks = state.files[key] else { continue }
                locks.records.removeAll { $0.owner == .description(id) }
                locks.flocks.removeAll { $0.owner == id }
                store(locks, key, &state)
            }
            waiter.broadcast()
        }
    }

    // MARK: - Bookkeeping

    private func removeRecords(ownedBy owner: Owner, on key: FileKey, _ state: inout State) {
        guard var locks = state.files[key] else { return }
        locks.records.removeAll { $0.owner == owner }
        store(locks, key, &state)
    }

    private func store(_ locks: FileLocks, _ key: FileKey, _ state: inout State) {
        state.files[key] = locks.isEmpty ? nil : locks
    }

    /// Notes that `description` holds locks on `key`, registering its release handler the first
    /// time. The handler holds the table weakly and not the description.
    private func track(
        _ description: FileDescription, _ id: ObjectIdentifier, _ key: FileKey,
        _ state: inout State
    ) {
        if state.descriptionFiles[id] == nil {
            description.onRelease { [weak self] in self?.released(id) }
        }
        state.descriptionFiles[id, default: []].insert(key)
    }

    // MARK: - Inspection (tests)

    /// The record locks on the file behind `description`, in list order.
    func recordLocks(on description: FileDescription) -> [RecordLock] {
        guard let file = try? FileLockTable.file(of: description) else { return [] }
        return withExtendedLifetime(description) {
            state.withLock { (state, _) in state.files[file.key]?.records ?? [] }
        }
    }

    /// How many files have any lock (released entries must not linger).
    var lockedFileCount: Int { state.withLock { (state, _) in state.files.count } }

    /// How many blocking requests are asleep (so a test knows a waiter has gone to sleep).
    var sleeperCount: Int { state.withLock { (state, _) in state.sleepers } }
}

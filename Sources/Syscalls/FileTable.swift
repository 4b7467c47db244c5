import Synchronization
import VFSCore

/// A task's file-descriptor table: numbers to open file descriptions, with close-on-exec
/// flags. `dup` puts the same description under two numbers (sharing its offset); `fork`
/// copies the table (or shares it, for CLONE_FILES).
///
/// Lock order: `state` is a leaf. Descriptions are released (and so possibly closed) after
/// the lock is dropped, so a close never runs file-system code under it. Every descriptor
/// removed (close, close_range, dup2 over it, exec, exit) gets `FileDescription.onClose`,
/// also after the lock (Linux's `filp_close` flushes on each; only close(2) reports the
/// error, as in Linux).
public final class FileTable: Sendable {
    public struct Entry: Sendable {
        public let description: FileDescription
        public var closeOnExec: Bool
    }

    private struct State {
        var slots: [Entry?] = []
        var limit: Int
    }
    private let state: Mutex<State>

    public init(limit: Int = Linux.RLIMIT_NOFILE_DEFAULT) {
        state = Mutex(State(limit: limit))
    }

    private init(copying state: State) {
        self.state = Mutex(state)
    }

    /// RLIMIT_NOFILE: descriptors are numbered below it.
    public var limit: Int {
        get { state.withLock { $0.limit } }
        set { state.withLock { $0.limit = max(0, min(newValue, Linux.NR_OPEN)) } }
    }

    /// The description behind `fd`; EBADF when none.
    public func get(_ fd: Int32) throws(Errno) -> FileDescription {
        try entry(fd).description
    }

    public func entry(_ fd: Int32) throws(Errno) -> Entry {
        try state.withLock { (state) throws(Errno) -> Entry in
            guard fd >= 0, Int(fd) < state.slots.count, let entry = state.slots[Int(fd)] else {
                throw Errno.badFileDescriptor
            }
            return entry
        }
    }

    /// Installs at the lowest free number not below `minimum`: EMFILE when none is below the
    /// limit (open, dup, pipe), or EINVAL when `minimum` itself is past it (F_DUPFD).
    public func install(
        _ description: FileDescription, closeOnExec: Bool, minimum: Int32 = 0
    ) throws(Errno) -> Int32 {
        try state.withLock { (state) throws(Errno) -> Int32 in
            guard minimum >= 0 else { throw Errno.invalidArgument }
            var fd = Int(minimum)
            while fd < state.slots.count && state.slots[fd] != nil { fd += 1 }
            guard fd < state.limit else { throw Errno.tooManyOpenFiles }
            if fd >= state.slots.count {
                state.slots.append(contentsOf: repeatElement(nil, count: fd + 1 - state.slots.count))
            }
            state.slots[fd] = Entry(description: description, closeOnExec: closeOnExec)
            return Int32(fd)
        }
    }

    /// Installs at exactly `fd` (dup2, dup3), closing what was there. EBADF past the limit.
    public func install(_ description: FileDescription, at fd: Int32, closeOnExec: Bool)
        throws(Errno)
    {
        let replaced = try state.withLock { (state) throws(Errno) -> Entry? in
            guard fd >= 0, Int(fd) < state.limit else { throw Errno.badFileDescriptor }
            let index = Int(fd)
            if index >= state.slots.count {
                state.slots.append(
                    contentsOf: repeatElement(nil, count: index + 1 - state.slots.count))
            }
            let old = state.slots[index]
            state.slots[index] = Entry(description: description, closeOnExec: closeOnExec)
            return old
        }
        try? replaced?.description.onClose()
        withExtendedLifetime(replaced) {}
    }

    /// close(2): EBADF when `fd` is not open.
    public func close(_ fd: Int32) throws(Errno) {
        let removed = try state.withLock { (state) throws(Errno) -> Entry in
            guard fd >= 0, Int(fd) < state.slots.count, let entry = state.slots[Int(fd)] else {
                throw Errno.badFileDescriptor
            }
            state.slots[Int(fd)] = nil
            return entry
        }
        try withExtendedLifetime(removed) { () throws(Errno) in try removed.description.onClose() }
    }

    /// close_range(2): closes (or, with `closeOnExecOnly`, marks close-on-exec) every open
    /// descriptor from `first` to `last`.
    public func closeRange(first: UInt32, last: UInt32, closeOnExecOnly: Bool) {
        let removed = state.withLock { state -> [Entry] in
            var removed: [Entry] = []
            guard Int(first) < state.slots.count else { return removed }
            let end = min(Int(last), state.slots.count - 1)
            for index in Int(first)...end {
                guard let entry = state.slots[index] else { continue }
                if closeOnExecOnly {
                    state.slots[index]?.closeOnExec = true
                } else {
                    removed.append(entry)
                    state.slots[index] = nil
                }
            }
            return removed
        }
        for entry in removed { try? entry.description.onClose() }
        withExtendedLifetime(removed) {}
    }

    /// F_GETFD / F_SETFD's flag.
    public func setCloseOnExec(_ fd: Int32, _ value: Bool) throws(Errno) {
        try state.withLock { (state) throws(Errno) in
            guard fd >= 0, Int(fd) < state.slots.count, state.slots[Int(fd)] != nil else {
                throw Errno.badFileDescriptor
            }
            state.slots[Int(fd)]?.closeOnExec = value
        }
    }

    /// The open descriptor numbers, in order.
    public var openDescriptors: [Int32] {
        state.withLock { state in
            state.slots.indices.compactMap { state.slots[$0] == nil ? nil : Int32($0) }
        }
    }

    /// A copy for fork without CLONE_FILES: the same descriptions under the same numbers.
    public func copy() -> FileTable {
        FileTable(copying: state.withLock { $0 })
    }

    /// exec: closes every close-on-exec descriptor.
    public func closeOnExec() {
        let removed = state.withLock { state -> [Entry] in
            var removed: [Entry] = []
            for index in state.slots.indices {
                if let entry = state.slots[index], entry.closeOnExec {
                    removed.append(entry)
                    state.slots[index] = nil
                }
            }
            return removed
        }
        for entry in removed { try? entry.description.onClose() }
        withExtendedLifetime(removed) {}
    }

    /// Closes everything (a task's exit).
    public func closeAll() {
        let removed = state.withLock { state -> [Entry?] in
            let all = state.slots
            state.slots = []
            return all
        }
        for entry in removed { try? entry?.description.onClose() }
        withExtendedLifetime(removed) {}
    }
}

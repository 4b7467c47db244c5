import VFSCore

/// The six raw argument registers of a syscall (rdi, rsi, rdx, r10, r8, r9 on x86-64).
public struct SyscallArguments: Sendable {
    public var values: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    public init(
        _ a0: UInt64 = 0, _ a1: UInt64 = 0, _ a2: UInt64 = 0, _ a3: UInt64 = 0, _ a4: UInt64 = 0,
        _ a5: UInt64 = 0
    ) {
        values = (a0, a1, a2, a3, a4, a5)
    }

    public subscript(_ index: Int) -> UInt64 {
        switch index {
        case 0: values.0
        case 1: values.1
        case 2: values.2
        case 3: values.3
        case 4: values.4
        case 5: values.5
        default: 0
        }
    }

    /// The register as the C `int` the kernel reads (its low 32 bits).
    public func int32(_ index: Int) -> Int32 { Int32(truncatingIfNeeded: self[index]) }
    public func uint32(_ index: Int) -> UInt32 { UInt32(truncatingIfNeeded: self[index]) }
    public func int64(_ index: Int) -> Int64 { Int64(bitPattern: self[index]) }
    /// A `size_t` count, clamped to what Swift can index (a hostile count never wraps).
    public func count(_ index: Int) -> Int { Int(clamping: self[index]) }
}

/// One syscall this layer serves: decodes raw registers and the caller's memory, calls the
/// `Task` method, and encodes the result. Handlers are listed per concern in
/// `SyscallTable+*.swift`.
public struct SyscallEntry: Sendable {
    public let number: SyscallNumber
    public let handler: @Sendable (Task, any TaskMemory, SyscallArguments) throws(Errno) -> Int64

    public init(
        _ number: SyscallNumber,
        _ handler: @escaping @Sendable (Task, any TaskMemory, SyscallArguments) throws(Errno) -> Int64
    ) {
        self.number = number
        self.handler = handler
    }
}

/// Serves syscalls by x86-64 number over six raw arguments, for a runtime that intercepts a
/// program's syscalls (ptrace, seccomp user notification). Returns what the kernel's syscall
/// return register would hold: the result, or -errno. Unknown numbers are -ENOSYS; bad
/// pointers -EFAULT, never a crash.
public struct SyscallDispatcher: Sendable {
    public let task: Task
    public let memory: any TaskMemory

    public init(task: Task, memory: any TaskMemory) {
        self.task = task
        self.memory = memory
    }

    /// Every syscall number this layer serves.
    public static var servedNumbers: [Int] { SyscallTable.handlers.keys.sorted() }

    public func dispatch(_ number: Int, _ arguments: SyscallArguments) -> Int64 {
        guard let handler = SyscallTable.handlers[number] else {
            return -Int64(Errno.noFunction.rawValue)
        }
        do {
            return try handler(task, memory, arguments)
        } catch {
            return -Int64(error.rawValue)
        }
    }
}

/// The handlers by number, gathered from the per-concern lists.
public enum SyscallTable {
    static let handlers:
        [Int: @Sendable (Task, any TaskMemory, SyscallArguments) throws(Errno) -> Int64] = {
            var table:
                [Int: @Sendable (Task, any TaskMemory, SyscallArguments) throws(Errno) -> Int64] =
                    [:]
            for entry in allEntries { table[entry.number.rawValue] = entry.handler }
            return table
        }()

    static var allEntries: [SyscallEntry] {
        openEntries + ioEntries + lockEntries + directoryEntries + fcntlEntries + mountEntries
            + pipeEntries + statEntries + pathEntries + xattrEntries
    }
}

import Foundation
import Glibc

/// Per-syscall figures of one replay.
public struct SyscallFigures: Sendable, Codable, Equatable {
    public var replayed = 0
    public var matched = 0
    public var diverged = 0
    /// Time spent inside the target's calls for this syscall, in nanoseconds.
    public var nanoseconds: UInt64 = 0
    /// RPCs the target issued for this syscall (nil when the target counts none).
    public var rpcs: UInt64?
    public init() {}
}

/// A replayed call whose result differs from the recording.
public struct Divergence: Sendable, Codable, Equatable {
    public var line: Int
    public var pid: Int32
    public var syscall: String
    public var call: String
    public var expected: String
    public var observed: String
}

/// The outcome of replaying one log against one configuration.
public struct ReplayReport: Sendable, Codable {
    public var configuration: String
    /// Syscall records in the log (joined calls, not lines).
    public var calls = 0
    public var replayed = 0
    public var matched = 0
    public var diverged = 0
    public var skipped = 0
    public var skippedByReason: [String: Int] = [:]
    public var perSyscall: [String: SyscallFigures] = [:]
    /// Sum of the time inside the target's calls for replayed operations.
    public var replayNanoseconds: UInt64 = 0
    /// Wall time of the whole replay loop (parsing excluded, bookkeeping included).
    public var wallNanoseconds: UInt64 = 0
    /// Time to build the manifest's tree.
    public var setupNanoseconds: UInt64 = 0
    public var rpcs: UInt64?
    public var divergences: [Divergence] = []
    public var unparsedLines = 0
    /// Paths added to the manifest because the trace shows them existing behind a dangling
    /// manifest symlink (see `Manifest.completed(with:)`).
    public var inferredEntries: [String] = []
    /// Files changed outside the trace during the recording, re-applied before the record
    /// that first observes them (see `Manifest.externalChanges(in:)`).
    public var externalChanges: [ExternalChange] = []
}

@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}

/// Replays a parsed strace log against one `ReplayTarget`.
///
/// The model: each recorded pid has an fd table and a cwd. Recorded fd numbers map to the
/// target's own descriptors (all processes share the target's one context). `clone`/`fork`/
/// `vfork` results create a child that copies (or, with CLONE_FILES / CLONE_FS, shares) its
/// parent's table and cwd; a pid that appears without a recorded clone (logs traced without
/// %process) is matched to its parent through the `si_pid` of the SIGCHLD its parent received,
/// and copies the parent's table when it first appears. `execve` applies close-on-exec. A pid's
/// descriptors are released after its last record. Before each operation the target's cwd is
/// switched to the pid's (an O_PATH descriptor per cwd, `fchdir`, outside the timed region).
///
/// Each modelled call runs on the target; its raw result (value or -errno) is compared with the
/// recording. Calls that return a descriptor match when both succeed (the numbers are the
/// target's own) or fail with the same errno; stat calls also compare `st_mode` and, for
/// regular files and symlinks, `st_size` (directory sizes are file-system specific).
/// Everything else is skipped with a reason.
public final class Replayer {
    public let target: any ReplayTarget
    public var maxDivergenceExamples = 25
    /// Called every `progressInterval` records with (done, total).
    public var progress: ((Int, Int) -> Void)?
    public var progressInterval = 2000

    final class FdTable {
        var slots: [Int32: Slot] = [:]
        var users = 1
    }
    struct Slot {
        var target: Int32?  // nil: not modelled (pipe, socket...), reason below
        var reason: String
        var closeOnExec: Bool
    }
    final class Cwd {
        var fd: Int32
        var users = 1
        init(fd: Int32) { self.fd = fd }
    }
    final class Process {
        var files: FdTable
        var cwd: Cwd
        init(files: FdTable, cwd: Cwd) {
            self.files = files
            self.cwd = cwd
        }
    }

    var processes: [Int32: Process] = [:]
    var parents: [Int32: Int32] = [:]
    var lastRecord: [Int32: Int] = [:]
    var currentCwd: Cwd?
    var initialCwd: Cwd?
    var report: ReplayReport
    var buffer: UnsafeMutableRawBufferPointer
    var filler: UnsafeMutableRawBufferPointer

    public init(target: any ReplayTarget) {
        self.target = target
        self.report = ReplayReport(configuration: target.name)
        buffer = .allocate(byteCount: 1 << 20, alignment: 16)
        filler = .allocate(byteCount: 1 << 20, alignment: 16)
        for index in 0..<filler.count { filler[index] = UInt8(truncatingIfNeeded: index &* 31 &+ 7) }
    }

    deinit {
        buffer.deallocate()
        filler.deallocate()
    }

    static let oPath: Int32 = 0o10000000, oDirectory: Int32 = 0o200000, oCloexec: Int32 = 0o2000000

    /// Builds the tree, replays every record, tears the target down.
    public func run(_ records: [StraceRecord], manifest: Manifest) throws -> ReplayReport {
        try target.setUp()
        defer { target.tearDown() }
        let setupStart = monotonicNanoseconds()
        let completion = manifest.completed(with: records)
        report.inferredEntries = completion.inferred
        report.externalChanges = completion.manifest.externalChanges(in: records)
        var pendingChanges = report.externalChanges[...]
        try target.build(completion.manifest, filler: UnsafeRawBufferPointer(filler))
        report.setupNanoseconds = monotonicNanoseconds() - setupStart
        let cwdFd = target.openat(-100, ReplayPath("."), Self.oPath | Self.oDirectory | Self.oCloexec, 0)
        guard cwdFd >= 0 else { throw ReplaySetupError("\(target.name): open cwd: errno \(-cwdFd)") }
        let cwd = Cwd(fd: Int32(cwdFd))
        cwd.users = 2  // never released: new orphan pids start here
        initialCwd = cwd
        currentCwd = cwd
        prescan(records)
        let rpcStart = target.rpcCount
        let start = monotonicNanoseconds()
        for (index, record) in records.enumerated() {
            if let progress, index % progressInterval == 0 { progress(index, records.count) }
            while let change = pendingChanges.first, change.recordIndex == index {
                _ = target.truncate(ReplayPath(change.path), change.size)
                pendingChanges = pendingChanges.dropFirst()
            }
            replay(record)
            if let pid = record.pid, lastRecord[pid] == index { release(pid) }
        }
        progress?(records.count, records.count)
        report.wallNanoseconds = monotonicNanoseconds() - start
        if let rpcStart, let rpcEnd = target.rpcCount { report.rpcs = rpcEnd - rpcStart }
        for pid in Array(processes.keys) { release(pid) }
        return report
    }

    func prescan(_ records: [StraceRecord]) {
        for (index, record) in records.enumerated() {
            switch record {
            case .call(let call):
                lastRecord[call.pid] = index
            case .signal(let pid, let name, let info, _):
                lastRecord[pid] = index
                if name == "SIGCHLD", let child = StraceConstants.field("si_pid", in: info) {
                    parents[Int32(truncatingIfNeeded: child)] = pid
                }
            case .exit(let pid, _):
                lastRecord[pid] = index
            case .unparsed:
                report.unparsedLines += 1
            }
        }
    }

    // MARK: - Processes

    func process(_ pid: Int32) -> Process {
        if let existing = processes[pid] { return existing }
        let created: Process
        if let parentPid = parents[pid], let parent = processes[parentPid] {
            created = Process(files: copy(parent.files), cwd: copy(parent.cwd))
        } else {
            let cwd = initialCwd ?? Cwd(fd: -1)
            created = Process(files: FdTable(), cwd: copy(cwd))
        }
        processes[pid] = created
        return created
    }

    func copy(_ table: FdTable) -> FdTable {
        let result = FdTable()
        for (fd, slot) in table.slots {
            var copied = slot
            if let own = slot.target {
                let duplicate = target.fcntl(own, slot.closeOnExec ? 1030 : 0, 0)
                copied.target = duplicate >= 0 ? Int32(duplicate) : nil
            }
            result.slots[fd] = copied
        }
        return result
    }

    func copy(_ cwd: Cwd) -> Cwd {
        let duplicate = target.fcntl(cwd.fd, 1030, 0)
        return Cwd(fd: Int32(truncatingIfNeeded: duplicate))
    }

    func release(_ pid: Int32) {
        guard let process = processes.removeValue(forKey: pid) else { return }
        release(process.files)
        release(process.cwd)
    }

    func release(_ table: FdTable) {
        table.users -= 1
        guard table.users == 0 else { return }
        for slot in table.slots.values { if let own = slot.target { _ = target.close(own) } }
        table.slots.removeAll()
    }

    func release(_ cwd: Cwd) {
        cwd.users -= 1
        guard cwd.users == 0 else { return }
        if currentCwd === cwd { currentCwd = nil }
        _ = target.close(cwd.fd)
    }

    func enterCwd(of process: Process) {
        guard currentCwd !== process.cwd else { return }
        _ = target.fchdir(process.cwd.fd)
        currentCwd = process.cwd
    }

    /// Puts a target descriptor at a recorded number, closing what was there.
    func install(_ slot: Slot, at fd: Int32, in table: FdTable) {
        if let old = table.slots[fd]?.target { _ = target.close(old) }
        table.slots[fd] = slot
    }

    // MARK: - Records

    func skip(_ reason: String) {
        report.skipped += 1
        report.skippedByReason[reason, default: 0] += 1
    }

    func replay(_ record: StraceRecord) {
        guard case .call(let call) = record else {
            if case .exit(let pid, _) = record { release(pid) }
            return
        }
        report.calls += 1
        let process = process(call.pid)
        let expected: Int
        switch call.result {
        case .value(let value): expected = Int(value)
        case .error(let name):
            guard let number = StraceConstants.errnoValues[name] else {
                return skip("result errno \(name) not known")
            }
            expected = -Int(number)
        case .unknown:
            return modelProcessOnly(call, process) ?? skip("no result recorded")
        }
        if let reason = perform(call, process, expected) { skip(reason) }
    }

    /// Calls with no result that still change the model (exit).
    func modelProcessOnly(_ call: StraceCall, _ process: Process) -> Void? {
        if call.name == "exit_group" || call.name == "exit" {
            release(call.pid)
            skip("process exit")
            return ()
        }
        return nil
    }

    struct Timed {
        var result: Int
        var nanoseconds: UInt64
        var rpcs: UInt64?
    }

    @inline(__always)
    func timed(_ body: () -> Int) -> Timed {
        let rpcBefore = target.rpcCount
        let start = monotonicNanoseconds()
        let result = body()
        let elapsed = monotonicNanoseconds() &- start
        var rpcs: UInt64?
        if let rpcBefore, let rpcAfter = target.rpcCount { rpcs = rpcAfter &- rpcBefore }
        return Timed(result: result, nanoseconds: elapsed, rpcs: rpcs)
    }

    enum Comparison { case exact, descriptor }

    func record(_ call: StraceCall, _ timed: Timed, expected: Int, _ comparison: Comparison,
        detail: String? = nil)
    {
        var figures = report.perSyscall[call.name] ?? SyscallFigures()
        figures.replayed += 1
        figures.nanoseconds &+= timed.nanoseconds
        if let rpcs = timed.rpcs { figures.rpcs = (figures.rpcs ?? 0) &+ rpcs }
        report.replayed += 1
        report.replayNanoseconds &+= timed.nanoseconds
        let observed = timed.result
        var matches: Bool
        switch comparison {
        case .exact: matches = observed == expected
        case .descriptor: matches = (observed >= 0 && expected >= 0) || observed == expected
        }
        if matches && detail != nil { matches = false }
        if matches {
            figures.matched += 1
            report.matched += 1
        } else {
            figures.diverged += 1
            report.diverged += 1
            if report.divergences.count < maxDivergenceExamples {
                report.divergences.append(Divergence(
                    line: call.line, pid: call.pid, syscall: call.name, call: Self.describe(call),
                    expected: Self.describe(result: expected),
                    observed: Self.describe(result: observed) + (detail.map { " with " + $0 } ?? "")))
            }
        }
        report.perSyscall[call.name] = figures
    }

    static func describe(result: Int) -> String {
        result < 0 ? "-1 " + StraceConstants.errnoName(Int32(truncatingIfNeeded: -result)) : String(result)
    }

    static func describe(_ call: StraceCall) -> String {
        let arguments = call.arguments.map { argument -> String in
            switch argument {
            case .int(let value): return String(value)
            case .string(let bytes, let truncated):
                return "\"" + String(decoding: bytes.prefix(48), as: UTF8.self) + "\"" + (truncated || bytes.count > 48 ? "..." : "")
            case .flags(let parts): return parts.joined(separator: "|")
            case .null: return "NULL"
            case .structure: return "{...}"
            case .array: return "[...]"
            case .raw(let text): return text
            }
        }
        return "\(call.name)(\(arguments.joined(separator: ", ")))"
    }
}

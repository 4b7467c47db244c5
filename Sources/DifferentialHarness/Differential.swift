import Glibc
import VFSCore

/// The differential harness: one sequence of operations, run once against Linux and once
/// against VFSKit, compared step by step and then as whole trees.
///
/// How it works:
/// - Kernel side: `SubprocessKernelExecutor` makes a fresh `mkdtemp` directory under
///   /dev/shm (a real tmpfs) with the configuration's mode and owner, and starts the hidden
///   `vfs kernel-exec` subcommand, which chroots into it, takes the identity (setgroups,
///   setresgid, setresuid) and runs each `Operation` as one raw syscall (`KernelExecutor`).
///   The chroot makes "/" and ".." at the top mean the same as in the VFS, so absolute
///   symlinks and paths that climb are comparable, and nothing can reach the host's files.
/// - VFS side: `VFSExecutor` runs the same steps through `Syscalls.Task` on a fresh
///   `TmpfsFilesystem` whose root has the same mode and owner.
/// - Compared (`Differential.compare`): every return value and errno; descriptor numbers
///   (both sides start with 0-2 taken); for stats, mode, nlink, size, uid, gid and (regular
///   files) blocks, and for each time whether it moved since the previous stat of the same
///   inode (`TimeMark`; absolute times are not comparable); directory listings (sorted
///   names with d_type); data read; finally both trees as root (`TreeEntry`: the same fields,
///   contents, link targets, xattrs).
/// - Times: tmpfs has multigrain timestamps, so an inode's own change after a stat gets a
///   fine-grained, visibly new time; but atime, and directory times copied from another inode
///   (link, unlink, rename), come from CLOCK_REALTIME_COARSE. So the kernel executor waits,
///   after each stat, until that clock is past the times it showed; then any later change
///   shows. The VFS executor does the same when its backend's times are the host kernel's
///   (host and gofer roots, `VFSRoot.kernelStampsTimes`). And where atime equals mtime in
///   Linux but not in the VFS (a coarse atime in the tick of a fine mtime), relatime decides
///   differently on the next read, so atime's movement is not compared for that interval
///   (`StatRecord.accessWasStale`).
/// - Not comparable, hence never generated: blocking calls (every open has O_NONBLOCK, so a
///   FIFO never blocks), inode numbers, absolute times, device numbers.
///
/// Random sequences come from `SequenceGenerator(seed:)`, failing ones are reduced by
/// `Shrinker`, and `soak(seeds:operationsPerSeed:configuration:)` runs many seeds.
public enum Differential {
    /// Whether this process can run the kernel side: root (for chroot and setresuid), and
    /// /dev/shm on a real tmpfs (statfs type TMPFS_MAGIC).
    public static let kernelSideAvailable: Bool = {
        guard geteuid() == 0 else { return false }
        // struct statfs on x86-64 starts with the 8-byte f_type; 120 bytes in all.
        var buffer = [UInt8](repeating: 0, count: 128)
        let result = "/dev/shm".withCString { path in
            buffer.withUnsafeMutableBytes { sys(137, address(path), address($0.baseAddress)) }
        }
        guard result == 0 else { return false }
        let type = buffer[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return type == 0x0102_1994  // TMPFS_MAGIC
    }()

    /// Runs `operations` on both sides and compares them. `stopAtFirst` ends at the first
    /// divergent step (the shrinker's mode).
    public static func run(
        _ operations: [Operation], configuration: RunConfiguration = .root,
        compareTrees: Bool = true, stopAtFirst: Bool = false, vfsBinary: String? = nil,
        vfsRoot: VFSRoot.Factory = VFSRoot.default
    ) throws -> RunReport {
        let kernel = try SubprocessKernelExecutor(
            configuration: configuration, vfsBinary: vfsBinary)
        defer { kernel.removeScratch() }
        let vfs: VFSExecutor
        do {
            vfs = try VFSExecutor(configuration: configuration, root: vfsRoot)
        } catch {
            throw HarnessError("cannot set up the VFS side: \(error)")
        }
        var report = RunReport(configuration: configuration, operations: operations)
        for (index, operation) in operations.enumerated() {
            let kernelOutcome = try kernel.run(operation)
            let vfsOutcome = vfs.run(operation)
            report.steps.append(
                StepRecord(operation: operation, kernel: kernelOutcome, vfs: vfsOutcome))
            var found = compare(kernelOutcome, vfsOutcome, step: index, operation: operation)
            // The backend's documented deviations (exact values only), when it has any.
            var ends = false
            found.removeAll { divergence in
                guard
                    let known = vfs.knownDeviations.first(where: {
                        $0.documents(divergence, after: operations[..<index])
                    })
                else { return false }
                report.documentedDeviations.append(DocumentedDeviation(divergence, known))
                ends = ends || known.endsComparison
                return true
            }
            report.divergences += found
            if stopAtFirst && !found.isEmpty { return report }
            if ends {
                // Later steps build on what only Linux made: nothing more is comparable.
                report.comparisonEnded = index
                kernel.finish()
                return report
            }
        }
        kernel.finish()
        if compareTrees {
            report.divergences += Differential.compareTrees(
                kernel: KernelTree.snapshot(kernel.scratch), vfs: VFSTree.snapshot(vfs))
        }
        return report
    }

    /// The divergences between two outcomes of one step.
    public static func compare(_ kernel: Outcome, _ vfs: Outcome, step: Int, operation: Operation)
        -> [Divergence]
    {
        func divergence(_ field: String, _ k: String, _ v: String) -> Divergence {
            Divergence(step: step, operation: operation, field: field, kernel: k, vfs: v)
        }
        if case .unsupported = kernel {
            return [divergence("harness", kernel.description, vfs.description)]
        }
        if case .unsupported = vfs {
            return [divergence("harness", kernel.description, vfs.description)]
        }
        guard case .stat(let k) = kernel, case .stat(let v) = vfs else {
            return kernel == vfs ? [] : [divergence("result", kernel.description, vfs.description)]
        }
        var found: [Divergence] = []
        func check<T: Equatable>(_ name: String, _ a: T, _ b: T, _ show: (T) -> String) {
            if a != b { found.append(divergence("stat.\(name)", show(a), show(b))) }
        }
        check("mode", k.mode, v.mode) { FlagNames.fileMode($0) }
        check("nlink", k.nlink, v.nlink) { "\($0)" }
        check("size", k.size, v.size) { "\($0)" }
        check("uid", k.uid, v.uid) { "\($0)" }
        check("gid", k.gid, v.gid) { "\($0)" }
        check("blocks", k.blocks, v.blocks) { $0.map { "\($0)" } ?? "-" }
        check("rdev", k.rdev, v.rdev) { $0.map { "0x\(String($0, radix: 16))" } ?? "-" }
        // A "same" from Linux proves nothing when the previous value was not yet behind its
        // coarse clock (see `StatRecord.wasSettled`).
        let unsettled = k.wasSettled == false
        if !(unsettled && k.modificationTime == .same) {
            check("mtime", k.modificationTime, v.modificationTime) { $0.rawValue }
        }
        if !(unsettled && k.changeTime == .same) {
            check("ctime", k.changeTime, v.changeTime) { $0.rawValue }
        }
        if k.accessWasStale == v.accessWasStale && !(unsettled && k.accessTime == .same) {
            check("atime", k.accessTime, v.accessTime) { $0.rawValue }
        }
        return found
    }

    /// The divergences between two final trees.
    public static func compareTrees(kernel: [String: TreeEntry], vfs: [String: TreeEntry])
        -> [Divergence]
    {
        var found: [Divergence] = []
        let paths = Set(kernel.keys).union(vfs.keys).sorted()
        for path in paths {
            guard let k = kernel[path], let v = vfs[path] else {
                found.append(
                    Divergence(
                        step: nil, operation: nil, field: "tree.exists \(path)",
                        kernel: kernel[path]?.description ?? "missing",
                        vfs: vfs[path]?.description ?? "missing"))
                continue
            }
            func check<T: Equatable>(_ name: String, _ a: T, _ b: T, _ show: (T) -> String) {
                if a != b {
                    found.append(
                        Divergence(
                            step: nil, operation: nil, field: "tree.\(name) \(path)",
                            kernel: show(a), vfs: show(b)))
                }
            }
            check("mode", k.mode, v.mode) { FlagNames.fileMode($0) }
            check("nlink", k.nlink, v.nlink) { "\($0)" }
            check("size", k.size, v.size) { "\($0)" }
            check("uid", k.uid, v.uid) { "\($0)" }
            check("gid", k.gid, v.gid) { "\($0)" }
            check("blocks", k.blocks, v.blocks) { $0.map { "\($0)" } ?? "-" }
            check("rdev", k.rdev, v.rdev) { $0.map { "0x\(String($0, radix: 16))" } ?? "-" }
            check("target", k.target, v.target) { $0.map { quoted($0) } ?? "-" }
            check("data", k.data, v.data) { $0.map { "\($0.count) bytes \(quoted($0))" } ?? "-" }
            check("xattrs", k.xattrs, v.xattrs) { x in
                x.keys.sorted().map { "\($0)=\(quoted(x[$0] ?? []))" }.joined(separator: " ")
            }
        }
        return found
    }
}

/// One way the two sides disagreed.
public struct Divergence: Hashable, Sendable, CustomStringConvertible {
    /// The step (index into the sequence); nil for the final tree comparison.
    public var step: Int?
    public var operation: Operation?
    /// What differed: "result", "stat.nlink", "stat.ctime", "tree.data a/b", ...
    public var field: String
    public var kernel: String
    public var vfs: String

    public init(step: Int?, operation: Operation?, field: String, kernel: String, vfs: String) {
        self.step = step
        self.operation = operation
        self.field = field
        self.kernel = kernel
        self.vfs = vfs
    }

    /// What makes two divergences "the same bug" for the shrinker: the syscall, the field,
    /// and for results the kinds of outcome (errno names or "ok"); for trees, the field
    /// without the path.
    public var signature: String {
        guard let operation else {
            return String(field.prefix(while: { $0 != " " }))
        }
        if field == "result" {
            return "\(operation.name) result kernel=\(kind(kernel)) vfs=\(kind(vfs))"
        }
        return "\(operation.name) \(field)"
    }

    private func kind(_ text: String) -> String {
        text.hasPrefix("-1 ") ? String(text.dropFirst(3)) : "ok"
    }

    public var description: String {
        let at = step.map { "step \($0): \(operation.map(\.description) ?? "")" } ?? "final tree"
        return "\(at)\n    \(field): Linux \(kernel)  |  VFSKit \(vfs)"
    }
}

/// One step as each side ran it.
public struct StepRecord: Hashable, Sendable {
    public var operation: Operation
    public var kernel: Outcome
    public var vfs: Outcome
}

/// The result of a differential run.
public struct RunReport: Sendable {
    public var configuration: RunConfiguration
    public var operations: [Operation]
    public var steps: [StepRecord] = []
    public var divergences: [Divergence] = []
    /// Divergences the VFS root's backend documents (`KnownDeviation`): not failures.
    public var documentedDeviations: [DocumentedDeviation] = []
    /// The step after which a documented deviation ended the comparison, if one did.
    public var comparisonEnded: Int?

    public var isClean: Bool { divergences.isEmpty }

    /// The steps as a transcript ("≠" marks a divergent step), then the divergences.
    public func render(maxDivergences: Int = 10) -> String {
        var divergent: Set<Int> = []
        for divergence in divergences { if let step = divergence.step { divergent.insert(step) } }
        var lines = [
            "configuration: \(configuration.identity), root \(octal(configuration.rootMode)) \(configuration.rootUID):\(configuration.rootGID), umask \(octal(configuration.umask))"
        ]
        for (index, step) in steps.enumerated() {
            let same = step.kernel == step.vfs
            let mark = divergent.contains(index) ? "≠" : " "
            let result = same ? "= \(step.kernel)" : "= Linux \(step.kernel) | VFSKit \(step.vfs)"
            lines.append("\(mark) \(index): \(step.operation) \(result)")
        }
        for documented in documentedDeviations {
            lines.append("documented deviation: \(documented)")
        }
        if let comparisonEnded {
            lines.append("comparison ended after step \(comparisonEnded) (documented deviation)")
        }
        if !divergences.isEmpty {
            lines.append("\(divergences.count) divergence(s):")
            for divergence in divergences.prefix(maxDivergences) {
                lines.append("  " + divergence.description)
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// A divergence a `KnownDeviation` documents, with the entry that documents it.
public struct DocumentedDeviation: Sendable, CustomStringConvertible {
    public var divergence: Divergence
    public var name: String
    public var reason: String

    init(_ divergence: Divergence, _ known: KnownDeviation) {
        self.divergence = divergence
        self.name = known.name
        self.reason = known.reason
    }

    public var description: String { "\(name) at \(divergence) (\(reason))" }
}

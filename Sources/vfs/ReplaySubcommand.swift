import ArgumentParser
import Foundation
import Glibc
import GoferBackend
import GoferServer
import Replay
import SystemPackage

/// `vfs replay LOG...`: replays a strace log against the Linux kernel and VFSKit
/// configurations and compares every modelled call's result with the recording.
struct ReplaySubcommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a strace log against the kernel and VFSKit configurations.",
        discussion: """
            Each LOG is the output of `strace -f -qq -e trace=%file,%desc,getdents64 -o LOG CMD`;
            its manifest is the JSON description of the starting tree (see workloads/README.md).
            Exits 1 when any replayed call diverges from the recording.
            The kernel configuration chroots this process into a scratch directory under
            --scratch (so it needs root).
            """)

    @Argument(help: "Strace logs; each is replayed with the manifest beside it (NAME.manifest.json for NAME.strace).")
    var logs: [String]
    @Option(help: "The manifest of the starting tree, when a single LOG is given and its manifest lies elsewhere.")
    var manifest: String?

    @Option(name: .long, parsing: .upToNextOption,
        help: "Configurations to replay against: kernel, tmpfs, host, host-shared, gofer, gofer-shared.")
    var config: [String] = ["kernel", "tmpfs"]

    @Option(help: "Where the kernel configuration builds its tree (a tmpfs compares like with like).")
    var scratch: String = "/dev/shm"

    @Option(name: .customLong("repeat"), help: "Replay each configuration this many times and keep the fastest run.")
    var runs: Int = 1

    @Flag(help: "Print the report as JSON instead of tables.") var json = false
    @Option(help: "Write an SVG bar chart of time relative to the kernel to this path.") var svg: String?
    @Flag(help: "Only the summary table, not the per-syscall one.") var brief = false

    func validate() throws {
        if logs.isEmpty { throw ValidationError("give at least one strace log") }
        if manifest != nil && logs.count > 1 { throw ValidationError("--manifest needs a single log") }
    }

    func run() throws {
        // Open the output file before any configuration chroots the process.
        let svgHandle = try svg.map { path -> FileHandle in
            FileManager.default.createFile(atPath: path, contents: nil)
            guard let handle = FileHandle(forWritingAtPath: path) else { throw ValidationError("cannot write \(path)") }
            return handle
        }
        var documents: [ReplayOutput.Document] = []
        for log in logs {
            let manifestPath = manifest
                ?? (log.hasSuffix(".strace") ? String(log.dropLast(7)) + ".manifest.json" : log + ".manifest.json")
            documents.append(try replay(log: log, manifestPath: manifestPath))
            if !json { print(ReplayOutput.table(documents[documents.count - 1].reports, workload: documents[documents.count - 1].workload, perSyscall: !brief)) }
        }
        if json {
            let data = try ReplayOutput.json(documents)
            FileHandle.standardOutput.write(data)
            print()
        }
        if let svgHandle {
            svgHandle.write(ReplayOutput.svg(documents).data(using: .utf8) ?? Data())
            try svgHandle.close()
        }
        if documents.contains(where: { $0.reports.contains { $0.diverged > 0 } }) { throw ExitCode(1) }
    }

    func replay(log: String, manifestPath: String) throws -> ReplayOutput.Document {
        let logURL = URL(fileURLWithPath: log)
        let tree = try Manifest.load(contentsOf: URL(fileURLWithPath: manifestPath))
        let records = StraceParser.parse(try String(contentsOf: logURL, encoding: .utf8))
        let workload = logURL.deletingPathExtension().lastPathComponent
        let interactive = isatty(2) != 0
        var reports: [ReplayReport] = []
        for name in config {
            var best: ReplayReport?
            for round in 0..<max(1, runs) {
                let target = try Self.makeTarget(name, scratch: scratch)
                let replayer = Replayer(target: target)
                if interactive {
                    let label = runs > 1 ? "\(workload) \(name) \(round + 1)/\(runs)" : "\(workload) \(name)"
                    replayer.progress = { done, total in Self.progressBar(label, done, total) }
                }
                let report = try replayer.run(records, manifest: tree)
                if interactive { FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8) ?? Data()) }
                if best == nil || report.replayNanoseconds < (best?.replayNanoseconds ?? 0) { best = report }
            }
            if let best { reports.append(best) }
        }
        return ReplayOutput.Document(workload: workload, reports: reports)
    }

    /// The configurations. `gofer` (exclusive caching, a sandbox's root mount) and
    /// `gofer-shared` (shared caching, a bind mount others may change) are `TaskTarget`s over
    /// the gofer client talking LISAFS to an in-process `GoferServer` over a socketpair.
    static func makeTarget(_ name: String, scratch: String) throws -> any ReplayTarget {
        switch name {
        case "kernel": return KernelTarget(scratchParent: scratch)
        case "tmpfs": return TaskTarget.tmpfs()
        case "host": return try TaskTarget.host(scratchParent: scratch)
        case "host-shared": return try TaskTarget.host(name: "host-shared", caching: .shared, scratchParent: scratch)
        case "gofer": return try goferTarget(name: name, caching: .exclusive, scratchParent: scratch)
        case "gofer-shared": return try goferTarget(name: name, caching: .shared, scratchParent: scratch)
        default:
            throw ValidationError(
                "unknown configuration \(name) (known: kernel, tmpfs, host, host-shared, gofer, gofer-shared)")
        }
    }

    /// A `GoferFilesystem` root served by a `GoferServer` on its own thread in this process,
    /// over a socketpair, exporting a fresh scratch directory under `scratchParent` (removed,
    /// and the connection closed, at `tearDown`). The RPC counter is the client's total.
    static func goferTarget(name: String, caching: GoferCachingMode, scratchParent: String) throws -> TaskTarget {
        let scratch = "\(scratchParent)/vfs-replay-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard Glibc.mkdir(scratch, 0o755) == 0 else { throw ValidationError("\(name): mkdir \(scratch): errno \(errno)") }
        var fds: [Int32] = [0, 0]
        let filesystem: GoferFilesystem
        do throws(Errno) {
            let server = try GoferServer(rootPath: scratch)
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0
            else { throw Errno(rawValue: errno) }
            server.serveInBackground(socket: fds[1])
            filesystem = try GoferFilesystem(
                socket: FileDescriptor(rawValue: fds[0]), options: GoferOptions(caching: caching))
        } catch {
            try? FileManager.default.removeItem(atPath: scratch)
            throw ValidationError("\(name): \(error)")
        }
        return TaskTarget(name: name, root: filesystem, rootDentry: filesystem.root,
            rpcCounter: { UInt64(filesystem.totalRPCCount) },
            cleanup: {
                filesystem.disconnect()
                try? FileManager.default.removeItem(atPath: scratch)
            })
    }

    static func progressBar(_ label: String, _ done: Int, _ total: Int) {
        let width = 40
        let filled = total > 0 ? done * width / total : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = "\r\(label) [\(bar)] \(done)/\(total)"
        FileHandle.standardError.write(line.data(using: .utf8) ?? Data())
    }
}

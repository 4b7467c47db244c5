import Foundation
import Testing

/// Runs shell scripts twice — natively in a fresh directory under /dev/shm (a real tmpfs) and
/// under `vfs run --mount tmpfs:/sandbox` in /sandbox — and gives both results, so tests can
/// require identical output. The script receives the directory as $1 and should `cd "$1"`
/// first and use relative paths, so the outputs do not differ by the directory's name.
struct ProgramResult: Equatable, CustomStringConvertible {
    var status: Int32
    var output: String
    var errors: String
    var description: String { "status \(status)\n--- stdout\n\(output)--- stderr\n\(errors)" }
}

enum SandboxRunner {
    static var vfsBinary: String? {
        if let explicit = ProcessInfo.processInfo.environment["VFSKIT_VFS_BINARY"] {
            return explicit
        }
        var candidates: [String] = []
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        candidates.append((exe as NSString).deletingLastPathComponent + "/vfs")
        if let first = CommandLine.arguments.first {
            candidates.append((first as NSString).deletingLastPathComponent + "/vfs")
        }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().path + "/vfs")
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func execute(_ arguments: [String], input: String? = nil) throws -> ProgramResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes to the end before waiting, so a chatty program cannot block.
        let errorData = Locked<Data>(Data())
        let errorReader = Thread {
            errorData.set(errors.fileHandleForReading.readDataToEndOfFile())
        }
        errorReader.start()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorData.done { usleep(1000) }
        let status =
            process.terminationReason == .uncaughtSignal
            ? 128 + process.terminationStatus : process.terminationStatus
        return ProgramResult(
            status: status, output: String(decoding: outputData, as: UTF8.self),
            errors: String(decoding: errorData.value, as: UTF8.self))
    }

    /// `program` run natively with `directory` as its last argument.
    static func native(_ program: [String], in directory: String) throws -> ProgramResult {
        try execute(program + [directory])
    }

    /// `program` run under `vfs run` with the given mounts, "/sandbox" as its last argument.
    static func sandboxed(
        _ program: [String], mounts: [String] = ["tmpfs:/sandbox:mode=0755"], directory: String = "/sandbox",
        extraOptions: [String] = []
    ) throws -> ProgramResult {
        guard let vfs = vfsBinary else { throw RunnerError("the vfs executable is not built") }
        var arguments = [vfs, "run"]
        for mount in mounts { arguments += ["--mount", mount] }
        arguments += extraOptions
        arguments += ["--"] + program + [directory]
        return try execute(arguments)
    }

    /// A fresh empty directory on /dev/shm, removed by `cleanup`.
    static func scratchDirectory() throws -> String {
        let path = "/dev/shm/vfskit-run-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    static func cleanup(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The script under `sh -c`, natively and sandboxed; both results.
    static func compareShell(_ script: String) throws -> (native: ProgramResult, sandboxed: ProgramResult) {
        let directory = try scratchDirectory()
        defer { cleanup(directory) }
        let program = ["/bin/sh", "-c", script, "sh"]
        let native = try native(program, in: directory)
        let sandboxed = try sandboxed(program)
        return (native, sandboxed)
    }

    /// The script natively in one fresh directory and under a gofer mount (`/srv`, served by
    /// a separate confined `vfs gofer`) of another; both results, and the gofer's host
    /// directory (the caller removes it with `cleanup`). `flags` is appended to the mount spec.
    static func compareShellOnGofer(_ script: String, flags: String = "") throws
        -> (native: ProgramResult, sandboxed: ProgramResult, hostDirectory: String)
    {
        let nativeDirectory = try scratchDirectory()
        defer { cleanup(nativeDirectory) }
        let hostDirectory = try scratchDirectory()
        let program = ["/bin/sh", "-c", script, "sh"]
        let native = try native(program, in: nativeDirectory)
        let sandboxed = try sandboxed(
            program, mounts: ["gofer:/srv=\(hostDirectory)\(flags)"], directory: "/srv")
        return (native, sandboxed, hostDirectory)
    }
}

struct RunnerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A value one thread sets and another waits for.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    private var isSet = false
    init(_ value: Value) { stored = value }
    func set(_ value: Value) {
        lock.lock()
        stored = value
        isSet = true
        lock.unlock()
    }
    var done: Bool {
        lock.lock()
        defer { lock.unlock() }
        return isSet
    }
    var value: Value {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}

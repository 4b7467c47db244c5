import Foundation
import Glibc

/// How both sides start: the identity steps run as (until a `become`), the scratch root's
/// mode and owner, the umask.
public struct RunConfiguration: Codable, Hashable, Sendable {
    public var identity: Identity
    public var rootMode: UInt32
    public var rootUID: UInt32
    public var rootGID: UInt32
    public var umask: UInt32

    public init(
        identity: Identity = .root, rootMode: UInt32 = 0o755, rootUID: UInt32 = 0,
        rootGID: UInt32 = 0, umask: UInt32 = 0o022
    ) {
        self.identity = identity
        self.rootMode = rootMode
        self.rootUID = rootUID
        self.rootGID = rootGID
        self.umask = umask
    }

    /// Root, in a 0755 root directory.
    public static let root = RunConfiguration()

    /// uid 1000 (gid 1000, groups 2000 and 2001) in a root-owned 0777 directory.
    public static let user = RunConfiguration(
        identity: Identity(uid: 1000, gid: 1000, groups: [2000, 2001]), rootMode: 0o777)
}

/// Errors setting up a run (never a divergence).
public struct HarnessError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The kernel side as the test process sees it: a fresh `mkdtemp` directory under /dev/shm
/// (a real tmpfs) with the configuration's mode and owner, and a `vfs kernel-exec` child
/// chrooted into it (see `KernelExecCommand`), spoken to over a socket pair with one JSON
/// line per operation and per outcome. `finish()` ends the child; the directory stays for
/// `KernelTree.snapshot` until `removeScratch()`.
public final class SubprocessKernelExecutor {
    public let scratch: String
    private let socket: Int32
    private let pid: pid_t
    private var replies: LineReader
    private var finished = false
    private let encoder = JSONEncoder()
    private let decoder = JSONDecoder()

    public init(configuration: RunConfiguration, vfsBinary: String? = nil) throws {
        guard let binary = vfsBinary ?? SubprocessKernelExecutor.locateVFSBinary() else {
            throw HarnessError(
                "cannot find the vfs executable (set VFSKIT_VFS_BINARY or build the vfs product)")
        }
        scratch = try SubprocessKernelExecutor.makeScratch(configuration)
        var pair: [Int32] = [-1, -1]
        guard
            socketpair(
                AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0
        else {
            KernelTree.remove(scratch)
            throw HarnessError("socketpair: errno \(errno)")
        }
        let identity = configuration.identity
        let arguments = [
            binary, KernelExecCommand.name, "--root", scratch, "--uid", "\(identity.uid)",
            "--gid", "\(identity.gid)", "--groups",
            identity.groups.map(String.init).joined(separator: ","), "--umask",
            String(configuration.umask, radix: 8),
        ]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pair[1], 0)
        posix_spawn_file_actions_adddup2(&actions, pair[1], 1)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, binary, &actions, nil, &argv, environ)
        close(pair[1])
        guard spawned == 0 else {
            close(pair[0])
            KernelTree.remove(scratch)
            throw HarnessError("posix_spawn \(binary): errno \(spawned)")
        }
        pid = child
        socket = pair[0]
        replies = LineReader(fd: pair[0])
    }

    deinit {
        finish()
    }

    /// Runs one operation in the child.
    public func run(_ operation: Operation) throws -> Outcome {
        guard !finished else { throw HarnessError("the kernel child has finished") }
        var line = try encoder.encode(operation)
        line.append(0x0A)
        var remaining = line[...]
        while !remaining.isEmpty {
            let sent = remaining.withUnsafeBytes {
                send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { throw HarnessError("the kernel child is gone (errno \(errno))") }
            remaining = remaining.dropFirst(sent)
        }
        guard let reply = replies.next() else {
            throw HarnessError("the kernel child exited while running \(operation)")
        }
        return try decoder.decode(Outcome.self, from: Data(reply))
    }

    /// Ends the child (end of input) and waits for it.
    public func finish() {
        guard !finished else { return }
        finished = true
        shutdown(socket, Int32(SHUT_WR))
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        close(socket)
    }

    public func removeScratch() {
        finish()
        KernelTree.remove(scratch)
    }

    static func makeScratch(_ configuration: RunConfiguration) throws -> String {
        var template = Array("/dev/shm/vfskit-diff.XXXXXX".utf8CString)
        guard
            let made = template.withUnsafeMutableBufferPointer({
                $0.baseAddress.flatMap { mkdtemp($0) }
            })
        else { throw HarnessError("mkdtemp under /dev/shm: errno \(errno)") }
        let path = String(cString: made)
        guard chown(path, configuration.rootUID, configuration.rootGID) == 0,
            chmod(path, mode_t(configuration.rootMode)) == 0
        else {
            let code = errno
            KernelTree.remove(path)
            throw HarnessError("preparing \(path): errno \(code)")
        }
        return path
    }

    /// The `vfs` executable: $VFSKIT_VFS_BINARY, else next to this executable (a test bundle
    /// sits in the same build directory as the products), else next to argv[0].
    public static func locateVFSBinary() -> String? {
        var candidates: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["VFSKIT_VFS_BINARY"] {
            candidates.append(explicit)
        }
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if count > 0 {
            let exe = String(
                decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            candidates.append(directory(of: exe) + "/vfs")
        }
        if let first = CommandLine.arguments.first {
            candidates.append(directory(of: first) + "/vfs")
        }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().path + "/vfs")
        return candidates.first { access($0, X_OK) == 0 }
    }

    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }
}

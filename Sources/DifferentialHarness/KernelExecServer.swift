import CLinuxSupport
import Foundation
import Glibc

/// The hidden `vfs kernel-exec` subcommand: the kernel half of a differential run, in its own
/// process so that it can chroot into the scratch directory and change its credentials
/// without touching the test process.
///
///     vfs kernel-exec --root DIR [--uid U --gid G --groups a,b] [--umask 022]
///
/// It must start as root. It closes every descriptor above 2, moves into a private mount
/// namespace of its own (so mount and umount2 steps never touch the host), chroots into DIR
/// (so "/" and a ".." at the top stay inside, as in the VFS, whose task is chrooted into a
/// directory of its tmpfs), changes to "/", sets the umask, and takes the identity (setgroups, setresgid, setresuid,
/// keeping saved uid 0 so that a `become(root)` step can return). Then it reads one JSON
/// `Operation` per line on stdin and answers one JSON `Outcome` per line on stdout, until
/// end of input. It dies with its parent (PR_SET_PDEATHSIG).
public enum KernelExecCommand {
    public static let name = "kernel-exec"

    /// Runs the subcommand with the arguments after "kernel-exec"; returns the exit status.
    public static func run(arguments: [String]) -> Int32 {
        var root: String?
        var identity = Identity.root
        var umask: UInt32 = 0o022
        var index = 0
        func next() -> String? {
            index += 1
            return index < arguments.count ? arguments[index] : nil
        }
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--root": root = next()
            case "--uid": identity.uid = next().flatMap { UInt32($0) } ?? 0
            case "--gid": identity.gid = next().flatMap { UInt32($0) } ?? 0
            case "--groups":
                identity.groups = (next() ?? "").split(separator: ",").compactMap { UInt32($0) }
            case "--umask": umask = next().flatMap { UInt32($0, radix: 8) } ?? 0o022
            default:
                printError("vfs kernel-exec: unknown argument \(argument)")
                return 2
            }
            index += 1
        }
        guard let root else {
            printError(
                "usage: vfs kernel-exec --root DIR [--uid U --gid G --groups a,b] [--umask 022]")
            return 2
        }
        return runKernelExecServer(root: root, identity: identity, umask: umask)
    }
}

/// The server loop of `vfs kernel-exec` (see `KernelExecCommand`). Returns the exit status.
public func runKernelExecServer(root: String, identity: Identity, umask mask: UInt32) -> Int32 {
    // prctl(PR_SET_PDEATHSIG, SIGKILL)
    _ = sys(157, 1, Int(SIGKILL))
    // close_range(3, ~0U, 0): nothing of the parent's may leak into the chroot.
    _ = sys(436, 3, Int(UInt32.max), 0)
    // A mount namespace of its own, every mount in it private (mount(NULL, "/", NULL,
    // MS_REC|MS_PRIVATE)): mount and umount2 steps then change nothing the host sees, and
    // what they mounted goes away with the child.
    guard sys(272, 0x0002_0000) == 0,  // unshare(CLONE_NEWNS)
        "/".withCString({ sys(165, 0, address($0), 0, 0x4000 | 0x40000, 0) }) == 0
    else {
        printError("vfs kernel-exec: cannot make a private mount namespace")
        return 1
    }
    guard chroot(root) == 0, chdir("/") == 0 else {
        printError("vfs kernel-exec: cannot chroot into \(root): errno \(errno)")
        return 1
    }
    // A write to a FIFO without readers must come back as EPIPE, not kill the child.
    _ = signal(SIGPIPE, SIG_IGN)
    _ = umask(mode_t(mask))
    guard case .done = KernelExecutor.become(identity) else {
        printError("vfs kernel-exec: cannot become \(identity): errno \(errno)")
        return 1
    }
    let executor = KernelExecutor()
    let decoder = JSONDecoder()
    let encoder = JSONEncoder()
    var input = LineReader(fd: 0)
    while let line = input.next() {
        let outcome: Outcome
        do {
            outcome = executor.run(try decoder.decode(Operation.self, from: Data(line)))
        } catch {
            outcome = .unsupported("undecodable operation: \(error)")
        }
        guard var reply = try? encoder.encode(outcome) else { return 1 }
        reply.append(0x0A)
        guard writeAll(1, reply) else { return 1 }
    }
    return 0
}

/// Lines from a descriptor, without the newline; nil at end of input.
struct LineReader {
    let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    init(fd: Int32) { self.fd = fd }

    mutating func next() -> [UInt8]? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                return line
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                return line
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                atEnd = true
            } else {
                buffer += chunk[..<count]
            }
        }
    }
}

func printError(_ message: String) {
    _ = writeAll(2, Data((message + "\n").utf8))
}

func writeAll(_ fd: Int32, _ data: Data) -> Bool {
    var remaining = data[...]
    while !remaining.isEmpty {
        let count = remaining.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { return false }
        remaining = remaining.dropFirst(count)
    }
    return true
}

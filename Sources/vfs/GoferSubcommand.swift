import ArgumentParser
import CGoferSupport
import Glibc
import GoferServer

/// `vfs gofer`: serve one host directory over LISAFS (gVisor's gofer protocol) from a confined
/// process: own mount namespace pivoted into the directory, capabilities cut to the serving
/// set, no_new_privs, a seccomp allow-list (see GoferServer/ConfinementPolicy.swift).
struct GoferSubcommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gofer",
        abstract: "Serve a host directory over LISAFS from a confined process.")

    @Option(help: "The directory to serve.")
    var root: String

    @Flag(help: "Serve read-only: every mutating message gets EROFS.")
    var readOnly = false

    @Option(help: "Serve the one connected socket already open as this fd.")
    var fd: Int32?

    @Option(help: "Listen on a unix socket at this path (created before confinement) and serve every client.")
    var socket: String?

    @Flag(help: .hidden)
    var noSeccomp = false

    @Flag(help: .hidden)
    var probe = false

    func validate() throws {
        if probe { return }
        guard (fd == nil) != (socket == nil) else {
            throw ValidationError("give exactly one of --fd N or --socket PATH")
        }
    }

    func run() throws {
        // The listening socket lives outside the served tree: make it before confinement.
        var listening: Int32 = -1
        if let socket { listening = try makeListeningSocket(socket) }
        umask(0)  // modes come from the client, which applied its own umask
        // Made before confinement: the default channel limit counts the CPUs (/sys is gone after).
        let options = GoferServerOptions(readOnly: readOnly, privateZeroUmask: false)
        let report: ConfinementReport
        do {
            if noSeccomp {
                report = try Confinement.confine(root: root, readOnly: readOnly, seccompDenial: .errno(.notPermitted))
            } else {
                report = try Confinement.confine(root: root, readOnly: readOnly)
            }
        } catch {
            printError("vfs gofer: \(error)")
            throw ExitCode(2)
        }
        if report.usedChroot { printError("vfs gofer: pivot_root impossible; confined with chroot instead") }
        if probe { runProbe(procSelfFD: report.procSelfFD) }
        let server: GoferServer
        do {
            server = try GoferServer(
                rootPath: report.rootPath, procSelfFD: report.procSelfFD,
                options: options)
        } catch {
            printError("vfs gofer: cannot open the served root: \(error)")
            throw ExitCode(2)
        }
        if let fd {
            server.serve(socket: fd)
        } else {
            let error = server.acceptLoop(listeningSocket: listening)
            printError("vfs gofer: accept failed: \(error)")
            throw ExitCode(1)
        }
    }

    private func makeListeningSocket(_ path: String) throws -> Int32 {
        let sock = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard sock >= 0 else { throw ValidationError("socket: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw ValidationError("socket path too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(sock, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, Glibc.listen(sock, 64) == 0 else { throw ValidationError("bind/listen \(path): errno \(errno)") }
        return sock
    }

    /// Hidden: reports what the confined process can still reach, then makes one syscall
    /// outside the allow-list (unshare), which must kill it with SIGSYS.
    private func runProbe(procSelfFD: Int32) -> Never {
        func attempt(_ label: String, _ path: String, relativeTo directory: Int32 = AT_FDCWD) {
            let result = Glibc.openat(directory, path, O_RDONLY | O_CLOEXEC)
            let outcome = result >= 0 ? "opened" : "errno \(errno)"
            if result >= 0 { Glibc.close(result) }
            writeLine("\(label): \(outcome)")
        }
        attempt("served-marker", "/marker")
        attempt("host-passwd", "/etc/passwd")
        attempt("original-root", root)
        attempt("proc", "/proc/self/status")
        attempt("dotdot", "/../../etc/passwd")
        // The one host fd kept across the pivot: /proc/self/fd. Climbing out of it to another
        // process's root needs ptrace access, which the reduced capability set does not give
        // over a fully privileged process such as pid 1.
        attempt("proc-pid1-root", "../../1/root/etc/passwd", relativeTo: procSelfFD)
        attempt("proc-self-root", "../root/etc/passwd", relativeTo: procSelfFD)
        writeLine("forbidden-syscall: unshare")
        let result = gofer_probe_forbidden_syscall()
        writeLine("unshare returned \(result)")
        Glibc.exit(0)
    }

    private func writeLine(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
    }

    private func printError(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}

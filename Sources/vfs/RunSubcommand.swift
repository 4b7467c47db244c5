import ArgumentParser
import Glibc
import Sandbox

/// `vfs run [--mount SPEC]... [--uid N --gid N] -- PROGRAM ARGS...`: runs an unmodified Linux
/// program with its file syscalls under the mounts served by VFSCore (see `Sandbox`).
struct RunSubcommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a program with some paths served by VFSKit file systems.",
        discussion: """
            Mount specs: tmpfs:/PATH[:size=..,nr_inodes=..,mode=..], host:/PATH=/HOSTDIR[:ro], \
            gofer:/PATH=/HOSTDIR[:exclusive|:writethrough|:shared][:ro] (served by a confined \
            `vfs gofer` child). Paths outside every mount \
            are the host's. The exit status is the program's, or 128+N if signal N killed it. \
            Files in the VFS cannot be executed (EACCES) or mapped (ENODEV).
            """)

    @Option(name: .customLong("mount"), help: "A mount spec (repeatable).")
    var mounts: [String] = []

    @Option(help: "Run the program as this user id (and the VFS sees it).")
    var uid: UInt32?

    @Option(help: "Run the program with this group id (default: the --uid value).")
    var gid: UInt32?

    @Flag(name: .customLong("no-pin"), help: "Do not pin supervisor and program to one CPU.")
    var noPin = false

    @Argument(parsing: .postTerminator, help: "The program and its arguments, after --.")
    var command: [String] = []

    func run() throws {
        var specs: [MountSpec] = []
        for text in mounts {
            do throws(MountSpecError) {
                specs.append(try MountSpec(parsing: text))
            } catch {
                throw ValidationError(error.description)
            }
        }
        guard !command.isEmpty else {
            throw ValidationError("no program given: vfs run [--mount SPEC]... -- PROGRAM ARGS...")
        }
        let configuration = SandboxConfiguration(
            mounts: specs, program: command, uid: uid, gid: gid, pinToOneCPU: !noPin)
        let code: Int32
        do throws(SandboxError) {
            code = try Sandbox.run(configuration)
        } catch {
            var standardError = RunErrorStream()
            print(error.description, to: &standardError)
            throw ExitCode(125)
        }
        throw ExitCode(code)
    }
}

struct RunErrorStream: TextOutputStream {
    mutating func write(_ string: String) {
        var bytes = Array(string.utf8)
        bytes.withUnsafeMutableBytes { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}

import ArgumentParser
#if canImport(Glibc)
    import Glibc
#endif
import VFSCore

/// `vfs shell`: an interactive shell over a fresh tmpfs; reads commands from standard input,
/// so scripts and tests can drive it (`vfs shell < script`).
struct ShellCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shell",
        abstract: "An interactive shell over a VFS (a tmpfs root).",
        discussion: "Type `help` for the verbs. Errors print as Linux's tools print them.")

    @Option(help: "Run as this uid (no capabilities unless 0).")
    var uid: UInt32 = 0

    @Option(help: "Run with this gid (defaults to the uid).")
    var gid: UInt32?

    @Flag(help: "Echo each command before running it (for transcripts).")
    var echo = false

    func run() throws {
        let shell = Shell.overTmpfs(
            output: { print($0) },
            errors: { message in
                var line = message + "\n"
                line.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
            })
        if uid != 0 { shell.context.credentials = .user(uid, gid: gid ?? uid) }
        let interactive = isatty(0) != 0
        while true {
            if interactive {
                // The prompt has no newline; write it straight to fd 1 so it shows at once.
                var prompt = shell.prompt
                prompt.withUTF8 { _ = Glibc.write(1, $0.baseAddress, $0.count) }
            }
            guard let line = readLine() else { break }
            if echo { print(shell.prompt + line) }
            shell.run(line)
            if shell.wantsExit { break }
        }
        if shell.lastStatus != 0 { throw ExitCode(shell.lastStatus) }
    }
}

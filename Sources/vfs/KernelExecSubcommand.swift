import ArgumentParser
import DifferentialHarness

/// `vfs kernel-exec`: the differential harness's kernel side, run as its own process so it can
/// drop to another uid without touching the test process. Hidden: only the harness calls it.
struct KernelExecSubcommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: KernelExecCommand.name,
        abstract: "Serve the differential harness's kernel side (internal).",
        shouldDisplay: false)

    @Argument(parsing: .captureForPassthrough)
    var arguments: [String] = []

    func run() throws {
        let status = KernelExecCommand.run(arguments: arguments)
        if status != 0 { throw ExitCode(status) }
    }
}

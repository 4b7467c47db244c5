import ArgumentParser

/// The `vfs` tool: VFSKit from the command line.
@main
struct VFSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vfs",
        abstract: "VFSKit: gVisor's VFS2 file-system layer, in Swift.",
        subcommands: [ShellCommand.self, KernelExecSubcommand.self, ReplaySubcommand.self, GoferSubcommand.self, RunSubcommand.self])
}

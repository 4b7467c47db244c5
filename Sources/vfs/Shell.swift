import TmpfsBackend
import VFSCore

/// `vfs shell`'s interpreter: a tmpfs (or any) namespace, one process context, and the verbs a
/// learner tries first, with errors worded as coreutils words them. Output goes through the
/// two closures so tests and examples can capture it.
final class Shell {
    let vfs: VirtualFilesystem
    let context: FSContext
    let output: (String) -> Void
    let errors: (String) -> Void
    private(set) var lastStatus: Int32 = 0
    private(set) var wantsExit = false

    init(
        vfs: VirtualFilesystem, context: FSContext, output: @escaping (String) -> Void,
        errors: @escaping (String) -> Void
    ) {
        self.vfs = vfs
        self.context = context
        self.output = output
        self.errors = errors
    }

    /// A shell over a fresh tmpfs root (mode 0755, as a real root directory).
    static func overTmpfs(
        output: @escaping (String) -> Void, errors: @escaping (String) -> Void
    ) -> Shell {
        let vfs = VirtualFilesystem()
        let root = TmpfsFilesystem(options: TmpfsOptions(rootMode: 0o755))
        let namespace = vfs.makeNamespace(root: root, rootDentry: root.root)
        return Shell(
            vfs: vfs, context: FSContext(vfs: vfs, namespace: namespace), output: output,
            errors: errors)
    }

    var prompt: String {
        let cwd = (try? context.currentDirectoryPath()) ?? "?"
        return "vfs:\(cwd)\(context.credentials.uid == 0 ? "#" : "$") "
    }

    /// Runs one line; returns its exit status.
    @discardableResult
    func run(_ text: String) -> Int32 {
        let line: ShellLine
        do {
            line = try ShellLine.parse(text)
        } catch {
            errors("vfs: \(error)")
            lastStatus = 2
            return lastStatus
        }
        guard let verb = line.words.first else { return lastStatus }
        var printed: [String] = []
        let status = execute(verb, Array(line.words.dropFirst()), into: &printed)
        if let redirect = line.redirect {
            lastStatus = status == 0 ? writeRedirect(printed, to: redirect) : status
        } else {
            printed.forEach(output)
            lastStatus = status
        }
        return lastStatus
    }

    private func writeRedirect(_ lines: [String], to redirect: ShellLine.Redirect) -> Int32 {
        let text = lines.map { $0 + "\n" }.joined()
        do {
            var flags = OpenOptions.writeOnly | OpenOptions.create
            flags |= redirect.append ? OpenOptions.append : OpenOptions.truncate
            let file = try context.open(redirect.path, flags: flags, mode: 0o666)
            let bytes = Array(text.utf8)
            let outcome = bytes.withUnsafeBytes { buffer in
                Result { () throws(Errno) -> Int in
                    try file.write(from: buffer, credentials: context.credentials)
                }
            }
            _ = try outcome.get()
            return 0
        } catch {
            errors("vfs: \(redirect.path): \(error)")
            return 1
        }
    }

    private func execute(_ verb: String, _ arguments: [String], into out: inout [String]) -> Int32
    {
        switch verb {
        case "ls": return list(arguments, &out)
        case "cd": return changeDirectory(arguments)
        case "pwd": return printWorkingDirectory(&out)
        case "cat": return concatenate(arguments, &out)
        case "echo":
            out.append(arguments.joined(separator: " "))
            return 0
        case "mkdir": return makeDirectories(arguments)
        case "rmdir": return removeDirectories(arguments)
        case "rm": return remove(arguments)
        case "ln": return link(arguments)
        case "mv": return move(arguments)
        case "touch": return touch(arguments)
        case "stat": return statFiles(arguments, &out)
        case "chmod": return changeMode(arguments)
        case "chown": return changeOwner(arguments)
        case "mount": return mount(arguments, &out)
        case "umount": return unmount(arguments)
        case "su": return switchUser(arguments)
        case "id":
            let credentials = context.credentials
            out.append("uid=\(credentials.uid) gid=\(credentials.gid) groups=\(credentials.groups.map(String.init).joined(separator: ","))")
            return 0
        case "umask": return umask(arguments, &out)
        case "exit":
            wantsExit = true
            return arguments.first.flatMap { Int32($0) } ?? lastStatus
        case "help":
            out.append(Shell.help)
            return 0
        default:
            errors("vfs: \(verb): command not found")
            return 127
        }
    }

    static let help = """
        verbs: ls [-l] [-a] [PATH...], cd DIR, pwd, cat FILE..., echo WORDS [> FILE | >> FILE],
               mkdir [-p] DIR..., rmdir DIR..., rm [-r] PATH..., ln [-s] TARGET NAME, mv OLD NEW,
               touch FILE..., stat PATH..., chmod MODE PATH..., chown UID[:GID] PATH...,
               mount [-t tmpfs [-o OPTIONS] none DIR | --bind [-o ro] SOURCE DIR], umount [-l] DIR,
               su UID [GID], id, umask [MODE], exit [STATUS]
        """

    /// Splits leading `-xyz` flags from operands.
    func options(_ arguments: [String]) -> (flags: Set<Character>, operands: [String]) {
        var flags = Set<Character>()
        var operands: [String] = []
        var endOfOptions = false
        for argument in arguments {
            if !endOfOptions && argument == "--" {
                endOfOptions = true
            } else if !endOfOptions && argument.hasPrefix("-") && argument.count > 1
                && !argument.hasPrefix("--")
            {
                flags.formUnion(argument.dropFirst())
            } else {
                operands.append(argument)
            }
        }
        return (flags, operands)
    }

    func fail(_ message: String) -> Int32 {
        errors(message)
        return 1
    }
}

import TmpfsBackend
import VFSCore

/// The verbs, each worded like its coreutils namesake.
extension Shell {
    func list(_ arguments: [String], _ out: inout [String]) -> Int32 {
        let (flags, operands) = options(arguments)
        var status: Int32 = 0
        let targets = operands.isEmpty ? ["."] : operands
        for (index, target) in targets.enumerated() {
            let stat: FileStat
            do {
                stat = try context.stat(target, followSymlink: !flags.contains("l"))
            } catch {
                status = fail("ls: cannot access '\(target)': \(error)")
                continue
            }
            guard stat.mode.isDirectory else {
                out.append(flags.contains("l") ? longLine(target, stat, path: target) : target)
                continue
            }
            if targets.count > 1 {
                if index > 0 { out.append("") }
                out.append("\(target):")
            }
            do {
                var names = try context.listDirectory(target)
                if flags.contains("a") { names += [".", ".."] }
                names = names.filter { flags.contains("a") || !$0.hasPrefix(".") }
                names.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
                if flags.contains("l") {
                    var lines: [String] = []
                    var blocks: Int64 = 0
                    for name in names {
                        let path = target.hasSuffix("/") ? target + name : target + "/" + name
                        guard let entry = try? context.stat(path, followSymlink: false) else {
                            continue
                        }
                        blocks += entry.blocks / 2
                        lines.append(longLine(name, entry, path: path))
                    }
                    out.append("total \(blocks)")
                    out.append(contentsOf: lines)
                } else if !names.isEmpty {
                    out.append(names.joined(separator: "  "))
                }
            } catch {
                status = fail("ls: cannot open directory '\(target)': \(error)")
            }
        }
        return status
    }

    private func longLine(_ name: String, _ stat: FileStat, path: String) -> String {
        var line = "\(Listing.modeString(stat.mode)) \(stat.nlink) \(stat.uid) \(stat.gid) "
        if stat.mode.type == .characterDevice || stat.mode.type == .blockDevice {
            line += "\(Listing.major(stat.rdev)), \(Listing.minor(stat.rdev)) "
        } else {
            line += "\(stat.size) "
        }
        line += "\(Listing.date(stat.modificationTime)) \(name)"
        if stat.mode.isSymlink, let target = try? context.readSymlink(path) {
            line += " -> \(target)"
        }
        return line
    }

    func changeDirectory(_ arguments: [String]) -> Int32 {
        let target = arguments.first ?? "/"
        do {
            try context.changeDirectory(target)
            return 0
        } catch {
            return fail("cd: \(target): \(error)")
        }
    }

    func printWorkingDirectory(_ out: inout [String]) -> Int32 {
        do {
            out.append(try context.currentDirectoryPath())
            return 0
        } catch {
            return fail("pwd: error retrieving current directory: getcwd: cannot access parent directories: \(error)")
        }
    }

    func concatenate(_ arguments: [String], _ out: inout [String]) -> Int32 {
        var status: Int32 = 0
        for path in arguments {
            do {
                var text = String(decoding: try context.readFile(path), as: UTF8.self)
                if text.hasSuffix("\n") { text.removeLast() }
                out.append(text)
            } catch {
                status = fail("cat: \(path): \(error)")
            }
        }
        return status
    }

    func makeDirectories(_ arguments: [String]) -> Int32 {
        let (flags, operands) = options(arguments)
        var status: Int32 = 0
        for path in operands {
            if flags.contains("p") {
                var prefix = path.hasPrefix("/") ? "/" : ""
                for component in path.split(separator: "/") {
                    prefix += component
                    do {
                        try context.makeDirectory(prefix)
                    } catch .fileExists {
                    } catch {
                        status = fail("mkdir: cannot create directory '\(prefix)': \(error)")
                        break
                    }
                    prefix += "/"
                }
            } else {
                do {
                    try context.makeDirectory(path)
                } catch {
                    status = fail("mkdir: cannot create directory '\(path)': \(error)")
                }
            }
        }
        return status
    }

    func removeDirectories(_ arguments: [String]) -> Int32 {
        var status: Int32 = 0
        for path in arguments {
            do {
                try context.removeDirectory(path)
            } catch {
                status = fail("rmdir: failed to remove '\(path)': \(error)")
            }
        }
        return status
    }

    func remove(_ arguments: [String]) -> Int32 {
        let (flags, operands) = options(arguments)
        let recursive = flags.contains("r") || flags.contains("R")
        var status: Int32 = 0
        for path in operands {
            do {
                try removeTree(path, recursive: recursive)
            } catch {
                if flags.contains("f") && error == .noSuchFileOrDirectory { continue }
                status = fail("rm: cannot remove '\(path)': \(error)")
            }
        }
        return status
    }

    private func removeTree(_ path: String, recursive: Bool) throws(Errno) {
        let stat = try context.stat(path, followSymlink: false)
        guard stat.mode.isDirectory else {
            try context.unlink(path)
            return
        }
        guard recursive else { throw .isDirectory }
        for name in try context.listDirectory(path) {
            try removeTree(path + "/" + name, recursive: true)
        }
        try context.removeDirectory(path)
    }

    func link(_ arguments: [String]) -> Int32 {
        let (flags, operands) = options(arguments)
        guard operands.count == 2 else { return fail("ln: expected TARGET and LINK_NAME") }
        let (target, name) = (operands[0], operands[1])
        do {
            if flags.contains("s") {
                try context.makeSymlink(target: target, at: name)
            } else {
                try context.makeLink(existing: target, new: name)
            }
            return 0
        } catch {
            if flags.contains("s") {
                return fail("ln: failed to create symbolic link '\(name)': \(error)")
            }
            return fail("ln: failed to create hard link '\(name)' => '\(target)': \(error)")
        }
    }

    func move(_ arguments: [String]) -> Int32 {
        guard arguments.count == 2 else { return fail("mv: expected SOURCE and DEST") }
        let (source, destination) = (arguments[0], arguments[1])
        do {
            _ = try context.stat(source, followSymlink: false)
        } catch {
            return fail("mv: cannot stat '\(source)': \(error)")
        }
        var target = destination
        if let stat = try? context.stat(destination), stat.mode.isDirectory,
            let base = source.split(separator: "/").last
        {
            target = destination + "/" + base
        }
        do {
            try context.rename(source, to: target)
            return 0
        } catch {
            return fail("mv: cannot move '\(source)' to '\(target)': \(error)")
        }
    }

    func touch(_ arguments: [String]) -> Int32 {
        var status: Int32 = 0
        for path in arguments {
            do {
                _ = try context.open(path, flags: OpenOptions.writeOnly | OpenOptions.create)
                try context.setTimes(path, access: .now, modification: .now)
            } catch {
                status = fail("touch: cannot touch '\(path)': \(error)")
            }
        }
        return status
    }

    func statFiles(_ arguments: [String], _ out: inout [String]) -> Int32 {
        var status: Int32 = 0
        for path in arguments {
            do {
                let stat = try context.stat(path, followSymlink: false)
                out.append(contentsOf: Listing.statLines(path, stat, readlink: {
                    try? self.context.readSymlink(path)
                }))
            } catch {
                status = fail("stat: cannot statx '\(path)': \(error)")
            }
        }
        return status
    }

    func changeMode(_ arguments: [String]) -> Int32 {
        guard arguments.count >= 2, let mode = UInt32(arguments[0], radix: 8), mode <= 0o7777
        else { return fail("chmod: invalid mode (use octal, e.g. 755)") }
        var status: Int32 = 0
        for path in arguments.dropFirst() {
            do {
                try context.changeMode(path, mode)
            } catch .noSuchFileOrDirectory {
                status = fail("chmod: cannot access '\(path)': No such file or directory")
            } catch {
                status = fail("chmod: changing permissions of '\(path)': \(error)")
            }
        }
        return status
    }

    func changeOwner(_ arguments: [String]) -> Int32 {
        guard arguments.count >= 2 else { return fail("chown: expected OWNER[:GROUP] PATH...") }
        let parts = arguments[0].split(separator: ":", omittingEmptySubsequences: false)
        let uid = parts.first.flatMap { UInt32($0) }
        let gid = parts.count > 1 ? UInt32(parts[1]) : nil
        if uid == nil && gid == nil { return fail("chown: invalid user: '\(arguments[0])'") }
        var status: Int32 = 0
        for path in arguments.dropFirst() {
            do {
                try context.changeOwner(path, uid: uid, gid: gid)
            } catch .noSuchFileOrDirectory {
                status = fail("chown: cannot access '\(path)': No such file or directory")
            } catch {
                status = fail("chown: changing ownership of '\(path)': \(error)")
            }
        }
        return status
    }

    func mount(_ arguments: [String], _ out: inout [String]) -> Int32 {
        if arguments.isEmpty {
            for mount in vfs.mounts(in: context.namespace) {
                let point = String(decoding: mount.mountPoint, as: UTF8.self)
                let mode = mount.flags.contains(.readOnly) ? "ro" : "rw"
                out.append("\(mount.filesystemType) on \(point) type \(mount.filesystemType) (\(mode))")
            }
            return 0
        }
        var type: String?
        var data = ""
        var bind = false
        var operands: [String] = []
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "-t": type = iterator.next()
            case "-o": data = iterator.next() ?? ""
            case "--bind": bind = true
            default: operands.append(argument)
            }
        }
        let options = data.split(separator: ",").map(String.init)
        let readOnly = options.contains("ro")
        guard let target = operands.last else { return fail("mount: no mount point specified") }
        do {
            if bind {
                guard operands.count == 2 else { return fail("mount: --bind needs SOURCE and DIR") }
                try context.bindMount(operands[0], at: target, readOnly: readOnly)
            } else {
                guard type == "tmpfs" else {
                    return fail("mount: \(target): unknown filesystem type '\(type ?? "")'.")
                }
                let tmpfsOptions = options.filter { $0 != "ro" && $0 != "rw" }.joined(separator: ",")
                let filesystem = TmpfsFilesystem(options: try TmpfsOptions(parsing: tmpfsOptions))
                try context.mount(
                    filesystem, root: filesystem.root, at: target,
                    flags: readOnly ? [.readOnly] : [])
            }
            return 0
        } catch {
            return fail("mount: \(target): \(error).")
        }
    }

    func unmount(_ arguments: [String]) -> Int32 {
        let (flags, operands) = options(arguments)
        guard let target = operands.first else { return fail("umount: bad usage") }
        do {
            try context.unmount(target, detach: flags.contains("l"))
            return 0
        } catch .resourceBusy {
            return fail("umount: \(target): target is busy.")
        } catch .invalidArgument {
            return fail("umount: \(target): not mounted.")
        } catch {
            return fail("umount: \(target): \(error).")
        }
    }

    func switchUser(_ arguments: [String]) -> Int32 {
        guard let uid = arguments.first.flatMap({ UInt32($0) }) else {
            return fail("su: usage: su UID [GID]")
        }
        let gid = arguments.dropFirst().first.flatMap { UInt32($0) } ?? uid
        context.credentials = uid == 0 ? .root : .user(uid, gid: gid)
        return 0
    }

    func umask(_ arguments: [String], _ out: inout [String]) -> Int32 {
        guard let text = arguments.first else {
            let mask = String(context.umask, radix: 8)
            out.append(String(repeating: "0", count: max(0, 4 - mask.count)) + mask)
            return 0
        }
        guard let mask = UInt32(text, radix: 8), mask <= 0o777 else {
            return fail("umask: \(text): octal number out of range")
        }
        context.umask = mask
        return 0
    }
}

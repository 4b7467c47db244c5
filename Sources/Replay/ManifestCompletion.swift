/// Filling gaps in a manifest from the recording itself.
///
/// Recorded manifests can list a symlink without what it points to (the shipped py_imports
/// manifest has `/etc/localtime -> /usr/share/zoneinfo/Etc/UTC` and
/// `libz.so.1 -> libz.so.1.2.13` but neither target), although the trace shows the program
/// opening or stat-ing through the link successfully. Replaying against such a tree would
/// report divergences that are the manifest's, not the file system's. `completed(with:)`
/// adds, for every dangling manifest symlink that the trace reaches successfully (open or
/// stat following links, before any call creates it), the file or directory it must have
/// pointed to, with the mode and size the trace shows (the `st_mode`/`st_size` of a stat of
/// the path, or of an fstat of the descriptor the open returned). The additions are listed so
/// reports can say what was inferred.
extension Manifest {
    public func completed(with records: [StraceRecord]) -> (manifest: Manifest, inferred: [String]) {
        var tree = ManifestTree(self)
        var inferred: [String] = []
        var created: Set<String> = []
        var calls: [StraceCall] = []
        for record in records { if case .call(let call) = record { calls.append(call) } }
        for (index, call) in calls.enumerated() {
            guard case .value(let result) = call.result, result >= 0 else { continue }
            var pathIndex: Int
            var follows = true
            var observed: (mode: Int64?, size: Int64?) = (nil, nil)
            switch call.name {
            case "openat":
                pathIndex = 1
                if case .int(let dirfd)? = call.arguments.first, dirfd != -100 { continue }
                if case .flags(let parts)? = call.arguments.first, parts != ["AT_FDCWD"] { continue }
            case "open": pathIndex = 0
            case "stat": pathIndex = 0
            case "newfstatat":
                pathIndex = 1
                if case .flags(let parts)? = call.arguments.first, parts != ["AT_FDCWD"] { continue }
                if case .int? = call.arguments.first { continue }
            default: continue
            }
            guard pathIndex < call.arguments.count, case .string(let bytes, false) = call.arguments[pathIndex] else {
                continue
            }
            var path = String(decoding: bytes, as: UTF8.self)
            if !path.hasPrefix("/") { path = cwd + "/" + path }
            let flagsIndex = call.name == "openat" ? 2 : (call.name == "newfstatat" ? 3 : 1)
            let flags = flagsIndex < call.arguments.count ? (StraceConstants.value(of: call.arguments[flagsIndex]) ?? 0) : 0
            if call.name.hasPrefix("open") {
                if flags & 0o100 != 0 {  // O_CREAT: the trace may create it
                    if let resolved = tree.resolve(path, followFinal: true) { created.insert(resolved.path) }
                    continue
                }
                if flags & 0o400000 != 0 { follows = false }  // O_NOFOLLOW
                // The size and mode from an fstat of the new descriptor by the same process.
                for later in calls[(index + 1)..<min(calls.count, index + 8)] where later.pid == call.pid {
                    let isFstat = later.name == "fstat"
                        || (later.name == "newfstatat" && later.arguments.count > 2
                            && later.arguments[1] == .string([], truncated: false))
                    if isFstat, case .int(let fd)? = later.arguments.first, fd == result,
                        case .structure(let text) = later.arguments[later.name == "fstat" ? 1 : 2]
                    {
                        observed = (StraceConstants.field("st_mode", in: text), StraceConstants.field("st_size", in: text))
                        break
                    }
                }
                if observed.mode == nil, flags & 0o200000 != 0 { observed.mode = 0o40755 }
            } else {
                if call.name == "newfstatat" && flags & 0x100 != 0 { follows = false }
                if case .structure(let text) = call.arguments[pathIndex + 1] {
                    observed = (StraceConstants.field("st_mode", in: text), StraceConstants.field("st_size", in: text))
                }
            }
            guard follows, let resolved = tree.resolve(path, followFinal: true), resolved.viaSymlink,
                !resolved.exists, !created.contains(resolved.path)
            else { continue }
            let mode = UInt32(truncatingIfNeeded: observed.mode ?? 0o100644)
            let isDirectory = mode & 0o170000 == 0o40000
            let entry = Entry(path: resolved.path, type: isDirectory ? "dir" : "file", mode: mode & 0o7777,
                size: isDirectory ? 4096 : (observed.size ?? 0))
            tree.add(entry)
            inferred.append(resolved.path)
        }
        var result = self
        result.entries = tree.entries
        return (result, inferred)
    }
}

/// The manifest as a path map, with a resolver that follows its symlinks.
struct ManifestTree {
    var byPath: [String: Manifest.Entry] = [:]
    var entries: [Manifest.Entry]

    init(_ manifest: Manifest) {
        entries = manifest.entries
        for entry in manifest.entries { byPath[entry.path] = entry }
        // Entries listed under a symlinked directory (`/lib/x86_64-linux-gnu/libc.so.6` with
        // `/lib -> usr/lib`) are also known under their resolved spelling, so a link to the
        // resolved path does not look dangling.
        for entry in manifest.entries {
            if let resolved = resolve(entry.path, followFinal: false), resolved.path != entry.path,
                byPath[resolved.path] == nil
            {
                byPath[resolved.path] = entry
            }
        }
    }

    mutating func add(_ entry: Manifest.Entry) {
        // Missing parents become directories.
        var prefix = ""
        for component in entry.path.split(separator: "/").dropLast() {
            prefix += "/" + component
            if byPath[prefix] == nil {
                let parent = Manifest.Entry(path: prefix, type: "dir", mode: 0o755, size: 4096)
                byPath[prefix] = parent
                entries.append(parent)
            }
        }
        byPath[entry.path] = entry
        entries.append(entry)
    }

    /// Lexical resolution through the manifest's symlinks. `exists` tells whether the final
    /// path is in the manifest (a path below a missing directory does not exist either); nil
    /// when an intermediate component is not a directory, or after 40 links.
    func resolve(_ path: String, followFinal: Bool) -> (path: String, exists: Bool, viaSymlink: Bool)? {
        var pending = path.split(separator: "/").map(String.init)
        var current: [String] = []
        var hops = 0
        var viaSymlink = false
        while !pending.isEmpty {
            let component = pending.removeFirst()
            if component == "." || component.isEmpty { continue }
            if component == ".." {
                if !current.isEmpty { current.removeLast() }
                continue
            }
            let candidate = "/" + (current + [component]).joined(separator: "/")
            let isLast = pending.isEmpty
            guard let entry = byPath[candidate] else {
                // Not in the manifest: the rest is taken as plain directories and a file.
                let rest = pending.filter { $0 != "." && !$0.isEmpty }
                guard !rest.contains("..") else { return nil }
                return ([candidate] + rest).joined(separator: "/").isEmpty ? nil
                    : (([candidate] + rest).joined(separator: "/"), false, viaSymlink)
            }
            if entry.type == "symlink", !isLast || followFinal {
                hops += 1
                guard hops <= 40, let target = entry.target else { return nil }
                viaSymlink = true
                if target.hasPrefix("/") { current = [] }
                pending = target.split(separator: "/").map(String.init) + pending
                continue
            }
            if !isLast && entry.type != "dir" { return nil }
            current.append(component)
        }
        return ("/" + current.joined(separator: "/"), true, viaSymlink)
    }
}

/// A `--mount` argument of `vfs run`: which backend serves which path of the sandboxed program.
///
/// Grammar (one spec per `--mount`):
/// - `tmpfs:/PATH[:OPTIONS]` — an empty in-memory file system; OPTIONS is tmpfs's mount data
///   (`size=1m,nr_inodes=100,mode=0755,uid=0,gid=0`).
/// - `host:/PATH=/HOSTDIR[:ro]` — a host directory served by HostBackend, read-only with `:ro`.
/// - `gofer:/PATH=/HOSTDIR[:shared|:exclusive|:writethrough][:ro]` — a host directory served by
///   a separate, confined gofer process over LISAFS (`GoferProcesses`); caching mode `exclusive`
///   by default; `:ro` makes the gofer refuse every change (EROFS) and the mount read-only.
///
/// PATH is absolute, not `/`, and is normalized (repeated slashes and a trailing slash dropped);
/// `.` and `..` components are refused, as is a NUL byte. Paths outside every mount pass
/// through to the host.
public struct MountSpec: Equatable, Sendable, CustomStringConvertible {
    public enum GoferCaching: String, Equatable, Sendable {
        case exclusive, writethrough, shared
    }

    public enum Kind: Equatable, Sendable {
        case tmpfs(options: String)
        case host(source: String, readOnly: Bool)
        case gofer(source: String, caching: GoferCaching, readOnly: Bool = false)
    }

    /// The normalized absolute mount point, e.g. "/sandbox".
    public var target: String
    public var kind: Kind

    public init(target: String, kind: Kind) {
        self.target = target
        self.kind = kind
    }

    public init(parsing text: String) throws(MountSpecError) {
        guard let colon = text.firstIndex(of: ":") else {
            throw MountSpecError(spec: text, reason: "expected KIND:/PATH (tmpfs, host or gofer)")
        }
        let kindName = String(text[..<colon])
        let rest = String(text[text.index(after: colon)...])
        switch kindName {
        case "tmpfs":
            // The path ends at the first ':' (options follow); mount points containing ':' are
            // not expressible, as with fstab-style specs.
            let parts = rest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let target = try Self.normalizedTarget(String(parts[0]), spec: text)
            let options = parts.count > 1 ? String(parts[1]) : ""
            self.init(target: target, kind: .tmpfs(options: options))
        case "host", "gofer":
            guard let equals = rest.firstIndex(of: "=") else {
                throw MountSpecError(spec: text, reason: "expected \(kindName):/PATH=/HOSTDIR")
            }
            let target = try Self.normalizedTarget(String(rest[..<equals]), spec: text)
            let sourceAndFlags = rest[rest.index(after: equals)...]
                .split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            let source = sourceAndFlags[0]
            guard source.hasPrefix("/"), !source.utf8.contains(0) else {
                throw MountSpecError(spec: text, reason: "the host directory must be an absolute path")
            }
            let flags = sourceAndFlags.dropFirst()
            if kindName == "host" {
                guard flags.count <= 1 else {
                    throw MountSpecError(spec: text, reason: "at most one flag after the host directory")
                }
                switch flags.first {
                case nil: self.init(target: target, kind: .host(source: source, readOnly: false))
                case "ro": self.init(target: target, kind: .host(source: source, readOnly: true))
                case "rw": self.init(target: target, kind: .host(source: source, readOnly: false))
                case let other?:
                    throw MountSpecError(spec: text, reason: "unknown host flag '\(other)' (ro or rw)")
                }
            } else {
                // At most a caching mode and `ro`, each once, in either order.
                var caching: GoferCaching?
                var readOnly: Bool?
                for flag in flags {
                    if flag == "ro" || flag == "rw", readOnly == nil {
                        readOnly = flag == "ro"
                    } else if let mode = GoferCaching(rawValue: flag), caching == nil {
                        caching = mode
                    } else {
                        throw MountSpecError(
                            spec: text,
                            reason: "unknown or repeated gofer flag '\(flag)' "
                                + "(exclusive, writethrough or shared, then ro or rw)")
                    }
                }
                self.init(
                    target: target,
                    kind: .gofer(source: source, caching: caching ?? .exclusive, readOnly: readOnly ?? false))
            }
        default:
            throw MountSpecError(
                spec: text, reason: "unknown mount kind '\(kindName)' (tmpfs, host or gofer)")
        }
    }

    /// "/a//b/" → "/a/b"; refuses relative paths, "/", "." and ".." components and NUL.
    static func normalizedTarget(_ path: String, spec: String) throws(MountSpecError) -> String {
        guard path.hasPrefix("/") else {
            throw MountSpecError(spec: spec, reason: "the mount point must be an absolute path")
        }
        guard !path.utf8.contains(0) else {
            throw MountSpecError(spec: spec, reason: "the mount point contains a NUL byte")
        }
        let components = path.split(separator: "/")
        guard !components.isEmpty else {
            throw MountSpecError(spec: spec, reason: "cannot mount over / (mount a subdirectory)")
        }
        guard !components.contains(where: { $0 == "." || $0 == ".." }) else {
            throw MountSpecError(spec: spec, reason: "the mount point must not contain . or ..")
        }
        return "/" + components.joined(separator: "/")
    }

    public var description: String {
        switch kind {
        case .tmpfs(let options): options.isEmpty ? "tmpfs:\(target)" : "tmpfs:\(target):\(options)"
        case .host(let source, let readOnly): "host:\(target)=\(source)\(readOnly ? ":ro" : "")"
        case .gofer(let source, let caching, let readOnly):
            "gofer:\(target)=\(source):\(caching.rawValue)\(readOnly ? ":ro" : "")"
        }
    }

    /// Checks a whole `--mount` list: no mount point given twice.
    public static func validate(_ specs: [MountSpec]) throws(MountSpecError) {
        var seen: Set<String> = []
        for spec in specs where !seen.insert(spec.target).inserted {
            throw MountSpecError(spec: spec.description, reason: "\(spec.target) is mounted twice")
        }
    }
}

public struct MountSpecError: Error, Equatable, CustomStringConvertible {
    public var spec: String
    public var reason: String
    public var description: String { "invalid --mount '\(spec)': \(reason)" }
}

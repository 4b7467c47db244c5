import Foundation

/// The starting tree of a workload: `{"cwd", "command", "entries": [{"path", "type", "mode",
/// "size", "target"?}]}` (see ../shared/workloads/README.md). File contents are not recorded;
/// a replay fills files with bytes of the recorded size.
public struct Manifest: Sendable, Codable {
    public struct Entry: Sendable, Codable {
        public var path: String
        /// "file", "dir", "symlink" or "other".
        public var type: String
        public var mode: UInt32
        public var size: Int64
        public var target: String?

        public init(path: String, type: String, mode: UInt32, size: Int64, target: String? = nil) {
            self.path = path
            self.type = type
            self.mode = mode
            self.size = size
            self.target = target
        }
    }

    public var cwd: String
    public var command: [String]?
    public var entries: [Entry]

    public init(cwd: String, command: [String]? = nil, entries: [Entry]) {
        self.cwd = cwd
        self.command = command
        self.entries = entries
    }

    public static func load(contentsOf url: URL) throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: url))
    }

    public static func decode(_ data: Data) throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: data)
    }
}

public struct ReplaySetupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension ReplayTarget {
    /// Builds the manifest's tree through the target's own calls: directories (with missing
    /// parents), files filled with `size` bytes, symlinks; then the recorded modes (after all
    /// creation, so a read-only directory still receives its entries). Entries whose parent
    /// does not exist yet — for example a directory under a symlink to a directory created
    /// later — are retried until no more progress is made. Ends with the cwd set to the
    /// manifest's.
    public func build(_ manifest: Manifest, filler: UnsafeRawBufferPointer) throws {
        var pending = manifest.entries.filter { $0.path != "/" }
        var modes: [(path: String, mode: UInt32)] = []
        var createdParents = false
        while !pending.isEmpty {
            var next: [Manifest.Entry] = []
            for entry in pending {
                let result = try create(entry, filler: filler)
                if result == -2 {  // ENOENT: a parent is missing (for now)
                    next.append(entry)
                } else if result < 0 && result != -17 {  // EEXIST is fine: already made as a parent
                    throw ReplaySetupError("\(name): creating \(entry.path): errno \(-result)")
                } else if entry.type != "symlink" {
                    modes.append((entry.path, entry.mode & 0o7777))
                }
            }
            if next.count == pending.count {
                // No progress: the tree misses directories the manifest does not list.
                guard !createdParents else {
                    throw ReplaySetupError("\(name): cannot create \(next[0].path)")
                }
                createdParents = true
                for entry in next {
                    var prefix = ""
                    for component in entry.path.split(separator: "/").dropLast() {
                        prefix += "/" + component
                        _ = mkdirat(-100, Array(prefix.utf8), 0o755)
                    }
                }
            }
            pending = next
        }
        // Deepest first, so a directory's mode never blocks reaching its children.
        for (path, mode) in modes.sorted(by: { $0.path.count > $1.path.count }) {
            _ = fchmodat(-100, Array(path.utf8), mode)
        }
        let result = chdir(Array(manifest.cwd.utf8))
        if result < 0 { throw ReplaySetupError("\(name): chdir \(manifest.cwd): errno \(-result)") }
    }

    private func create(_ entry: Manifest.Entry, filler: UnsafeRawBufferPointer) throws -> Int {
        let path = Array(entry.path.utf8)
        switch entry.type {
        case "dir":
            return mkdirat(-100, path, 0o755)
        case "symlink":
            return symlinkat(Array((entry.target ?? "").utf8), -100, path)
        default:
            // "file" and "other" (a device or socket: recorded here as a regular file).
            let fd = openat(-100, path, 0o1101 /* O_WRONLY|O_CREAT|O_TRUNC */, 0o644)
            guard fd >= 0 else { return fd }
            var left = Int(entry.size)
            while left > 0 {
                let chunk = min(left, filler.count)
                let written = write(Int32(fd), UnsafeRawBufferPointer(rebasing: filler[..<chunk]))
                guard written > 0 else {
                    throw ReplaySetupError("\(name): writing \(entry.path): errno \(-written)")
                }
                left -= written
            }
            _ = close(Int32(fd))
            return 0
        }
    }
}

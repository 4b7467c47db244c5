/// Detecting changes that something outside the trace made to files during the recording.
///
/// A workload is recorded on a live machine: other processes may rewrite a file while it
/// runs. The shipped lua_build log shows it: `/etc/ld.so.cache` is 38427 bytes in its manifest
/// and in its first twelve fstats, then 38559 bytes from line 7852 on, although no traced
/// process writes it (ldconfig ran outside the trace). A replay that kept the first size would
/// report those stats as divergences of the file system under test. So before replaying, the
/// log is scanned for regular files that the trace never writes, renames or removes and whose
/// recorded size changes between observations (the manifest's size, then each successful stat
/// of the path or fstat of a descriptor opened on it); each change becomes a `truncate` to the
/// new size applied, untimed and uncounted, just before the first record that observes it.
public struct ExternalChange: Sendable, Codable, Equatable {
    /// Index into the records array before which the change applies.
    public var recordIndex: Int
    public var line: Int
    public var path: String
    public var size: Int64
}

extension Manifest {
    public func externalChanges(in records: [StraceRecord]) -> [ExternalChange] {
        var written: Set<String> = []
        var observations: [String: [(index: Int, line: Int, size: Int64)]] = [:]
        var open: [Int32: [Int64: String]] = [:]
        func absolute(_ argument: StraceValue?) -> String? {
            guard case .string(let bytes, false)? = argument else { return nil }
            let path = String(decoding: bytes, as: UTF8.self)
            return path.hasPrefix("/") ? path : cwd + "/" + path
        }
        func size(_ argument: StraceValue?) -> Int64? {
            guard case .structure(let text)? = argument,
                let mode = StraceConstants.field("st_mode", in: text), mode & 0o170000 == 0o100000
            else { return nil }
            return StraceConstants.field("st_size", in: text)
        }
        for (index, record) in records.enumerated() {
            guard case .call(let call) = record, case .value(let result) = call.result, result >= 0 else { continue }
            let arguments = call.arguments
            switch call.name {
            case "openat", "open":
                let atForm = call.name == "openat"
                if atForm, StraceConstants.value(of: arguments.first ?? .null) != -100 { continue }
                guard let path = absolute(arguments.count > (atForm ? 1 : 0) ? arguments[atForm ? 1 : 0] : nil) else { continue }
                let flags = arguments.count > (atForm ? 2 : 1) ? (StraceConstants.value(of: arguments[atForm ? 2 : 1]) ?? 0) : 0
                if flags & 3 != 0 || flags & 0o1100 != 0 { written.insert(path) }
                open[call.pid, default: [:]][result] = path
            case "close":
                if case .int(let fd)? = arguments.first { open[call.pid]?[fd] = nil }
            case "newfstatat", "fstat", "stat":
                var path: String?
                var structure: StraceValue?
                if call.name == "fstat" || (call.name == "newfstatat" && arguments.count > 2
                    && arguments[1] == .string([], truncated: false))
                {
                    if case .int(let fd)? = arguments.first { path = open[call.pid]?[fd] }
                    structure = arguments.count > (call.name == "fstat" ? 1 : 2) ? arguments[call.name == "fstat" ? 1 : 2] : nil
                } else if call.name == "stat" {
                    path = absolute(arguments.first)
                    structure = arguments.count > 1 ? arguments[1] : nil
                } else if StraceConstants.value(of: arguments.first ?? .null) == -100, arguments.count > 3,
                    (StraceConstants.value(of: arguments[3]) ?? 0) & 0x100 == 0
                {
                    path = absolute(arguments[1])
                    structure = arguments[2]
                }
                if let path, let value = size(structure) {
                    observations[path, default: []].append((index, call.line, value))
                }
            case "unlink", "rename", "truncate", "creat", "link", "symlink", "mkdir", "rmdir", "chmod", "utimensat":
                if let path = absolute(arguments.first) { written.insert(path) }
                if call.name == "rename", let path = absolute(arguments.count > 1 ? arguments[1] : nil) { written.insert(path) }
            case "unlinkat", "renameat", "renameat2", "linkat":
                for argument in arguments { if let path = absolute(argument), case .string = argument { written.insert(path) } }
            default:
                continue
            }
        }
        var sizes: [String: Int64] = [:]
        for entry in entries where entry.type == "file" { sizes[entry.path] = entry.size }
        var changes: [ExternalChange] = []
        for (path, seen) in observations where !written.contains(path) {
            guard var current = sizes[path] else { continue }
            for observation in seen where observation.size != current {
                changes.append(ExternalChange(recordIndex: observation.index, line: observation.line, path: path,
                    size: observation.size))
                current = observation.size
            }
        }
        return changes.sorted { $0.recordIndex < $1.recordIndex }
    }
}

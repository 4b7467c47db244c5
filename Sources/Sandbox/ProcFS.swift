import Glibc

/// The few /proc lookups the supervisor needs about the sandboxed processes.
enum ProcFS {
    /// readlink(2) of `path`, or nil.
    static func readLink(_ path: String) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 4097)
        let count = buffer.withUnsafeMutableBufferPointer { pointer in
            pointer.baseAddress.map { base in
                base.withMemoryRebound(to: CChar.self, capacity: pointer.count) {
                    Glibc.readlink(path, $0, pointer.count)
                }
            } ?? -1
        }
        guard count >= 0, count < buffer.count else { return nil }
        return Array(buffer[..<count])
    }

    /// The contents of a small /proc file, or nil.
    static func read(_ path: String) -> [UInt8]? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            result.append(contentsOf: chunk[..<count])
        }
        return result
    }

    /// Tgid and PPid from /proc/TID/status.
    static func identity(of tid: Int32) -> (tgid: Int32, parent: Int32)? {
        guard let bytes = read("/proc/\(tid)/status") else { return nil }
        var tgid: Int32?
        var parent: Int32?
        for line in bytes.split(separator: 0x0A) {
            let text = String(decoding: line, as: UTF8.self)
            if text.hasPrefix("Tgid:") {
                tgid = Int32(text.dropFirst(5).trimmingCharacters(in: " \t"))
            } else if text.hasPrefix("PPid:") {
                parent = Int32(text.dropFirst(5).trimmingCharacters(in: " \t"))
            }
        }
        guard let tgid, let parent else { return nil }
        return (tgid, parent)
    }

    /// The descriptors open in a process.
    static func openDescriptors(of pid: Int32) -> Set<Int32> {
        guard let dir = opendir("/proc/\(pid)/fd") else { return [] }
        defer { closedir(dir) }
        var result: Set<Int32> = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if let fd = Int32(name) { result.insert(fd) }
        }
        return result
    }

    /// Whether `fd` of a process is a placeholder (`name` is /proc's name for the placeholder,
    /// e.g. "pipe:[1234]"). `Supervisor.isStandIn` also counts files installed for mmap.
    static func isPlaceholder(pid: Int32, fd: Int32, name: [UInt8]) -> Bool {
        readLink("/proc/\(pid)/fd/\(fd)") == name
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        return String(self.drop(while: { characters.contains($0) }).reversed()
            .drop(while: { characters.contains($0) }).reversed())
    }
}

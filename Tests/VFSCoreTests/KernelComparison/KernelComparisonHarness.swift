import Glibc
import Testing
import TmpfsBackend
import VFSCore

/// A small differential harness: one list of path operations run against the Linux kernel
/// (Glibc calls in a fresh `mkdtemp` directory under /dev/shm, a real tmpfs) and against
/// VFSCore (a fresh tmpfs, the same relative paths under a directory made like mkdtemp's).
/// Every step's outcome (success and what it reports, or the exact errno) must agree, and so
/// must the final trees.
///
/// Paths in steps are relative to the scenario's base directory and must not climb out of
/// it; symlink targets are taken verbatim (keep them relative).
enum KernelComparisonStep: Sendable, CustomStringConvertible {
    case mkdir(String, mode: UInt32 = 0o755)
    /// open(O_CREAT | O_WRONLY) and close.
    case create(String, mode: UInt32 = 0o644)
    /// open with these flags (O_CREAT's mode 0644) and close.
    case open(String, flags: Int32)
    /// open(O_WRONLY | O_TRUNC), write the text, close.
    case write(String, String)
    case rename(String, String, flags: UInt32 = 0)
    case unlink(String)
    case rmdir(String)
    case symlink(target: String, at: String)
    /// linkat; `follow` is AT_SYMLINK_FOLLOW.
    case link(String, String, follow: Bool = false)
    case chmod(String, UInt32)
    case truncate(String, Int64)
    /// stat (`follow`) or lstat; the outcome is the type, mode, size and link count.
    case stat(String, follow: Bool = true)
    case readlink(String)

    var description: String {
        switch self {
        case .mkdir(let p, let mode): "mkdir(\(p), 0o\(String(mode, radix: 8)))"
        case .create(let p, let mode): "create(\(p), 0o\(String(mode, radix: 8)))"
        case .open(let p, let flags): "open(\(p), 0o\(String(flags, radix: 8)))"
        case .write(let p, let text): "write(\(p), \"\(text)\")"
        case .rename(let a, let b, let flags): "rename(\(a), \(b), flags: \(flags))"
        case .unlink(let p): "unlink(\(p))"
        case .rmdir(let p): "rmdir(\(p))"
        case .symlink(let target, let p): "symlink(\(target), \(p))"
        case .link(let a, let b, let follow): "link(\(a), \(b), follow: \(follow))"
        case .chmod(let p, let mode): "chmod(\(p), 0o\(String(mode, radix: 8)))"
        case .truncate(let p, let size): "truncate(\(p), \(size))"
        case .stat(let p, let follow): follow ? "stat(\(p))" : "lstat(\(p))"
        case .readlink(let p): "readlink(\(p))"
        }
    }
}

/// One named list of steps: a test argument.
struct KernelComparisonScenario: Sendable, CustomTestStringConvertible {
    let name: String
    let steps: [KernelComparisonStep]
    var testDescription: String { name }
}

/// What a step did: success with what it reported, or an errno.
enum KernelComparisonOutcome: Equatable, CustomStringConvertible {
    case success(String)
    case failure(Int32)

    var description: String {
        switch self {
        case .success(let detail): detail.isEmpty ? "ok" : "ok \(detail)"
        case .failure(let code): "errno \(code) (\(Errno(rawValue: code)))"
        }
    }
}

enum KernelComparison {
    /// The comparison needs /dev/shm to be a real tmpfs.
    static let devShmIsTmpfs: Bool = {
        guard let file = fopen("/proc/self/mounts", "r") else { return false }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0 {
            guard let line else { continue }
            let fields = String(cString: line).split(separator: " ")
            if fields.count > 2 && fields[1] == "/dev/shm" && fields[2] == "tmpfs" { return true }
        }
        return false
    }()

    /// The VFS side runs with root's credentials, so the kernel side must too.
    static let runsAsRoot = geteuid() == 0

    /// The process umask (read from /proc, since umask(2) can only read it by changing it),
    /// given to the VFS context so both sides create with the same modes.
    static let processUmask: UInt32 = {
        guard let file = fopen("/proc/self/status", "r") else { return 0o022 }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0 {
            guard let line else { continue }
            let text = String(cString: line)
            if text.hasPrefix("Umask:") {
                let digits = text.dropFirst(6).trimmingWhitespace()
                return UInt32(digits, radix: 8) ?? 0o022
            }
        }
        return 0o022
    }()

    static func statSummary(mode: UInt32, size: Int64, nlink: UInt64) -> String {
        "mode=0o\(String(mode, radix: 8)) size=\(size) nlink=\(nlink)"
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        String(self.drop(while: { $0 == " " || $0 == "\t" }).prefix(while: { $0 != "\n" && $0 != " " }))
    }
}

// MARK: - The kernel side

/// Runs steps with Glibc in a fresh directory under /dev/shm; removes it on `cleanUp`.
final class KernelComparisonLinuxSide {
    let base: String

    init() throws {
        var template = Array("/dev/shm/vfskit-compare.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ $0.baseAddress.flatMap { mkdtemp($0) } }) else {
            throw Errno(rawValue: errno)
        }
        base = String(cString: made)
    }

    func path(_ relative: String) -> String { base + "/" + relative }

    private static let renameat2: (@convention(c) (
        Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32
    ) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "renameat2") else { return nil }
        return unsafeBitCast(
            symbol,
            to: (@convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32)
                -> Int32).self)
    }()

    private func check(_ result: Int32, _ detail: String = "") -> KernelComparisonOutcome {
        result < 0 ? .failure(errno) : .success(detail)
    }

    func run(_ step: KernelComparisonStep) -> KernelComparisonOutcome {
        switch step {
        case .mkdir(let p, let mode):
            return check(Glibc.mkdir(path(p), mode_t(mode)))
        case .create(let p, let mode):
            return openAndClose(p, O_CREAT | O_WRONLY, mode)
        case .open(let p, let flags):
            return openAndClose(p, flags, 0o644)
        case .write(let p, let text):
            let fd = Glibc.open(path(p), O_WRONLY | O_TRUNC)
            guard fd >= 0 else { return .failure(errno) }
            defer { close(fd) }
            let bytes = Array(text.utf8)
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            return written < 0 ? .failure(errno) : .success("\(written)")
        case .rename(let a, let b, let flags):
            if flags == 0 { return check(Glibc.rename(path(a), path(b))) }
            guard let renameat2 = Self.renameat2 else { return .failure(ENOSYS) }
            return check(renameat2(AT_FDCWD, path(a), AT_FDCWD, path(b), flags))
        case .unlink(let p):
            return check(Glibc.unlink(path(p)))
        case .rmdir(let p):
            return check(Glibc.rmdir(path(p)))
        case .symlink(let target, let p):
            return check(Glibc.symlink(target, path(p)))
        case .link(let a, let b, let follow):
            return check(linkat(AT_FDCWD, path(a), AT_FDCWD, path(b), follow ? AT_SYMLINK_FOLLOW : 0))
        case .chmod(let p, let mode):
            return check(Glibc.chmod(path(p), mode_t(mode)))
        case .truncate(let p, let size):
            return check(Glibc.truncate(path(p), off_t(size)))
        case .stat(let p, let follow):
            var info = Glibc.stat()
            let result = follow ? stat(path(p), &info) : lstat(path(p), &info)
            return check(
                result,
                KernelComparison.statSummary(
                    mode: info.st_mode, size: Int64(info.st_size), nlink: UInt64(info.st_nlink)))
        case .readlink(let p):
            guard let target = readLink(path(p)) else { return .failure(errno) }
            return .success(target)
        }
    }

    private func openAndClose(_ p: String, _ flags: Int32, _ mode: UInt32) -> KernelComparisonOutcome {
        let fd = Glibc.open(path(p), flags, mode_t(mode))
        guard fd >= 0 else { return .failure(errno) }
        close(fd)
        return .success("")
    }

    private func readLink(_ absolute: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 8192)
        let count = readlink(absolute, &buffer, buffer.count)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Every file under the base directory, and the base itself as ".".
    func snapshot() -> [String] {
        var lines: [String] = []
        walk(relative: ".", into: &lines)
        return lines.sorted()
    }

    private func walk(relative: String, into lines: inout [String]) {
        let absolute = relative == "." ? base : path(relative)
        var info = Glibc.stat()
        guard lstat(absolute, &info) == 0 else {
            lines.append("\(relative) lstat failed errno \(errno)")
            return
        }
        let mode = info.st_mode
        var line = "\(relative) \(KernelComparison.statSummary(mode: mode, size: Int64(info.st_size), nlink: UInt64(info.st_nlink))) uid=\(info.st_uid) gid=\(info.st_gid)"
        switch mode & S_IFMT {
        case S_IFLNK:
            line += " -> \(readLink(absolute) ?? "?")"
            lines.append(line)
        case S_IFREG:
            line += " data=\(readFile(absolute))"
            lines.append(line)
        case S_IFDIR:
            lines.append(line)
            for name in list(absolute) {
                walk(relative: relative == "." ? name : relative + "/" + name, into: &lines)
            }
        default:
            lines.append(line)
        }
    }

    private func list(_ absolute: String) -> [String] {
        guard let directory = opendir(absolute) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    private func readFile(_ absolute: String) -> String {
        let fd = Glibc.open(absolute, O_RDONLY)
        guard fd >= 0 else { return "<errno \(errno)>" }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self).debugDescription
    }

    /// Removes the base directory and everything in it.
    func cleanUp() {
        remove(base)
    }

    private func remove(_ absolute: String) {
        var info = Glibc.stat()
        guard lstat(absolute, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            _ = Glibc.chmod(absolute, 0o700)
            for name in list(absolute) { remove(absolute + "/" + name) }
            _ = Glibc.rmdir(absolute)
        } else {
            _ = Glibc.unlink(absolute)
        }
    }
}

// MARK: - The VFS side

/// Runs the same steps on a fresh VFSCore tmpfs, under "/w" (made 0700 like mkdtemp's
/// directory), as root with the process's umask.
final class KernelComparisonVFSSide {
    let context: FSContext
    private let tmpfs: TmpfsFilesystem
    private let base = "/w"

    init() throws {
        let vfs = VirtualFilesystem()
        tmpfs = TmpfsFilesystem()
        let namespace = vfs.makeNamespace(root: tmpfs, rootDentry: tmpfs.root)
        context = FSContext(vfs: vfs, namespace: namespace, umask: KernelComparison.processUmask)
        try context.makeDirectory(base, mode: 0o700)
    }

    func path(_ relative: String) -> String { base + "/" + relative }

    func run(_ step: KernelComparisonStep) -> KernelComparisonOutcome {
        do throws(Errno) {
            return .success(try perform(step))
        } catch {
            return .failure(error.rawValue)
        }
    }

    private func perform(_ step: KernelComparisonStep) throws(Errno) -> String {
        switch step {
        case .mkdir(let p, let mode):
            try context.makeDirectory(path(p), mode: mode)
        case .create(let p, let mode):
            _ = try context.open(path(p), flags: OpenOptions.create | OpenOptions.writeOnly, mode: mode)
        case .open(let p, let flags):
            _ = try context.open(path(p), flags: flags, mode: 0o644)
        case .write(let p, let text):
            let file = try context.open(path(p), flags: OpenOptions.writeOnly | OpenOptions.truncate)
            let bytes = Array(text.utf8)
            let credentials = context.credentials
            let written = try bytes.withUnsafeBytes { buffer in
                Result { () throws(Errno) -> Int in try file.write(from: buffer, credentials: credentials) }
            }.get()
            return "\(written)"
        case .rename(let a, let b, let flags):
            try context.rename(path(a), to: path(b), flags: RenameFlags(rawValue: flags))
        case .unlink(let p):
            try context.unlink(path(p))
        case .rmdir(let p):
            try context.removeDirectory(path(p))
        case .symlink(let target, let p):
            try context.makeSymlink(target: target, at: path(p))
        case .link(let a, let b, let follow):
            try context.makeLink(existing: path(a), new: path(b), followSymlink: follow)
        case .chmod(let p, let mode):
            try context.changeMode(path(p), mode)
        case .truncate(let p, let size):
            try context.truncate(path(p), size: size)
        case .stat(let p, let follow):
            let info = try context.stat(path(p), followSymlink: follow)
            return KernelComparison.statSummary(
                mode: info.mode.rawValue, size: info.size, nlink: UInt64(info.nlink))
        case .readlink(let p):
            return try context.readSymlink(path(p))
        }
        return ""
    }

    func snapshot() -> [String] {
        var lines: [String] = []
        walk(relative: ".", into: &lines)
        return lines.sorted()
    }

    private func walk(relative: String, into lines: inout [String]) {
        let absolute = relative == "." ? base : path(relative)
        let info: FileStat
        do throws(Errno) {
            info = try context.stat(absolute, followSymlink: false)
        } catch {
            lines.append("\(relative) lstat failed errno \(error.rawValue)")
            return
        }
        var line = "\(relative) \(KernelComparison.statSummary(mode: info.mode.rawValue, size: info.size, nlink: UInt64(info.nlink))) uid=\(info.uid) gid=\(info.gid)"
        switch info.mode.type {
        case .symlink:
            line += " -> \((try? context.readSymlink(absolute)) ?? "?")"
            lines.append(line)
        case .regular:
            let data = (try? context.readFile(absolute)).map {
                String(decoding: $0, as: UTF8.self).debugDescription
            }
            line += " data=\(data ?? "<unreadable>")"
            lines.append(line)
        case .directory:
            lines.append(line)
            for name in (try? context.listDirectory(absolute)) ?? [] {
                walk(relative: relative == "." ? name : relative + "/" + name, into: &lines)
            }
        default:
            lines.append(line)
        }
    }
}

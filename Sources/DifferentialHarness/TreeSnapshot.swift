import Glibc
import Syscalls
import VFSCore

/// One file of a final tree, as root sees it: everything comparable about it. Times and inode
/// numbers are left out (not comparable); a hard-linked file appears under each of its names.
public struct TreeEntry: Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var mode: UInt32
    public var nlink: UInt64
    public var size: Int64
    public var uid: UInt32
    public var gid: UInt32
    public var blocks: Int64?
    /// A device node's st_rdev.
    public var rdev: UInt64?
    /// A symlink's target.
    public var target: [UInt8]?
    /// A regular file's contents.
    public var data: [UInt8]?
    /// Extended attributes, by name.
    public var xattrs: [String: [UInt8]]

    public init(
        path: String, mode: UInt32, nlink: UInt64, size: Int64, uid: UInt32, gid: UInt32,
        blocks: Int64?, target: [UInt8]? = nil, data: [UInt8]? = nil,
        xattrs: [String: [UInt8]] = [:], rdev: UInt64? = nil
    ) {
        self.path = path
        self.mode = mode
        self.nlink = nlink
        self.size = size
        self.uid = uid
        self.gid = gid
        self.blocks = blocks
        self.target = target
        self.data = data
        self.xattrs = xattrs
        self.rdev = rdev
    }

    public var description: String {
        var text =
            "\(path) \(FlagNames.fileMode(mode)) nlink=\(nlink) size=\(size) uid=\(uid) gid=\(gid)"
        if let blocks { text += " blocks=\(blocks)" }
        if let rdev { text += " rdev=0x\(String(rdev, radix: 16))" }
        if let target { text += " -> \(quoted(target))" }
        if let data { text += " data=\(quoted(data))" }
        for name in xattrs.keys.sorted() { text += " \(name)=\(quoted(xattrs[name] ?? []))" }
        return text
    }
}

/// The kernel's tree, walked by the test process (root) from outside the chroot, never
/// following a symlink.
public enum KernelTree {
    public static func snapshot(_ root: String) -> [String: TreeEntry] {
        var entries: [String: TreeEntry] = [:]
        walk(root, relative: ".", into: &entries)
        return entries
    }

    private static func walk(
        _ absolute: String, relative: String, into entries: inout [String: TreeEntry]
    ) {
        var info = Glibc.stat()
        guard lstat(absolute, &info) == 0 else { return }
        let type = info.st_mode & S_IFMT
        var entry = TreeEntry(
            path: relative, mode: info.st_mode, nlink: UInt64(info.st_nlink),
            size: Int64(info.st_size), uid: info.st_uid, gid: info.st_gid,
            blocks: type == S_IFREG ? Int64(info.st_blocks) : nil, xattrs: xattrs(absolute),
            rdev: type == S_IFCHR || type == S_IFBLK ? UInt64(info.st_rdev) : nil)
        switch type {
        case S_IFLNK:
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = absolute.withCString { path in
                buffer.withUnsafeMutableBytes {
                    sys(89, address(path), address($0.baseAddress), $0.count)
                }
            }
            entry.target = count >= 0 ? Array(buffer[..<count]) : nil
        case S_IFREG:
            entry.data = readAll(absolute)
        case S_IFDIR:
            for name in names(absolute) {
                walk(
                    absolute + "/" + name, relative: relative == "." ? name : relative + "/" + name,
                    into: &entries)
            }
        default:
            break
        }
        entries[relative] = entry
    }

    static func names(_ absolute: String) -> [String] {
        let fd = open(absolute, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var names: [String] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes {
                sys(217, Int(fd), address($0.baseAddress), $0.count)
            }
            if count <= 0 { break }
            names += KernelExecutor.parseDirents(buffer[..<count]).map(\.name)
        }
        return names.filter { $0 != "." && $0 != ".." }.sorted()
    }

    private static func readAll(_ absolute: String) -> [UInt8]? {
        let fd = open(absolute, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes += chunk[..<count]
        }
        return bytes
    }

    private static func xattrs(_ absolute: String) -> [String: [UInt8]] {
        var list = [UInt8](repeating: 0, count: 65536)
        let count = absolute.withCString { path in
            list.withUnsafeMutableBytes {
                sys(195, address(path), address($0.baseAddress), $0.count)
            }
        }
        guard count > 0 else { return [:] }
        var result: [String: [UInt8]] = [:]
        for name in KernelExecutor.splitNames(Array(list[..<count])) {
            var value = [UInt8](repeating: 0, count: 65536)
            let got = absolute.withCString { path in
                name.withCString { key in
                    value.withUnsafeMutableBytes {
                        sys(192, address(path), address(key), address($0.baseAddress), $0.count)
                    }
                }
            }
            if got >= 0 { result[name] = Array(value[..<got]) }
        }
        return result
    }

    /// Removes a scratch directory and everything in it, never following a symlink.
    public static func remove(_ absolute: String) {
        var info = Glibc.stat()
        guard lstat(absolute, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            for name in names(absolute) { remove(absolute + "/" + name) }
            _ = rmdir(absolute)
        } else {
            _ = unlink(absolute)
        }
    }
}

/// The VFS's tree under the task's root (`VFSExecutor.scratchPath`), walked as root through
/// its own `FSContext` on a fresh namespace over the root file system alone: the kernel
/// side's tree is walked after its child (and with it the child's mount namespace) is gone,
/// so neither side shows what was mounted on it.
public enum VFSTree {
    public static func snapshot(_ executor: VFSExecutor) -> [String: TreeEntry] {
        let namespace = executor.kernel.vfs.makeNamespace(
            root: executor.rootFilesystem, rootDentry: executor.rootDentry)
        let context = FSContext(vfs: executor.kernel.vfs, namespace: namespace)
        var entries: [String: TreeEntry] = [:]
        walk(context, absolute: VFSExecutor.scratchPath, relative: ".", into: &entries)
        return entries
    }

    private static func walk(
        _ context: FSContext, absolute: String, relative: String,
        into entries: inout [String: TreeEntry]
    ) {
        guard let info = try? context.stat(absolute, followSymlink: false) else { return }
        var entry = TreeEntry(
            path: relative, mode: info.mode.rawValue, nlink: UInt64(info.nlink), size: info.size,
            uid: info.uid, gid: info.gid, blocks: info.mode.isRegular ? info.blocks : nil,
            xattrs: xattrs(context, absolute),
            rdev: info.mode.type == .characterDevice || info.mode.type == .blockDevice
                ? info.rdev : nil)
        switch info.mode.type {
        case .symlink:
            entry.target = try? context.vfs.readSymlink(
                .root, context.operation(absolute, followFinalSymlink: false))
        case .regular:
            entry.data = try? context.readFile(absolute)
        case .directory:
            let names = ((try? context.listDirectory(absolute)) ?? [])
                .filter { $0 != "." && $0 != ".." }.sorted {
                    Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8))
                }
            for name in names {
                walk(
                    context, absolute: absolute == "/" ? "/" + name : absolute + "/" + name,
                    relative: relative == "." ? name : relative + "/" + name, into: &entries)
            }
        default:
            break
        }
        entries[relative] = entry
    }

    private static func xattrs(_ context: FSContext, _ absolute: String) -> [String: [UInt8]] {
        let operation = context.operation(absolute, followFinalSymlink: false)
        guard let names = try? context.vfs.listExtendedAttributes(.root, operation) else {
            return [:]
        }
        var result: [String: [UInt8]] = [:]
        for name in names {
            if let value = try? context.vfs.getExtendedAttribute(.root, operation, name: name) {
                result[String(decoding: name, as: UTF8.self)] = value
            }
        }
        return result
    }
}

import Foundation
import HostBackend
import HostSyscalls
import VFSCore

/// A fresh host directory under /dev/shm (a real tmpfs) with a VFS whose root is a
/// `HostFilesystem` over `<dir>/root`; `outside` is a sibling directory that must stay untouched
/// by anything done through the VFS. Removed when the value goes away.
final class HostSandbox: @unchecked Sendable {
    let base: String
    let rootPath: String
    let outsidePath: String
    let filesystem: HostFilesystem
    let vfs: VirtualFilesystem
    let namespace: MountNamespace
    let context: FSContext

    init(options: HostOptions = HostOptions(), mountFlags: MountFlags = []) throws {
        base = "/dev/shm/vfskit-host-\(getpid())-\(UUID().uuidString.prefix(8))"
        rootPath = base + "/root"
        outsidePath = base + "/outside"
        try FileManager.default.createDirectory(atPath: rootPath, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            atPath: outsidePath, withIntermediateDirectories: true)
        chmod(rootPath, 0o755)
        FileManager.default.createFile(
            atPath: outsidePath + "/secret", contents: Data("secret".utf8))
        filesystem = try HostFilesystem(rootPath: rootPath, options: options)
        vfs = VirtualFilesystem()
        namespace = vfs.makeNamespace(
            root: filesystem, rootDentry: filesystem.root, flags: mountFlags)
        context = FSContext(vfs: vfs, namespace: namespace)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: base)
    }

    /// Host-side helpers, acting on the real directory.
    func host(_ relative: String) -> String { rootPath + "/" + relative }

    func hostContents(_ relative: String) -> String? {
        guard let data = FileManager.default.contents(atPath: host(relative)) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    func hostStat(_ relative: String) throws -> HostStat {
        try HostSyscall.statx(
            HostSyscall.currentDirectory, Array(host(relative).utf8),
            flags: HostAtFlags.symlinkNoFollow)
    }

    /// The outside directory is as the sandbox found it: only `secret`, unchanged.
    var outsideIsUntouched: Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: outsidePath)) ?? []
        let secret = FileManager.default.contents(atPath: outsidePath + "/secret")
        return names == ["secret"] && secret == Data("secret".utf8)
    }
}

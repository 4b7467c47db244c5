import Synchronization
import TmpfsBackend
import Testing
import VFSCore

/// A VFS with one tmpfs at its root and a root-credentialed context on it, shared by the
/// VFSCore suites (path resolution, mounts, permissions, open). The root directory is made
/// 0755 so an unprivileged caller cannot create at the top by accident.
struct CoreTestWorld {
    let vfs: VirtualFilesystem
    let tmpfs: TmpfsFilesystem
    let namespace: MountNamespace
    let ctx: FSContext

    init(clock: (any FileClock)? = nil, protectedHardlinks: Bool = true) {
        vfs = VirtualFilesystem(protectedHardlinks: protectedHardlinks)
        if let clock {
            tmpfs = TmpfsFilesystem(options: TmpfsOptions(rootMode: 0o755), clock: clock)
        } else {
            tmpfs = TmpfsFilesystem(options: TmpfsOptions(rootMode: 0o755))
        }
        namespace = vfs.makeNamespace(root: tmpfs, rootDentry: tmpfs.root)
        ctx = FSContext(vfs: vfs, namespace: namespace)
    }

    /// The place `path` names, resolved as root.
    func place(_ path: String) throws(Errno) -> VirtualDentry {
        try vfs.getDentry(.root, ctx.operation(path))
    }

    /// An unprivileged caller: uid 1000, gid 1000, supplementary group 2000.
    static let user = Credentials.user(1000, gid: 1000, groups: [2000])

    /// `user` holding exactly `capabilities`.
    static func user(with capabilities: Capabilities) -> Credentials {
        Credentials(uid: 1000, gid: 1000, groups: [2000], capabilities: capabilities)
    }

    /// Reads up to `count` bytes at the description's offset.
    static func read(_ file: FileDescription, count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let got = try buffer.withUnsafeMutableBytes { bytes in
            try file.read(into: bytes)
        }
        return Array(buffer[0..<got])
    }

    /// pread.
    static func read(_ file: FileDescription, count: Int, at offset: Int64) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let got = try buffer.withUnsafeMutableBytes { bytes in
            try file.read(into: bytes, at: offset)
        }
        return Array(buffer[0..<got])
    }

    /// write at the description's offset.
    @discardableResult
    static func write(_ file: FileDescription, _ bytes: [UInt8], as credentials: Credentials = .root)
        throws -> Int
    {
        try bytes.withUnsafeBytes { buffer in
            try file.write(from: buffer, credentials: credentials)
        }
    }

    /// pwrite.
    @discardableResult
    static func write(
        _ file: FileDescription, _ bytes: [UInt8], at offset: Int64,
        as credentials: Credentials = .root
    ) throws -> Int {
        try bytes.withUnsafeBytes { buffer in
            try file.write(from: buffer, at: offset, credentials: credentials)
        }
    }
}

/// A clock the test moves by hand, for timestamp assertions without sleeping.
final class CoreTestClock: FileClock {
    private let current: Mutex<Timespec>

    init(seconds: Int64 = 1_000) {
        current = Mutex(Timespec(seconds: seconds, nanoseconds: 0))
    }

    func now() -> Timespec { current.withLock { $0 } }

    func advance(seconds: Int64) {
        current.withLock { $0.seconds += seconds }
    }
}

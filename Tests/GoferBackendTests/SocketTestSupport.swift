import GoferBackend
import GoferServer
import LISAFS
import SystemPackage
import VFSCore

#if canImport(Glibc)
    import Glibc
#endif

/// A GoferServer with chosen options serving a scratch directory over a socketpair, and a
/// GoferFilesystem mounted on it as the root of a fresh VFS (GoferFixture with server options).
final class ServedGofer: @unchecked Sendable {
    let scratch: HostScratch
    let server: GoferServer
    let filesystem: GoferFilesystem
    let context: FSContext
    private let serverEnd: Int32

    /// `rootMode`: the served directory's mode (mkdtemp makes it 0700; tests run as an
    /// unprivileged user need search permission on it).
    init(
        server serverOptions: GoferServerOptions = GoferServerOptions(),
        options: GoferOptions = GoferOptions(), rootMode: mode_t = 0o777,
        prepare: (HostScratch) -> Void = { _ in }
    ) throws {
        scratch = try HostScratch()
        chmod(scratch.path, rootMode)
        prepare(scratch)
        server = try GoferServer(rootPath: scratch.path, options: serverOptions)
        let (client, serverSide) = try GoferFixture.connect(server)
        serverEnd = serverSide
        filesystem = try GoferFilesystem(socket: client, options: options)
        let vfs = VirtualFilesystem()
        context = FSContext(vfs: vfs, namespace: vfs.makeNamespace(root: filesystem, rootDentry: filesystem.root))
    }

    deinit { Glibc.close(serverEnd) }
}

/// Host-side AF_UNIX sockets for the other end of the tests.
enum HostUnix {
    static func check(_ value: Int32) throws -> Int32 {
        guard value >= 0 else { throw Errno(rawValue: errno) }
        return value
    }

    static func withAddress<R>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }

    static func socket(_ type: Int32 = Int32(SOCK_STREAM.rawValue)) throws -> Int32 {
        try check(Glibc.socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0))
    }

    /// A socket bound at `path` and listening.
    static func listener(at path: String) throws -> Int32 {
        let fd = try socket()
        _ = try check(withAddress(path) { Glibc.bind(fd, $0, $1) })
        _ = try check(Glibc.listen(fd, 8))
        return fd
    }

    /// A socket file at `path` with no socket behind it any more.
    static func staleSocketFile(at path: String) throws {
        let fd = try socket()
        _ = try check(withAddress(path) { Glibc.bind(fd, $0, $1) })
        Glibc.close(fd)
    }

    static func connect(to path: String) throws -> Int32 {
        let fd = try socket()
        let result = withAddress(path) { Glibc.connect(fd, $0, $1) }
        if result < 0 {
            let error = errno
            Glibc.close(fd)
            throw Errno(rawValue: error)
        }
        return fd
    }

    static func accept(_ listener: Int32) throws -> Int32 {
        try check(Glibc.accept(listener, nil, nil))
    }

    static func send(_ fd: Int32, _ text: String) throws {
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw Errno(rawValue: errno) }
    }

    /// Reads what is there (waiting for it with poll, as donated sockets are non-blocking).
    static func receive(_ fd: Int32, max: Int = 64) throws -> String {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        _ = Glibc.poll(&entry, 1, -1)
        var buffer = [UInt8](repeating: 0, count: max)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count >= 0 else { throw Errno(rawValue: errno) }
        return String(decoding: buffer.prefix(count), as: UTF8.self)
    }

    static func fileType(_ path: String) -> mode_t {
        var st = stat()
        guard lstat(path, &st) == 0 else { return 0 }
        return st.st_mode & S_IFMT
    }
}

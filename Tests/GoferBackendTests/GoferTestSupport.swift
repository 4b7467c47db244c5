import Foundation
import GoferBackend
import GoferServer
import LISAFS
import SystemPackage
import VFSCore

#if canImport(Glibc)
    import Glibc
#endif

/// A host scratch directory under /dev/shm (a real tmpfs), removed when the fixture goes.
final class HostScratch: @unchecked Sendable {
    let path: String

    init() throws {
        let template = "/dev/shm/gofer-client-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else { throw Errno(rawValue: errno) }
        path = String(cString: made)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func host(_ relative: String) -> String { path + "/" + relative }

    func mkdir(_ relative: String, mode: mode_t = 0o755) {
        Glibc.mkdir(host(relative), mode)
    }

    func write(_ relative: String, _ contents: String) {
        FileManager.default.createFile(atPath: host(relative), contents: Data(contents.utf8))
    }

    func inode(_ relative: String) -> UInt64 {
        var st = stat()
        guard lstat(host(relative), &st) == 0 else { return 0 }
        return UInt64(st.st_ino)
    }
}

/// The real GoferServer serving `scratch` in this process over a socketpair, and a
/// GoferFilesystem mounted on it as the root of a fresh VFS.
final class GoferFixture: @unchecked Sendable {
    let scratch: HostScratch
    let server: GoferServer
    let filesystem: GoferFilesystem
    let vfs: VirtualFilesystem
    let context: FSContext
    /// A duplicate of the server's end of the current connection: shutting it down is the
    /// gofer dying (the server thread sees EOF and exits; the client sees EOF too).
    private(set) var serverEnd: Int32

    init(options: GoferOptions = GoferOptions(), scratch: HostScratch? = nil) throws {
        let scratch = try scratch ?? HostScratch()
        self.scratch = scratch
        server = try GoferServer(rootPath: scratch.path)
        let (client, serverSide) = try GoferFixture.connect(server)
        serverEnd = serverSide
        filesystem = try GoferFilesystem(socket: client, options: options)
        vfs = VirtualFilesystem()
        let namespace = vfs.makeNamespace(root: filesystem, rootDentry: filesystem.root)
        context = FSContext(vfs: vfs, namespace: namespace)
    }

    deinit {
        Glibc.close(serverEnd)
    }

    /// A socketpair with the server on one end (its own thread); returns the client end and a
    /// duplicate of the server end.
    static func connect(_ server: GoferServer) throws -> (FileDescriptor, Int32) {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0
        else { throw Errno(rawValue: errno) }
        let duplicate = dup(fds[1])
        server.serveInBackground(socket: fds[1])
        return (FileDescriptor(rawValue: fds[0]), duplicate)
    }

    /// The gofer dies: its connection is shut down under it.
    func killGofer() {
        Glibc.shutdown(serverEnd, Int32(SHUT_RDWR))
    }

    /// A new gofer connection (same directory) attached to the file system.
    func attachNewGofer() throws {
        let (client, serverSide) = try GoferFixture.connect(server)
        Glibc.close(serverEnd)
        serverEnd = serverSide
        try filesystem.attach(socket: client)
    }
}

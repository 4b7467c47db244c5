import Foundation
import Glibc
import GoferBackend
import GoferServer
import SystemPackage
import VFSCore

/// Differential runs with the VFS side on a gofer mount: a `GoferFilesystem` talking LISAFS
/// over a socketpair to the real `GoferServer` (in this process, on its own thread) serving a
/// fresh /dev/shm directory, compared with Linux running the same sequence in its own fresh
/// /dev/shm directory. The comparison leaves out what it leaves out for tmpfs (inode numbers,
/// st_dev, absolute times): those differ between any two directories. What LISAFS cannot
/// express is documented in `KnownDeviation.gofer`, which the comparison consults for this
/// root only.
extension VFSRoot {
    public static func gofer(caching: GoferCachingMode = .exclusive, perComponentWalk: Bool = false)
        -> Factory
    {
        { () throws(Errno) -> VFSRoot in
            var template = Array("/dev/shm/vfskit-goferdiff-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw Errno(rawValue: errno) }
            let path = String(cString: made)
            chmod(path, 0o1777)
            let server = try GoferServer(rootPath: path)
            var fds: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0
            else { throw Errno(rawValue: errno) }
            server.serveInBackground(socket: fds[1])
            let filesystem = try GoferFilesystem(
                socket: FileDescriptor(rawValue: fds[0]),
                options: GoferOptions(caching: caching, perComponentWalk: perComponentWalk))
            return VFSRoot(
                filesystem: filesystem, dentry: filesystem.root,
                cleanup: {
                    filesystem.disconnect()
                    try? FileManager.default.removeItem(atPath: path)
                }, knownDeviations: KnownDeviation.gofer, kernelStampsTimes: true)
        }
    }
}


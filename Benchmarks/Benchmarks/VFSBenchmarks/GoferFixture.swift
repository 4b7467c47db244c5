// The gofer configurations: `GoferFilesystem` talking LISAFS over a socketpair to a
// `GoferServer` thread in this process (no process boundary, no seccomp), serving a scratch
// directory on /dev/shm that holds the benchmark tree. They measure what the gofer's RPCs
// cost against the host and kernel rows:
// - "gofer": exclusive caching, warm (the warm-up iterations cache the paths; a cached walk
//   sends no RPC).
// - "gofer-cold": exclusive caching with the dentry cache trimmed before each operation
//   (outside the measured interval, the FDIDs it releases closed), so every path is walked
//   again: one Walk RPC.
// - "gofer-shared": shared caching (gVisor's choice for bind mounts): each cached path is
//   revalidated with one WalkStat before use.
// Regular files are read and written through the host fd the gofer donates at open (no
// RPC). Rows report the RPCs each operation sent (custom metric "RPCs").
import Glibc
import GoferBackend
import GoferServer
import VFSCore

enum GoferFixture {
    /// A client mounted on a new server for `directory`, over a fresh socketpair.
    static func connect(directory: String, options: GoferOptions) throws(Errno) -> GoferFilesystem {
        let server = try GoferServer(rootPath: directory)
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0
        else { throw Errno(rawValue: errno) }
        server.serveInBackground(socket: fds[1])
        return try GoferFilesystem(socket: FileDescriptor(rawValue: fds[0]), options: options)
    }

    static func make(caching: GoferCachingMode, cold: Bool) throws(Errno) -> TaskFixture {
        let label = cold ? "gofer-cold" : caching == .shared ? "gofer-shared" : "gofer"
        let directory = try Scratch.make(label)
        do throws(Errno) {
            try Scratch.buildTree(at: directory)
            let filesystem = try connect(directory: directory, options: GoferOptions(caching: caching))
            return try TaskFixture(
                filesystem: filesystem, root: filesystem.root, gofer: filesystem, trimBeforeEachOperation: cold,
                cleanup: {
                    filesystem.disconnect()
                    Scratch.remove(directory)
                })
        } catch {
            Scratch.remove(directory)
            throw error
        }
    }
}

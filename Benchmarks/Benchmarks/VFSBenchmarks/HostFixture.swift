// The host configurations: `HostFilesystem` (direct, fd-relative host syscalls, no gofer)
// over a scratch directory on /dev/shm holding the benchmark tree, with exclusive caching
// ("host": cached dentries trusted) or shared caching ("host-shared": each cached name
// re-statted before use). Attributes are never cached in either mode, so every stat is one
// host fstatat. The rows measure what a directfs-style sandbox pays over the kernel rows.
import HostBackend
import VFSCore

enum HostFixture {
    static func make(caching: HostCachingMode) throws(Errno) -> TaskFixture {
        let directory = try Scratch.make(caching == .shared ? "host-shared" : "host")
        do throws(Errno) {
            try Scratch.buildTree(at: directory)
            let filesystem = try HostFilesystem(rootPath: directory, options: HostOptions(caching: caching))
            return try TaskFixture(
                filesystem: filesystem, root: filesystem.root, cleanup: { Scratch.remove(directory) })
        } catch {
            Scratch.remove(directory)
            throw error
        }
    }
}

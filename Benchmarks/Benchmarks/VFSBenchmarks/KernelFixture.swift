// The kernel configuration, every family's baseline: the benchmark tree in a scratch
// directory on /dev/shm (a real tmpfs), which becomes the cwd, and the same calls made
// directly (libc) from the same process. Paths are relative to the cwd, so the kernel walks
// the same components as the VFSKit rows.
import CLinuxSupport
import Glibc
import VFSCore

final class KernelFixture: @unchecked Sendable {
    let directory: String
    /// The file at each of `depths`, in its order, relative to the cwd.
    let paths: [[CChar]]
    let threadPaths: [[CChar]] = [Array("thread0/a".utf8CString), Array("thread1/a".utf8CString)]
    let ioFD: Int32
    let buffer = makePatternBuffer()

    init() throws(Errno) {
        paths = depths.map { Array(relativePath(depth: $0).utf8CString) }
        directory = try Scratch.make("kernel")
        do throws(Errno) {
            try Scratch.buildTree(at: directory)
            guard chdir(directory) == 0 else { throw Errno(rawValue: errno) }
            ioFD = open("io", O_RDWR | O_CLOEXEC)
            guard ioFD >= 0 else { throw Errno(rawValue: errno) }
        } catch {
            Scratch.remove(directory)
            throw error
        }
    }

    func remove() {
        close(ioFD)
        chdir("/")
        Scratch.remove(directory)
    }
}

/// getdents64 has no Glibc wrapper visible to Swift: the raw syscall (217) through the root
/// package's C shim (a dependency of Syscalls, so its module is visible here).
@inline(__always)
func kernelGetdents64(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
    vfs_raw_syscall6(217, Int(fd), Int(bitPattern: buffer.baseAddress), buffer.count, 0, 0, 0)
}

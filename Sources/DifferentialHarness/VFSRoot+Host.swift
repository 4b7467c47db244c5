import Foundation
import Glibc
import HostBackend
import VFSCore

/// The VFS side on a host directory: a `HostFilesystem` over a fresh /dev/shm directory per
/// run (1777, like /dev/shm itself, where the kernel side's directory sits; the executor
/// makes its scratch directory in it with the configuration's mode and owner, through the
/// VFS, and chroots there). Removed when the executor goes away.
extension VFSRoot {
    public static func host(caching: HostCachingMode = .exclusive) -> Factory {
        { () throws(Errno) -> VFSRoot in
            var template = Array("/dev/shm/vfskit-hostdiff-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw Errno(rawValue: errno) }
            let path = String(cString: made)
            chmod(path, 0o1777)
            let filesystem = try HostFilesystem(
                rootPath: path, options: HostOptions(caching: caching))
            return VFSRoot(
                filesystem: filesystem, dentry: filesystem.root,
                cleanup: { try? FileManager.default.removeItem(atPath: path) },
                kernelStampsTimes: true)
        }
    }

    /// The root `Differential.run` uses unless told otherwise: tmpfs, or with
    /// VFSKIT_DIFF_ROOT=host (exclusive caching) or host-shared the host backend, gofer or
    /// gofer-shared the gofer client on an in-process gofer (VFSRoot+Gofer.swift) — so every
    /// differential test, soak and shrink runs against it unchanged.
    public static var `default`: Factory {
        switch ProcessInfo.processInfo.environment["VFSKIT_DIFF_ROOT"] {
        case "host": return host(caching: .exclusive)
        case "host-shared": return host(caching: .shared)
        case "gofer": return gofer(caching: .exclusive)
        case "gofer-shared": return gofer(caching: .shared)
        default: return tmpfs
        }
    }
}

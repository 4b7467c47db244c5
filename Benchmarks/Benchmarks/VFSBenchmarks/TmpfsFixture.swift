// The tmpfs configuration: VFSKit's own tmpfs, the tree built through the task (mkdirat,
// openat with O_CREAT, mknodat, pwrite64), so building it exercises the same calls as the
// rows measure. Nothing on the host: nothing to remove.
import Syscalls
import TmpfsBackend
import VFSCore

enum TmpfsFixture {
    static func make() throws(Errno) -> TaskFixture {
        let tmpfs = TmpfsFilesystem()
        return try TaskFixture(filesystem: tmpfs, root: tmpfs.root, populate: buildTree, cleanup: {})
    }

    /// The benchmark tree (Scratch.swift) made through `task`.
    static func buildTree(through task: Task) throws(Errno) {
        for depth in depths {
            let components = relativePath(depth: depth).split(separator: "/")
            var prefix = ""
            for component in components.dropLast() {
                prefix += "/" + component
                try task.mkdirat(Linux.AT_FDCWD, PathArgument(prefix), 0o755)
            }
            let path = PathArgument("/" + components.joined(separator: "/"))
            try task.close(try task.openat(Linux.AT_FDCWD, path, OpenOptions.create | OpenOptions.writeOnly, 0o644))
        }
        let io = try task.openat(Linux.AT_FDCWD, "/io", OpenOptions.create | OpenOptions.writeOnly, 0o644)
        let pattern = makePatternBuffer()
        defer { pattern.deallocate() }
        _ = try task.pwrite64(io, UnsafeRawBufferPointer(pattern), 0)
        try task.close(io)
        try task.mkdirat(Linux.AT_FDCWD, "/big", 0o755)
        for index in 0..<bigDirectoryEntries {
            try task.mknodat(Linux.AT_FDCWD, PathArgument("/big/entry-\(index)"), 0o100644, 0)
        }
        try task.mkdirat(Linux.AT_FDCWD, "/scratch", 0o755)
        for thread in 0..<2 {
            try task.mkdirat(Linux.AT_FDCWD, PathArgument("/thread\(thread)"), 0o755)
            try task.mknodat(Linux.AT_FDCWD, PathArgument("/thread\(thread)/a"), 0o100644, 0)
        }
    }
}

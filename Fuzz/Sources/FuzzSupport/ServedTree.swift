import GoferServer

#if canImport(Glibc)
    import Glibc
#endif

// The scratch tree the gofer-server fuzzers serve: the tree the golden conversation ran on
// (GoldenReplayTests builds the same one), under /dev/shm, rebuilt with a fresh server every
// `runsBetweenResets` inputs so that whatever earlier inputs created cannot grow without
// bound. Host unix sockets are off: a fuzzed BindAt would otherwise leave listening sockets
// behind that no later run cleans up.
// Lock order: none. libFuzzer runs inputs on one thread; `current()` is called only from it.

/// A served scratch tree and its current server.
public final class ServedTree: @unchecked Sendable {
    public let root: String
    public let runsBetweenResets: Int
    private var runsSinceReset: Int
    private var server: GoferServer?
    /// Called after each rebuild (a fuzzer's own checks, e.g. for descriptor leaks).
    private let afterRebuild: () -> Void
    private let options: GoferServerOptions

    /// `name` distinguishes the fuzzers' trees ("gofer-fuzz" → /dev/shm/vfskit-gofer-fuzz-PID).
    /// `channels` off, the server refuses Channel (ENOSYS): a channel costs a memory window
    /// and a thread per input, which would slow a socket fuzzer a hundredfold; the channel
    /// path has a fuzzer of its own.
    public init(
        name: String, channels: Bool, runsBetweenResets: Int = 512, afterRebuild: @escaping () -> Void = {}
    ) {
        root = "/dev/shm/vfskit-\(name)-\(getpid())"
        self.runsBetweenResets = runsBetweenResets
        runsSinceReset = runsBetweenResets
        self.afterRebuild = afterRebuild
        var options = GoferServerOptions(hostUnixSockets: false)
        if !channels { options.maxChannelsPerConnection = 0 }
        self.options = options
    }

    /// The server for the next input: the same one, or a new one over a rebuilt tree.
    public func current() -> GoferServer? {
        runsSinceReset += 1
        if runsSinceReset < runsBetweenResets, let server { return server }
        runsSinceReset = 0
        server = nil
        removeTree(root)
        guard buildTree() else { return nil }
        server = try? GoferServer(rootPath: root, options: options)
        afterRebuild()
        return server
    }

    /// Removes the tree (for an atexit handler).
    public func remove() { removeTree(root) }

    private func buildTree() -> Bool {
        guard mkdir(root, 0o755) == 0, mkdir(root + "/sub", 0o755) == 0, mkdir(root + "/full", 0o755) == 0
        else { return false }
        let files = [("hello.txt", "hello, lisafs\n"), ("sub/inner.txt", "inner\n"), ("full/keep", "k")]
        for (name, contents) in files {
            let fd = open(root + "/" + name, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { return false }
            _ = contents.withCString { write(fd, $0, strlen($0)) }
            close(fd)
        }
        return symlink("hello.txt", root + "/lnk") == 0
    }
}

/// rm -rf without following symlinks: directories are opened O_NOFOLLOW and emptied through
/// their fd, so a symlink an input planted is removed, never followed.
public func removeTree(_ path: String) {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    if fd < 0 {
        _ = unlink(path)
        return
    }
    emptyDirectory(fd)
    close(fd)
    _ = rmdir(path)
}

private func emptyDirectory(_ fd: Int32) {
    // The fuzzed client may have removed search or write permission: take them back (we are root
    // or the owner) so the tree can always be cleared.
    _ = fchmod(fd, 0o700)
    guard let directory = fdopendir(dup(fd)) else { return }
    defer { closedir(directory) }
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        if name == "." || name == ".." { continue }
        if unlinkat(fd, name, 0) == 0 { continue }
        let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard child >= 0 else { continue }
        emptyDirectory(child)
        close(child)
        _ = unlinkat(fd, name, AT_REMOVEDIR)
    }
}

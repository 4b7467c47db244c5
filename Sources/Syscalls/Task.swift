import Synchronization
import VFSCore

/// A Linux task as the file syscalls see it: credentials, fs context (root, cwd, umask) and a
/// file-descriptor table, with one method per file syscall in the kernel's argument form
/// (see the `Task+*.swift` files). Methods throw the errno Linux x86-64 returns;
/// `SyscallDispatcher` turns them into raw return values for a runtime.
///
/// ```swift
/// let kernel = Kernel()
/// let tmpfs = TmpfsFilesystem()
/// let task = Task(kernel: kernel, namespace: kernel.vfs.makeNamespace(root: tmpfs, rootDentry: tmpfs.root))
/// let fd = try task.openat(Linux.AT_FDCWD, "/hello", O_WRONLY | O_CREAT, 0o644)
/// _ = try task.write(fd, Array("hi\n".utf8))
/// try task.close(fd)
/// ```
public final class Task: Sendable {
    public let kernel: Kernel
    /// Thread-group id, for POSIX record locks (which belong to a process).
    public let id: Int32
    /// Root, cwd, umask and credentials (shared between tasks cloned with CLONE_FS).
    public let fs: FSContext
    /// The descriptor table; exec may swap in a private copy (see `exec()`), so it is read
    /// through a small lock.
    public var files: FileTable { fileTable.withLock { $0 } }
    private let fileTable: Mutex<FileTable>

    public var vfs: VirtualFilesystem { kernel.vfs }
    public var credentials: Credentials {
        get { fs.credentials }
        set { fs.credentials = newValue }
    }

    public init(
        kernel: Kernel, namespace: MountNamespace, credentials: Credentials = .root,
        umask: UInt32 = 0o022
    ) {
        self.kernel = kernel
        self.id = kernel.nextTaskID()
        self.fs = FSContext(
            vfs: kernel.vfs, namespace: namespace, credentials: credentials, umask: umask)
        self.fileTable = Mutex(FileTable())
    }

    private init(kernel: Kernel, id: Int32, fs: FSContext, files: FileTable) {
        self.kernel = kernel
        self.id = id
        self.fs = fs
        self.fileTable = Mutex(files)
    }

    /// fork / clone: the child shares the fd table with CLONE_FILES and the fs context with
    /// CLONE_FS, and gets copies otherwise. A new process gets a new id (its record locks are
    /// its own); a thread (`sameProcess`) keeps the parent's.
    public func clone(shareFiles: Bool = false, shareFS: Bool = false, sameProcess: Bool = false)
        -> Task
    {
        let child = Task(
            kernel: kernel, id: sameProcess ? id : kernel.nextTaskID(),
            fs: shareFS ? fs : fs.copy(), files: shareFiles ? files : files.copy())
        // A new process gets a new cred object (copy_creds); a thread shares its parent's.
        if !sameProcess && !shareFS { child.fs.credentials = child.fs.credentials }
        return child
    }

    /// execve's effect on files: close-on-exec descriptors close, and, as for any close, the
    /// process's record locks on their files go (`filp_close` → `locks_remove_posix`).
    public func exec() {
        // execve unshares a table shared through CLONE_FILES first (`unshare_files`): the
        // closes below must not reach the other tasks' descriptors.
        let ownTable = files.copy()
        fileTable.withLock { $0 = ownTable }
        for fd in files.openDescriptors {
            guard let entry = try? files.entry(fd), entry.closeOnExec else { continue }
            kernel.locks.releasePOSIXLocks(of: id, on: entry.description)
        }
        files.closeOnExec()
    }

    /// A task's exit: its record locks go, and it lets go of its descriptor table — which
    /// closes the descriptors only if no other task shares the table (CLONE_FILES), as
    /// Linux's `exit_files` drops a reference rather than closing.
    public func exit() {
        kernel.locks.releaseAll(ownedByProcess: id)
        fileTable.withLock { $0 = FileTable(limit: $0.limit) }
    }

    // MARK: - Where a path starts

    /// The starting point for a *at call: the cwd for AT_FDCWD, else the directory `dirfd`
    /// names (EBADF if not open; ENOTDIR unless a directory, except when the path is empty
    /// and `allowEmpty`, where any file will do). Absolute paths ignore `dirfd` entirely, as
    /// in Linux.
    func start(_ dirfd: Int32, _ path: [UInt8], allowEmpty: Bool = false) throws(Errno)
        -> VirtualDentry
    {
        if path.first == 0x2F { return fs.root }
        if dirfd == Linux.AT_FDCWD { return fs.workingDirectory }
        let description = try files.get(dirfd)
        if path.isEmpty && allowEmpty { return description.location }
        guard description.location.dentry.isDirectory else { throw .notDirectory }
        return description.location
    }

    /// The operation for a *at call with AT_* `flags` (AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH).
    func operation(
        _ dirfd: Int32, _ path: PathArgument, followFinal: Bool = true, allowEmpty: Bool = false
    ) throws(Errno) -> PathOperation {
        if path.bytes.isEmpty && !allowEmpty { throw .noSuchFileOrDirectory }
        guard path.bytes.count < Linux.PATH_MAX else { throw .fileNameTooLong }
        let start = try start(dirfd, path.bytes, allowEmpty: allowEmpty)
        return PathOperation(
            root: fs.root, start: start, path: path.bytes, followFinalSymlink: followFinal,
            allowEmptyPath: allowEmpty)
    }
}

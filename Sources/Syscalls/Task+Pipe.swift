import VFSCore

extension Linux {
    /// pipe2's O_NOTIFICATION_PIPE (the O_EXCL bit).
    public static let O_NOTIFICATION_PIPE: Int32 = 0o200
    public static let MFD_HUGETLB: UInt32 = 4
    public static let MFD_NOEXEC_SEAL: UInt32 = 8
    public static let MFD_EXEC: UInt32 = 0x10
    public static let MFD_HUGE_SHIFT: UInt32 = 26
    public static let MFD_HUGE_MASK: UInt32 = 0x3F
    /// memfd_create's name limit: NAME_MAX less the "memfd:" prefix.
    public static let MFD_NAME_MAX = 249
}

/// pipe, pipe2 (fs/pipe.c) and memfd_create (mm/memfd.c).
extension Task {
    /// pipe(2): pipe2 with no flags.
    public func pipe() throws(Errno) -> (read: Int32, write: Int32) {
        try pipe2(0)
    }

    /// pipe2(2): a new pipe's read end and write end, at the two lowest free numbers.
    /// Flags: O_CLOEXEC (both descriptors), O_NONBLOCK (both ends), O_DIRECT (the write end's
    /// flag: its writes are packets, see `Pipe`); anything else is EINVAL, except
    /// O_NOTIFICATION_PIPE, which is ENOPKG as on a kernel without CONFIG_WATCH_QUEUE (Linux
    /// 6.18 here). EMFILE unless two numbers are free, leaving none taken.
    ///
    /// The ends sit on one inode of the hidden pipe file system (fstat: a FIFO, mode 0600,
    /// owned by the caller, size 0). F_GETFL shows O_RDONLY / O_WRONLY with O_NONBLOCK (and
    /// O_DIRECT on the write end), and no O_LARGEFILE, as Linux does.
    public func pipe2(_ flags: Int32) throws(Errno) -> (read: Int32, write: Int32) {
        let allowed =
            OpenOptions.closeOnExec | OpenOptions.nonBlocking | OpenOptions.direct
            | Linux.O_NOTIFICATION_PIPE
        guard flags & ~allowed == 0 else { throw .invalidArgument }
        if flags & Linux.O_NOTIFICATION_PIPE != 0 { throw Errno(rawValue: 65) }  // ENOPKG
        let (reader, writer) = try makePipe(flags)
        let closeOnExec = flags & OpenOptions.closeOnExec != 0
        let readFD = try files.install(reader, closeOnExec: closeOnExec)
        let writeFD: Int32
        do {
            writeFD = try files.install(writer, closeOnExec: closeOnExec)
        } catch {
            try? files.close(readFD)
            throw error
        }
        return (readFD, writeFD)
    }

    /// The two descriptions of a new pipe (`create_pipe_files`).
    func makePipe(_ flags: Int32) throws(Errno) -> (FileDescription, FileDescription) {
        let pipe = Pipe()
        let credentials = self.credentials
        let dentry = kernel.pipes.filesystem.makePipeDentry(
            credentials: credentials, now: RealtimeClock().now())
        let location = VirtualDentry(mount: kernel.pipes.mount, dentry: dentry)
        let readFlags = OpenOptions(
            flags: OpenOptions.readOnly | (flags & OpenOptions.nonBlocking))
        let writeFlags = OpenOptions(
            flags: OpenOptions.writeOnly | (flags & (OpenOptions.nonBlocking | OpenOptions.direct)))
        let readEnd = try PipeFile(pipe: pipe, options: readFlags, isFIFO: false)
        let writeEnd = try PipeFile(pipe: pipe, options: writeFlags, isFIFO: false)
        return (
            FileDescription(
                location: location, impl: readEnd, flags: readFlags, credentials: credentials),
            FileDescription(
                location: location, impl: writeEnd, flags: writeFlags, credentials: credentials)
        )
    }

    /// memfd_create(2): an anonymous tmpfs regular file, open O_RDWR (F_GETFL O_RDWR|
    /// O_LARGEFILE, offset 0), mode 0777 whatever the umask (0666 with MFD_NOEXEC_SEAL), owned
    /// by the caller, with no name anywhere (nlink 0, as Linux 6.18 reports for a memfd).
    ///
    /// Errors in Linux's order: EINVAL for unknown flags (the huge-page size bits only with
    /// MFD_HUGETLB), or MFD_EXEC with MFD_NOEXEC_SEAL; then EINVAL for a name longer than 249
    /// bytes; then EMFILE.
    ///
    /// Not modelled: seals (F_ADD_SEALS / F_GET_SEALS are EINVAL) and hugetlbfs (MFD_HUGETLB
    /// gives an ordinary tmpfs file).
    public func memfd_create(_ name: [UInt8], _ flags: UInt32) throws(Errno) -> Int32 {
        try Task.checkMemfdFlags(flags)
        guard name.count <= Linux.MFD_NAME_MAX else { throw .invalidArgument }
        let mode: UInt32 = flags & Linux.MFD_NOEXEC_SEAL != 0 ? 0o666 : 0o777
        let description = try makeMemfd(mode: mode)
        return try files.install(description, closeOnExec: flags & Linux.MFD_CLOEXEC != 0)
    }

    public func memfd_create(_ name: String, _ flags: UInt32) throws(Errno) -> Int32 {
        try memfd_create(Array(name.utf8), flags)
    }

    /// memfd_create's `sanitize_flags`, checked before the name is read: EINVAL for unknown
    /// bits (the huge-page size bits only with MFD_HUGETLB), or MFD_EXEC with MFD_NOEXEC_SEAL.
    static func checkMemfdFlags(_ flags: UInt32) throws(Errno) {
        let all =
            Linux.MFD_CLOEXEC | Linux.MFD_ALLOW_SEALING | Linux.MFD_HUGETLB
            | Linux.MFD_NOEXEC_SEAL | Linux.MFD_EXEC
        let hugeSizes = Linux.MFD_HUGE_MASK << Linux.MFD_HUGE_SHIFT
        let allowed = flags & Linux.MFD_HUGETLB != 0 ? all | hugeSizes : all
        guard flags & ~allowed == 0 else { throw .invalidArgument }
        if flags & Linux.MFD_EXEC != 0 && flags & Linux.MFD_NOEXEC_SEAL != 0 {
            throw .invalidArgument
        }
    }

    /// An unnamed file on the hidden memfd tmpfs. It is made with O_TMPFILE (not linkable,
    /// so never given a name), then opened again plainly, so that its description's flags are
    /// O_RDWR|O_LARGEFILE as a memfd's, not O_TMPFILE's.
    private func makeMemfd(mode: UInt32) throws(Errno) -> FileDescription {
        let mount = kernel.memfdMount
        let root = VirtualDentry(mount: mount, dentry: mount.root)
        let credentials = self.credentials
        let unnamed = try vfs.open(
            credentials,
            PathOperation(root: root, start: root, path: [], allowEmptyPath: true),
            options: OpenOptions(
                flags: OpenOptions.temporaryFile | OpenOptions.readWrite | OpenOptions.exclusive),
            mode: mode)
        let flags = OpenOptions(flags: OpenOptions.readWrite | OpenOptions.largeFile)
        let impl = try mount.filesystem.open(
            unnamed.location, options: flags, credentials: credentials)
        return FileDescription(
            location: unnamed.location, impl: impl, flags: flags, credentials: credentials)
    }
}

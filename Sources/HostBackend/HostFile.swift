import Glibc
import HostSyscalls
import Synchronization
import VFSCore

extension HostFilesystem {
    /// Opens a resolved host file by reopening the dentry's O_PATH fd through /proc/self/fd
    /// with the access asked for (the one way to turn an O_PATH fd into an open file; the
    /// magic link names exactly that inode, so no path is resolved again). Regular files and
    /// directories are read and written through that host fd. A FIFO is a pipe of the sandbox's
    /// own (`HostFifo`, one per host inode, kept for the file system's life), as gVisor's
    /// gofer mounts do by default: sandbox readers and writers meet each other, never a host
    /// process, and the pipe behaves exactly as the VFS's pipes do (F_GETPIPE_SZ, O_ASYNC,
    /// blocking opens); the host FIFO carries a copy of the bytes so that the host kernel
    /// stamps its times. O_PATH gets attributes only.
    /// Sockets are ENXIO as in Linux; device nodes are ENXIO as well: a sandbox may name them
    /// but never reach a host device.
    public func open(_ location: VirtualDentry, options: OpenOptions, credentials: Credentials)
        throws(Errno) -> any FileDescriptionImpl
    {
        let dentry = try own(location.dentry)
        if options.isPathOnly { return HostInertFile(dentry: dentry) }
        // Only a regular file's write access needs a writable superblock: Linux opens a FIFO
        // for writing on a read-only mount (special files skip mnt_want_write).
        if options.isWritable && self.options.readOnly && dentry.fileType == .regular {
            throw .readOnlyFileSystem
        }
        var access: Int32
        switch options.accessMode {
        case OpenOptions.writeOnly: access = HostOpenFlags.writeOnly
        case OpenOptions.readWrite: access = HostOpenFlags.readWrite
        default: access = HostOpenFlags.readOnly
        }
        access |=
            options.flags & (OpenOptions.noAccessTime | OpenOptions.sync | OpenOptions.dataSync)
        switch dentry.fileType {
        case .regular:
            let fd = try HostSyscall.reopen(dentry.fd, flags: access)
            return HostRegularFile(fd: fd, filesystem: self)
        case .directory:
            let fd = try HostSyscall.reopen(
                dentry.fd,
                flags: HostOpenFlags.readOnly | HostOpenFlags.directory
                    | (access & OpenOptions.noAccessTime))
            return HostDirectoryFile(fd: fd)
        case .symlink:
            throw .tooManySymbolicLinkLevels
        case .fifo:
            let key = FifoKey(device: dentry.device, inode: dentry.inode)
            let fifo = fifos.withLock { fifos in
                if let fifo = fifos[key] { return fifo }
                let fifo = HostFifo()
                fifos[key] = fifo
                return fifo
            }
            let end = try PipeFile(pipe: fifo.pipe, options: options, isFIFO: true)
            return FifoFile(
                pipe: end, events: HostFifoEvents(channel: try fifo.attach(dentry), mount: location.mount),
                options: options)
        case .socket, .characterDevice, .blockDevice:
            throw .noSuchAddressOrDevice
        }
    }
}

/// O_PATH: no I/O.
final class HostInertFile: FileDescriptionImpl {
    let dentry: HostDentry
    init(dentry: HostDentry) { self.dentry = dentry }
}

/// Runs a host call that may clear set-ID bits (write, truncate, fallocate) with the sandbox
/// caller's CAP_FSETID: without it, the thread drops the capability for the call and takes
/// the caller's fsgid and groups, on which `setattr_should_drop_sgid` decides whether a
/// set-group-ID bit without group execute goes (Linux 6.18: it stays for a writer in the
/// file's group).
func asCaller<R>(_ credentials: Credentials, _ body: () throws(Errno) -> R) throws(Errno) -> R {
    if credentials.has(.fsetid) { return try body() }
    return try HostSyscall.withoutEffectiveCapability(HostSyscall.capabilityFsetid) {
        () throws(Errno) -> R in
        try HostSyscall.withGroups(fsgid: credentials.gid, groups: credentials.groups, body)
    }
}

/// Settable status flags a host fd should carry too (O_NONBLOCK, O_APPEND is ours, O_NOATIME).
private func forwardStatusFlags(_ fd: HostFD, _ flags: Int32) {
    let forwarded = OpenOptions.nonBlocking | OpenOptions.noAccessTime
    guard let current = try? HostSyscall.fcntl(fd.rawValue, 3) else { return }  // F_GETFL
    let updated = (Int32(truncatingIfNeeded: current) & ~forwarded) | (flags & forwarded)
    _ = try? HostSyscall.fcntl(fd.rawValue, 4, Int(updated))  // F_SETFL
}

/// An open host regular file: positional I/O on its own host fd (the description's offset is
/// the core's; the host fd's own offset is unused but for appends).
final class HostRegularFile: FileDescriptionImpl {
    let fd: HostFD
    let filesystem: HostFilesystem

    init(fd: HostFD, filesystem: HostFilesystem) {
        self.fd = fd
        self.filesystem = filesystem
    }

    func statusFlagsChanged(_ flags: Int32) { forwardStatusFlags(fd, flags) }

    /// The host fd itself: it was opened with the description's access mode.
    func mappingSource() -> MappingSource? { .hostDescriptor(fd.rawValue) }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        try HostSyscall.pread(fd.rawValue, into: buffer, at: offset)
    }

    /// pwrite at `offset`, or with `append` pwritev2(RWF_APPEND), which the host makes atomic
    /// with finding the end. For a writer without CAP_FSETID the write runs with CAP_FSETID
    /// out of the thread's effective set, so the host kernel itself clears set-ID bits as
    /// Linux does for that writer (the host process, being root, would keep them).
    func write(
        from buffer: UnsafeRawBufferPointer, at offset: Int64, append: Bool,
        credentials: Credentials
    ) throws(Errno) -> (count: Int, end: Int64) {
        guard buffer.count > 0 else { return (0, offset) }
        return try asCaller(credentials) { () throws(Errno) -> (count: Int, end: Int64) in
            if append {
                let count = try HostSyscall.pwritev2(fd.rawValue, from: buffer, at: -1, flags: 0x10)
                return (count, try HostSyscall.lseek(fd.rawValue, 0, whence: 1))
            }
            let count = try HostSyscall.pwrite(fd.rawValue, from: buffer, at: offset)
            return (count, offset + Int64(count))
        }
    }

    func endOffset() throws(Errno) -> Int64 {
        try HostSyscall.statx(fd.rawValue).size
    }

    func seekDataOrHole(_ whence: SeekWhence, from offset: Int64) throws(Errno) -> Int64 {
        try HostSyscall.lseek(fd.rawValue, offset, whence: whence.rawValue)
    }

    func allocate(
        mode: AllocateMode, offset: Int64, length: Int64, credentials: Credentials
    ) throws(Errno) {
        try asCaller(credentials) { () throws(Errno) in
            try HostSyscall.fallocate(
                fd.rawValue, mode: mode.rawValue, offset: offset, length: length)
        }
    }

    func sync(dataOnly: Bool) throws(Errno) {
        try HostSyscall.fsync(fd.rawValue, dataOnly: dataOnly)
    }
}

/// An open host directory: getdents64 from the position the core keeps (the host's d_off
/// values are the positions, so reading resumes exactly where the host says).
final class HostDirectoryFile: FileDescriptionImpl {
    let fd: HostFD
    init(fd: HostFD) { self.fd = fd }

    func statusFlagsChanged(_ flags: Int32) { forwardStatusFlags(fd, flags) }

    /// read(2) of a directory is EISDIR (generic_read_dir), not the default EINVAL.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        throw .isDirectory
    }

    /// Called under the description's offset lock, so the host fd's own offset (moved here)
    /// is never shared between two readers.
    func readDirectory(from position: Int64, _ emit: (DirectoryEntry) -> Bool) throws(Errno)
        -> Int64
    {
        var position = position
        _ = try HostSyscall.lseek(fd.rawValue, position, whence: 0)
        while true {
            let entries = try HostSyscall.getdents64(fd.rawValue)
            if entries.isEmpty { return position }
            for entry in entries {
                let type = try fileType(of: entry)
                let accepted = emit(
                    DirectoryEntry(
                        name: Name(unchecked: entry.name[...]), type: type, inode: entry.inode,
                        nextOffset: entry.nextOffset))
                if !accepted { return position }
                position = entry.nextOffset
            }
            _ = try HostSyscall.lseek(fd.rawValue, position, whence: 0)
        }
    }

    /// d_type, or (DT_UNKNOWN, which some host file systems report) the entry's statx type.
    private func fileType(of entry: HostDirectoryEntry) throws(Errno) -> FileType {
        if let type = FileType(rawValue: UInt32(entry.type) << 12), entry.type != 0 { return type }
        let stat = try HostSyscall.statx(
            fd.rawValue, entry.name, flags: HostAtFlags.symlinkNoFollow, mask: 0x1)
        return FileType(rawValue: stat.fileTypeBits) ?? .regular
    }
}

/// An open host FIFO (or, imported, any stream: pipe, tty, socket): reads and writes go to the
/// host fd as they come; no offset (pread, pwrite and lseek are ESPIPE).
final class HostStreamFile: FileDescriptionImpl {
    let fd: HostFD
    init(fd: HostFD) { self.fd = fd }

    var isSeekable: Bool { false }

    func statusFlagsChanged(_ flags: Int32) { forwardStatusFlags(fd, flags) }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        try HostSyscall.read(fd.rawValue, into: buffer)
    }

    func write(
        from buffer: UnsafeRawBufferPointer, at offset: Int64, append: Bool,
        credentials: Credentials
    ) throws(Errno) -> (count: Int, end: Int64) {
        (try HostSyscall.writeWithoutSIGPIPE(fd.rawValue, from: buffer), 0)
    }

    func sync(dataOnly: Bool) throws(Errno) {
        // fsync of a pipe is EINVAL on Linux; a tty or socket likewise.
        try HostSyscall.fsync(fd.rawValue, dataOnly: dataOnly)
    }
}

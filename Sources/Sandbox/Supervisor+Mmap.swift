import CSandboxSupport
import Glibc
import Syscalls
import VFSCore

/// mmap of a VFS descriptor.
///
/// The filter sends mmap only for file mappings (flags without MAP_ANONYMOUS). A descriptor the
/// process's `Task` does not hold is the host's: the kernel maps it (FLAG_CONTINUE). A VFS
/// descriptor's number holds a placeholder pipe, which the kernel cannot map; so the supervisor
/// puts a real file at that very number (SECCOMP_IOCTL_NOTIF_ADDFD with
/// SECCOMP_ADDFD_FLAG_SETFD, keeping the descriptor's close-on-exec flag) and then lets the
/// kernel run the same mmap on it:
/// - a host or gofer regular file: the host fd the backend already reads and writes through
///   (`MappingSource.hostDescriptor`). The mapping is the file's own pages: MAP_SHARED writes
///   reach the file, and the kernel's own checks (EACCES for PROT_WRITE|MAP_SHARED on a
///   read-only descriptor, for a write-only one, ...) are Linux's because the fd has the
///   description's access mode (reopened with it if it had not);
/// - a tmpfs regular file: a memfd kept equal to the file (`LiveCopy`, LiveCopy.swift): the
///   tmpfs file tells it every write, truncate and hole punch made through any descriptor, name
///   or process, so shared and private mappings see later changes to the file as on Linux (a
///   private mapping until the program writes a page of it). The program gets the memfd
///   read-only whatever the description's access mode; the supervisor alone can write it. So
///   a shared mapping that could write the file — PROT_WRITE, or any MAP_SHARED of a descriptor
///   open for writing (mprotect could add PROT_WRITE later) — is ENODEV ("the underlying file
///   system does not support memory mapping"), after the access checks Linux makes before that
///   one: its writes would reach the copy only, and the file would silently diverge. A
///   read-only MAP_SHARED of a read-only descriptor (Python's mmap.ACCESS_READ, ripgrep) and
///   every MAP_PRIVATE mapping are served. One copy per file serves every mapping of it
///   (ld.so's four or five mappings of a shared object, several processes). Copies are
///   dropped by a sweep (`sweepCopies`, run when their count reaches a threshold: at least 32,
///   then twice the copies still in use) that keeps every copy some process still maps or
///   holds open: the memory held is the size of the tmpfs files mapped since the last sweep;
/// - a gofer file without a donated fd (no live copy): a sealed memfd snapshot, for
///   MAP_PRIVATE only (POSIX leaves unspecified whether a private mapping sees later changes);
///   any MAP_SHARED is ENODEV.
/// Anything else a VFS descriptor names (directory, FIFO, O_PATH) gets Linux's errno without
/// reaching the kernel (EBADF for O_PATH; EINVAL for MAP_HUGETLB, a zero length or an unknown
/// mapping type; EACCES by access mode; ENODEV).
///
/// The number stays a VFS descriptor: read, write, fstat, lseek... are still served by the VFS
/// (they are trapped). A real file there changes what untrapped calls see, for the better
/// mostly: poll reports a regular file ready (a placeholder pipe reported POLLHUP), epoll_ctl
/// refuses it with EPERM as Linux does for regular files, /proc/PID/maps and
/// /proc/PID/fd/N name the host file or "/memfd:vfs:PATH (deleted)". I/O that bypasses the
/// trapped calls — io_uring, Linux AIO, a descriptor passed to another process with
/// SCM_RIGHTS or pidfd_getfd — reaches the host file itself (host and gofer mounts: the same
/// bytes, but not the VFS's offset) or the read-only copy (tmpfs: reads see the file's current
/// contents; writes fail with EBADF); before a mapping they reached the placeholder pipe.
/// The supervisor remembers every file it installed (`mappedFiles`, by device and inode), so
/// that a forked child's or an exec'ing process's real table still shows which numbers stand
/// for VFS descriptors.
extension Supervisor {
    private static let MAP_SHARED: Int32 = 0x01
    private static let MAP_PRIVATE: Int32 = 0x02
    private static let MAP_SHARED_VALIDATE: Int32 = 0x03
    private static let MAP_TYPE: Int32 = 0x0f
    private static let MAP_ANONYMOUS: Int32 = 0x20
    private static let MAP_HUGETLB: Int32 = 0x40000
    private static let PROT_WRITE: Int32 = 0x2
    private static let PROT_EXEC: Int32 = 0x4

    private static func errno(_ error: Errno) -> Outcome { .value(-Int64(error.rawValue)) }

    /// mmap(addr, length, prot, flags, fd, offset).
    func mmap(_ call: Call) -> Outcome {
        let prot = call.int32(2)
        let flags = call.int32(3)
        let fd = call.int32(4)
        guard flags & Self.MAP_ANONYMOUS == 0,
            let entry = try? call.process.task.files.entry(fd)
        else { return .passThrough }
        let description = entry.description
        // do_mmap's order: fget (O_PATH files are not mappable: EBADF), MAP_HUGETLB on a file
        // that is not hugetlbfs, a zero length, then the checks by mapping type.
        // Linux 6.18: each verified with mmap(2) on /dev/shm (see MmapTests).
        if description.isPathOnly { return Self.errno(.badFileDescriptor) }
        if flags & Self.MAP_HUGETLB != 0 { return Self.errno(.invalidArgument) }
        if call.address(1) == 0 { return Self.errno(.invalidArgument) }
        let type = flags & Self.MAP_TYPE
        let shared = type == Self.MAP_SHARED || type == Self.MAP_SHARED_VALIDATE
        // A noexec VFS mount: PROT_EXEC is EPERM, as path_noexec makes it.
        let noExec = description.location.mount.flags.contains(.noExec) && prot & Self.PROT_EXEC != 0
        let source = description.impl.mappingSource()
        if case .hostDescriptor(let hostFD) = source {
            if noExec { return Self.errno(.notPermitted) }
            // The kernel makes every other check itself on an fd of the same access mode.
            return install(call, hostFD, mode: description.openFlags.accessMode, entry: entry)
        }
        guard shared || type == Self.MAP_PRIVATE else { return Self.errno(.invalidArgument) }
        if shared && prot & Self.PROT_WRITE != 0 && !description.isWritable {
            return Self.errno(.permissionDenied)
        }
        if !description.isReadable { return Self.errno(.permissionDenied) }
        if noExec { return Self.errno(.notPermitted) }
        // A copy reads like the file, but writes through a shared mapping of it would not reach
        // the file: a shared mapping is served only when nothing can ever write through it,
        // no PROT_WRITE and a read-only descriptor (the copy is installed read-only, so
        // mprotect cannot add PROT_WRITE: EACCES, as Linux).
        let neverWritten = prot & Self.PROT_WRITE == 0 && !description.isWritable
        guard source == .copyOfContents, !shared || neverWritten else {
            return Self.errno(.operationNotSupportedByDevice)
        }
        let live: LiveCopy?
        do throws(Errno) {
            live = try liveCopy(call, description)
        } catch {
            return Self.errno(error)
        }
        if let live {
            return install(call, live.memfd, mode: O_RDONLY, entry: entry)
        }
        // A file that cannot keep a copy current: a snapshot, for private mappings only.
        if shared { return Self.errno(.operationNotSupportedByDevice) }
        let copy: Int32
        do throws(Errno) {
            copy = try copyContents(call, description)
        } catch {
            return .value(-Int64(error.rawValue))
        }
        defer { close(copy) }
        return install(call, copy, mode: O_RDONLY, entry: entry)
    }

    /// Puts `source` (reopened first if its access mode is not `mode`) at the descriptor's
    /// number in the program, then lets the kernel run the mmap.
    private func install(_ call: Call, _ source: Int32, mode: Int32, entry: FileTable.Entry) -> Outcome {
        var fd = source
        var reopened: Int32 = -1
        defer { if reopened >= 0 { close(reopened) } }
        let current = Glibc.fcntl(source, F_GETFL)
        guard current >= 0 else { return Self.errno(.operationNotSupportedByDevice) }
        if current & O_ACCMODE != mode & O_ACCMODE {
            reopened = Glibc.open("/proc/self/fd/\(source)", (mode & O_ACCMODE) | O_CLOEXEC)
            guard reopened >= 0 else { return .value(-Int64(Glibc.errno)) }
            fd = reopened
        }
        var status = stat()
        guard fstat(fd, &status) == 0 else { return .value(-Int64(Glibc.errno)) }
        guard vfs_notif_id_valid(listener, call.notification.id) == 1 else {
            return Self.errno(.noSuchProcess)
        }
        let real = vfs_notif_add_fd(
            listener, call.notification.id, fd, call.int32(4), entry.closeOnExec ? 1 : 0)
        guard real >= 0 else { return .value(Int64(real)) }
        mappedFiles.insert(FileIdentity(device: UInt64(status.st_dev), inode: UInt64(status.st_ino)))
        return .passThrough
    }

    /// A sealed memfd holding the file's contents as they are now (holes stay holes), reopened
    /// read-only. Named after the file's VFS path, which /proc/PID/maps then shows. For files
    /// that cannot keep a live copy (`liveCopy` is nil).
    private func copyContents(_ call: Call, _ description: FileDescription) throws(Errno) -> Int32 {
        let task = call.process.task
        var name = "vfs:"
        if let path = try? task.vfs.pathname(of: description.location, root: task.fs.root) {
            name += String(decoding: path.prefix(200), as: UTF8.self)
        }
        let memfd = vfs_memfd_create(name)
        guard memfd >= 0 else { throw Errno(rawValue: -memfd) }
        defer { close(memfd) }
        let impl = description.impl
        let size = try impl.endOffset()
        guard ftruncate(memfd, off_t(size)) == 0 else { throw Errno(rawValue: Glibc.errno) }
        try DataExtents.forEachChunk(
            size: size,
            nextData: { (position) throws(Errno) -> (start: Int64, end: Int64)? in
                // A file system without SEEK_DATA is all data.
                do throws(Errno) {
                    let start = try impl.seekDataOrHole(.data, from: position)
                    return (start, min(size, (try? impl.seekDataOrHole(.hole, from: start)) ?? size))
                } catch {
                    return error == .noSuchAddressOrDevice ? nil : (position, size)
                }
            },
            read: { buffer, offset throws(Errno) in try impl.read(into: buffer, at: offset) }
        ) { (bytes, offset) throws(Errno) in
            var written = 0
            while written < bytes.count {
                let n = pwrite(
                    memfd, bytes.baseAddress.map { $0 + written }, bytes.count - written,
                    off_t(offset) + off_t(written))
                guard n > 0 else { throw Errno(rawValue: n < 0 ? Glibc.errno : EIO) }
                written += n
            }
        }
        let sealed = vfs_memfd_seal(memfd)
        guard sealed == 0 else { throw Errno(rawValue: -sealed) }
        let reopened = Glibc.open("/proc/self/fd/\(memfd)", O_RDONLY | O_CLOEXEC)
        guard reopened >= 0 else { throw Errno(rawValue: Glibc.errno) }
        return reopened
    }

    /// Whether the program's `fd` holds what the supervisor put there for a VFS descriptor: a
    /// placeholder, or a file installed for a mapping.
    func isStandIn(pid: Int32, fd: Int32) -> Bool {
        if ProcFS.isPlaceholder(pid: pid, fd: fd, name: placeholderName) { return true }
        guard !mappedFiles.isEmpty else { return false }
        var status = stat()
        guard stat("/proc/\(pid)/fd/\(fd)", &status) == 0 else { return false }
        return mappedFiles.contains(
            FileIdentity(device: UInt64(status.st_dev), inode: UInt64(status.st_ino)))
    }

    /// The program's descriptors that stand for VFS descriptors.
    func standInDescriptors(of pid: Int32) -> Set<Int32> {
        Set(ProcFS.openDescriptors(of: pid).filter { isStandIn(pid: pid, fd: $0) })
    }
}

/// A host file by device and inode.
struct FileIdentity: Hashable {
    var device: UInt64
    var inode: UInt64
}

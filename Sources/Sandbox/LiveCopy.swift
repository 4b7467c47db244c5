import CSandboxSupport
import Glibc
import HostSyscalls
import VFSCore

/// A memfd kept equal to a tmpfs file while programs may map it (see Supervisor+Mmap.swift).
///
/// The copy is attached to the file (`FileDescriptionImpl.observeContents`): the file system
/// tells it its contents at once, then every write, truncate and hole punch made through any
/// description of the file — from any process of the sandbox, any name or hard link — in the
/// order they happen, under the file's data lock. So a mapping of the memfd (shared or
/// private: a private mapping's pages not yet written by the program keep following the file,
/// as on Linux) reads what the VFS would read.
///
/// Only the supervisor holds a writable descriptor of the memfd (`memfd`, never given out);
/// the program always gets a read-only one (`Supervisor.install`), so nothing the program does
/// to that number — write, ftruncate, a writable shared mapping, io_uring — can change the
/// copy behind the VFS's back (the kernel answers EBADF, EACCES or EPERM itself); the memfd's
/// mode is 0400, so only a program with CAP_DAC_OVERRIDE could reopen it for writing through
/// /proc/PID/fd/N of another process (its own /proc/self/fd/N leads to the VFS file).
///
/// The copy holds its description's implementation weakly: the file stays the program's to
/// unlink and free (tmpfs gives its space back once no descriptor is open, as Linux does once
/// no mapping is left either; a file nobody can open any more does not change, so mappings
/// keep reading its last bytes). The file's observer list holds the copy until it is dropped.
///
/// A mirror that fails (the host out of memory) empties the copy: every mapping of it then
/// faults with SIGBUS at its next access of a missing page rather than reading stale bytes,
/// and the next mmap makes a fresh copy.
final class LiveCopy: FileContentObserver {
    /// Read-write; the supervisor's only; -1 once dropped.
    private(set) var memfd: Int32
    /// The memfd's device and inode, as /proc/PID/maps and stat of /proc/PID/fd/N show it.
    let identity: FileIdentity
    /// The description the copy was attached through (its file is the one observed).
    private weak var impl: (any FileDescriptionImpl)?
    private(set) var failed = false

    private static let FALLOC_FL_KEEP_SIZE: Int32 = 0x01
    private static let FALLOC_FL_PUNCH_HOLE: Int32 = 0x02

    /// A memfd named after `name` (what /proc/PID/maps shows), attached to the file of `impl`.
    init(name: String, impl: any FileDescriptionImpl) throws(Errno) {
        let memfd = vfs_memfd_create(name)
        guard memfd >= 0 else { throw Errno(rawValue: -memfd) }
        // Owner read-only: an unprivileged program cannot reopen it for writing through
        // /proc/PID/fd/N either (the supervisor's own descriptor stays read-write).
        var status = stat()
        guard fchmod(memfd, 0o400) == 0, fstat(memfd, &status) == 0 else {
            let error = Errno(rawValue: Glibc.errno)
            close(memfd)
            throw error
        }
        self.memfd = memfd
        self.identity = FileIdentity(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
        self.impl = impl
        do throws(Errno) {
            try impl.observeContents(self)
        } catch {
            close(memfd)
            throw error
        }
        if failed {
            impl.stopObservingContents(self)
            close(memfd)
            throw Errno(rawValue: ENOMEM)
        }
    }

    /// Closes the supervisor's descriptor (mappings and program descriptors of the memfd keep
    /// its pages; nothing updates them any more) and detaches from the file if the description
    /// is still there; false if it is not: the file's list then holds an inert copy until
    /// another description of the file detaches it (`Supervisor.undetachedCopies`).
    func drop() -> Bool {
        if memfd >= 0 { close(memfd) }
        memfd = -1
        guard let impl else { return false }
        impl.stopObservingContents(self)
        return true
    }

    deinit {
        if memfd >= 0 { close(memfd) }
    }

    func contentsWritten(_ bytes: UnsafeRawBufferPointer, at offset: Int64) {
        guard !failed, memfd >= 0, let base = bytes.baseAddress else { return }
        var written = 0
        while written < bytes.count {
            let n = pwrite(memfd, base + written, bytes.count - written, off_t(offset) + off_t(written))
            if n < 0 && Glibc.errno == EINTR { continue }
            guard n > 0 else { return fail() }
            written += n
        }
    }

    func contentsZeroed(offset: Int64, length: Int64) {
        guard !failed, memfd >= 0 else { return }
        do throws(Errno) {
            try HostSyscall.fallocate(
                memfd, mode: Self.FALLOC_FL_PUNCH_HOLE | Self.FALLOC_FL_KEEP_SIZE, offset: offset,
                length: length)
        } catch {
            fail()
        }
    }

    func sizeChanged(to size: Int64) {
        guard !failed, memfd >= 0 else { return }
        if ftruncate(memfd, off_t(size)) != 0 { fail() }
    }

    private func fail() {
        failed = true
        if memfd >= 0 { _ = ftruncate(memfd, 0) }
    }
}

extension Supervisor {
    /// The live copy of the tmpfs file `description` is open on, made (and attached) if there
    /// is none or the one there failed. Nil when the file cannot keep a copy current (a gofer
    /// file without a host descriptor): the caller then makes a sealed snapshot, and refuses
    /// shared mappings.
    func liveCopy(_ call: Call, _ description: FileDescription) throws(Errno) -> LiveCopy? {
        let status = try description.stat()
        let key = FileIdentity(device: status.dev, inode: status.inode)
        if let copy = liveCopies[key] {
            if !copy.failed { return copy }
            dropCopy(key)
        }
        for inert in undetachedCopies.removeValue(forKey: key) ?? [] {
            description.impl.stopObservingContents(inert)
        }
        if liveCopies.count >= copySweepThreshold {
            sweepCopies()
            copySweepThreshold = max(Self.minimumSweepThreshold, 2 * liveCopies.count)
        }
        let task = call.process.task
        var name = "vfs:"
        if let path = try? task.vfs.pathname(of: description.location, root: task.fs.root) {
            name += String(decoding: path.prefix(200), as: UTF8.self)
        }
        let copy: LiveCopy
        do throws(Errno) {
            copy = try LiveCopy(name: name, impl: description.impl)
        } catch {
            if error == .operationNotSupportedByDevice { return nil }
            throw error
        }
        liveCopies[key] = copy
        return copy
    }

    static let minimumSweepThreshold = 32

    private func dropCopy(_ key: FileIdentity) {
        guard let copy = liveCopies.removeValue(forKey: key) else { return }
        mappedFiles.remove(copy.identity)
        if !copy.drop() { undetachedCopies[key, default: []].append(copy) }
    }

    /// Drops every live copy no process on the host still maps or holds open (other than the
    /// supervisor): the supervisor cannot see munmap, nor a forked child that has not made a
    /// trapped call yet, so it looks at every process /proc shows, for the memfd's device and
    /// inode in its maps and its descriptors. A copy some process has is kept; so is any copy
    /// when /proc cannot be read (nothing is dropped on a guess).
    func sweepCopies() {
        guard !liveCopies.isEmpty, let proc = opendir("/proc") else { return }
        defer { closedir(proc) }
        var inUse: Set<FileIdentity> = []
        let ours = Set(liveCopies.values.map(\.identity))
        let me = getpid()
        while let entry = readdir(proc) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let pid = Int32(name), pid != me else { continue }
            inUse.formUnion(Self.mappedMemfds(pid: pid, among: ours))
            for fd in ProcFS.openDescriptors(of: pid) {
                guard let link = ProcFS.readLink("/proc/\(pid)/fd/\(fd)"),
                    link.starts(with: Array("/memfd:vfs:".utf8))
                else { continue }
                var status = stat()
                guard stat("/proc/\(pid)/fd/\(fd)", &status) == 0 else { continue }
                inUse.insert(FileIdentity(device: UInt64(status.st_dev), inode: UInt64(status.st_ino)))
            }
        }
        for (key, copy) in liveCopies where !inUse.contains(copy.identity) {
            dropCopy(key)
        }
    }

    /// Which of `ours` appear in /proc/PID/maps ("start-end perms offset MAJ:MIN inode path").
    private static func mappedMemfds(pid: Int32, among ours: Set<FileIdentity>) -> Set<FileIdentity> {
        guard let file = fopen("/proc/\(pid)/maps", "r") else { return [] }
        defer { fclose(file) }
        var found: Set<FileIdentity> = []
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0 {
            guard let line else { break }
            let text = String(cString: line)
            guard text.contains("/memfd:vfs:") else { continue }
            let fields = text.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6 else { continue }
            let device = fields[3].split(separator: ":")
            guard device.count == 2, let major = UInt64(device[0], radix: 16),
                let minor = UInt64(device[1], radix: 16), let inode = UInt64(fields[4])
            else { continue }
            // glibc's makedev encoding, as st_dev has it.
            let encoded =
                (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12)
                | ((major & ~0xfff) << 32)
            let identity = FileIdentity(device: encoded, inode: inode)
            if ours.contains(identity) { found.insert(identity) }
        }
        return found
    }
}

import HostSyscalls
import LISAFS
import Synchronization
import VFSCore

extension GoferFilesystem {
    /// Opens a resolved file with one OpenAt on its control FDID (or takes the open FDID an
    /// OpenCreateAt just made). Regular files get the host fd the gofer donates and are read and
    /// written through it directly (PRead/PWrite RPCs only without one); directories are read
    /// with Getdents64. The gofer serves no FIFOs (fsgofer refuses host FIFOs by default), and
    /// sockets and device nodes are ENXIO as in the other backends here.
    public func open(_ location: VirtualDentry, options: OpenOptions, credentials: Credentials)
        throws(Errno) -> any FileDescriptionImpl
    {
        let dentry = try own(location.dentry)
        if options.isPathOnly { return GoferInertFile(dentry: dentry) }
        let access = UInt32(options.accessMode & 3)
        switch dentry.fileType {
        case .regular:
            var openFD: FDID
            var openGeneration: UInt64
            var hostFD: HostFD?
            if let pending = dentry.takePendingOpen(), pending.accessMode == access,
                pending.generation == generation
            {
                (openFD, openGeneration, hostFD) = (pending.openFD, pending.generation, pending.hostFD)
            } else {
                let result = try call(OpenAtRequest(fd: try controlFD(dentry), flags: access))
                openFD = result.response.openFD
                openGeneration = generation
                hostFD = result.fds.first?.take().map { HostFD(adopting: $0.rawValue) }
            }
            if self.options.ignoreDonatedFDs { hostFD = nil }
            // LISAFS opens carry the access mode only; O_NOATIME is set on the donated fd.
            if let hostFD { forwardStatusFlags(hostFD, options.flags) }
            return GoferRegularFile(
                filesystem: self, dentry: dentry, openFD: openFD, generation: openGeneration,
                hostFD: hostFD)
        case .directory:
            let result = try call(OpenAtRequest(fd: try controlFD(dentry), flags: 0))
            return GoferDirectoryFile(
                filesystem: self, dentry: dentry, openFD: result.response.openFD,
                generation: generation)
        case .symlink:
            throw .tooManySymbolicLinkLevels
        case .fifo:
            guard let pipe = dentry.fifo else { throw .noSuchAddressOrDevice }
            return GoferFifoFile(
                pipe: try PipeFile(pipe: pipe, options: options, isFIFO: true), dentry: dentry)
        case .socket, .characterDevice, .blockDevice:
            throw .noSuchAddressOrDevice
        }
    }
}

/// O_PATH: no I/O.
final class GoferInertFile: FileDescriptionImpl {
    let dentry: GoferDentry
    init(dentry: GoferDentry) { self.dentry = dentry }
}

/// What every open gofer file has: its open FDID (valid on one connection generation).
class GoferOpenFile: @unchecked Sendable {
    let filesystem: GoferFilesystem
    let dentry: GoferDentry
    let openFD: FDID
    let generation: UInt64

    init(filesystem: GoferFilesystem, dentry: GoferDentry, openFD: FDID, generation: UInt64) {
        self.filesystem = filesystem
        self.dentry = dentry
        self.openFD = openFD
        self.generation = generation
    }

    /// The open FDID, or EIO once the connection it was opened on has been replaced.
    func currentOpenFD() throws(Errno) -> FDID {
        guard generation == filesystem.generation else { throw .ioError }
        return openFD
    }

    func releaseOpenFD() {
        filesystem.closer.enqueue(openFD, generation: generation)
    }
}

/// An open regular file: positional I/O on the donated host fd, else PRead/PWrite RPCs. The
/// description's offset is the core's.
final class GoferRegularFile: GoferOpenFile, FileDescriptionImpl, @unchecked Sendable {
    let hostFD: HostFD?

    init(filesystem: GoferFilesystem, dentry: GoferDentry, openFD: FDID, generation: UInt64, hostFD: HostFD?) {
        self.hostFD = hostFD
        super.init(filesystem: filesystem, dentry: dentry, openFD: openFD, generation: generation)
    }

    func release() { releaseOpenFD() }

    func statusFlagsChanged(_ flags: Int32) {
        if let hostFD { forwardStatusFlags(hostFD, flags) }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        // A read stamps atime on the host (its mount's rules): the cached attributes are stale.
        defer { filesystem.invalidate(dentry) }
        if let hostFD { return try HostSyscall.pread(hostFD.rawValue, into: buffer, at: offset) }
        var total = 0
        while total < buffer.count {
            let want = min(buffer.count - total, filesystem.maxIOChunk)
            let data = try filesystem.call(
                PReadRequest(
                    fd: try currentOpenFD(), offset: UInt64(offset) + UInt64(total),
                    count: UInt32(want))
            ).response.data
            let got = min(data.count, want)
            data.withUnsafeBytes { source in
                if let base = buffer.baseAddress, let from = source.baseAddress, got > 0 {
                    (base + total).copyMemory(from: from, byteCount: got)
                }
            }
            total += got
            if got < want { break }
        }
        return total
    }

    /// pwrite at `offset`, or with `append` pwritev2(RWF_APPEND) on the donated fd (atomic with
    /// finding the end on the host). A writer without CAP_FSETID loses set-ID bits as in Linux
    /// (the gofer, privileged, would keep them): one SetStat then.
    func write(
        from buffer: UnsafeRawBufferPointer, at offset: Int64, append: Bool,
        credentials: Credentials
    ) throws(Errno) -> (count: Int, end: Int64) {
        guard buffer.count > 0 else { return (0, offset) }
        let before = try filesystem.attributes(dentry)
        defer { filesystem.invalidate(dentry) }
        let count: Int
        let end: Int64
        if let hostFD {
            if append {
                count = try HostSyscall.pwritev2(hostFD.rawValue, from: buffer, at: -1, flags: 0x10)
                end = try HostSyscall.lseek(hostFD.rawValue, 0, whence: 1)
            } else {
                count = try HostSyscall.pwrite(hostFD.rawValue, from: buffer, at: offset)
                end = offset + Int64(count)
            }
        } else {
            let start = append ? try endOffset() : offset
            var total = 0
            while total < buffer.count {
                let chunk = min(buffer.count - total, filesystem.maxIOChunk)
                let bytes = Array(UnsafeRawBufferPointer(rebasing: buffer[total..<(total + chunk)]))
                let written = try filesystem.call(
                    PWriteRequest(
                        fd: try currentOpenFD(), offset: UInt64(start) + UInt64(total), data: bytes)
                ).response.count
                total += Int(min(written, UInt64(chunk)))
                if written < UInt64(chunk) { break }
            }
            count = total
            end = start + Int64(total)
        }
        try stripPrivileges(credentials, before)
        return (count, end)
    }

    private func stripPrivileges(_ credentials: Credentials, _ before: LISAFSStatx) throws(Errno) {
        guard !credentials.has(.fsetid) else { return }
        if let stripped = Permissions.modeAfterWrite(credentials, filesystem.ownership(of: before)) {
            let response = try filesystem.call(
                SetStatRequest(
                    fd: try filesystem.controlFD(dentry), mask: SetStatMask.mode,
                    mode: stripped.permissions)
            ).response
            if response.failureMask != 0 {
                throw Errno(rawValue: Int32(bitPattern: response.failureErrno))
            }
        }
    }

    func endOffset() throws(Errno) -> Int64 {
        if let hostFD { return try HostSyscall.statx(hostFD.rawValue).size }
        let stat = try filesystem.call(FStatRequest(fd: try currentOpenFD())).response.stat
        return Int64(bitPattern: stat.size)
    }

    /// SEEK_DATA / SEEK_HOLE on the donated fd; without one the file is all data up to its end.
    func seekDataOrHole(_ whence: SeekWhence, from offset: Int64) throws(Errno) -> Int64 {
        if let hostFD { return try HostSyscall.lseek(hostFD.rawValue, offset, whence: whence.rawValue) }
        let size = try endOffset()
        guard offset < size else { throw .noSuchAddressOrDevice }
        return whence == .data ? offset : size
    }

    /// One FAllocate RPC on the open FDID.
    func allocate(
        mode: AllocateMode, offset: Int64, length: Int64, credentials: Credentials
    ) throws(Errno) {
        let before = try filesystem.attributes(dentry)
        defer { filesystem.invalidate(dentry) }
        _ = try filesystem.call(
            FAllocateRequest(
                fd: try currentOpenFD(), mode: UInt64(UInt32(bitPattern: mode.rawValue)),
                offset: UInt64(bitPattern: offset), length: UInt64(bitPattern: length)))
        try stripPrivileges(credentials, before)
    }

    /// One FSync RPC on the open FDID.
    func sync(dataOnly: Bool) throws(Errno) {
        _ = try filesystem.call(FSyncRequest(fds: [try currentOpenFD()]))
    }
}

/// An open directory: Getdents64 on the open FDID. The gofer leaves out `.` and `..`; they
/// are made here (positions 1 and 2). A position counts entries: after the n-th of the
/// gofer's, it is 2 + n (the host's d_off cookies are not used: Getdents64 can only restart
/// from the beginning, with a negative count). Entries fetched and not yet taken are kept, and
/// a seek anywhere but the current position rereads from the start and skips that many.
final class GoferDirectoryFile: GoferOpenFile, FileDescriptionImpl, @unchecked Sendable {
    private struct Cursor {
        /// The position the next entry in `buffered` (or from the gofer) follows.
        var position: Int64 = 0
        var buffered: [Dirent64] = []
        var bufferedIndex = 0
        /// The gofer's fd has been read from since its last rewind.
        var started = false
        var exhausted = false
        var syntheticListed = false
    }
    private let cursor = Mutex(Cursor())

    func release() { releaseOpenFD() }

    /// read(2) of a directory is EISDIR (`generic_read_dir`).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        throw .isDirectory
    }

    func readDirectory(from position: Int64, _ emit: (DirectoryEntry) -> Bool) throws(Errno)
        -> Int64
    {
        // iterate_dir: a removed directory has no entries to read, ENOENT.
        if dentry.isDeleted { throw .noSuchFileOrDirectory }
        var state = cursor.withLock { $0 }
        defer {
            let final = state
            cursor.withLock { $0 = final }
        }
        if position == GoferDirectoryFile.endPosition { return position }
        if position != state.position || position < 2 {
            // Rewind the gofer's fd and skip the entries before `position`.
            state = Cursor()
            var skipped: Int64 = 2
            while skipped < position, try next(&state) != nil { skipped += 1 }
            state.position = max(0, min(position, skipped))
        }
        filesystem.invalidate(dentry)
        if state.position == 0 {
            let me = DirectoryEntry(
                name: Name(unchecked: [0x2E][...]), type: .directory, inode: dentry.ino,
                nextOffset: 1)
            if !emit(me) { return 0 }
            state.position = 1
        }
        if state.position == 1 {
            let parent = dentry.parent ?? dentry
            let up = DirectoryEntry(
                name: Name(unchecked: [0x2E, 0x2E][...]), type: .directory, inode: parent.ino,
                nextOffset: 2)
            if !emit(up) { return 1 }
            state.position = 2
        }
        while let entry = try peek(&state) {
            let type = VFSCore.FileType(rawValue: UInt32(entry.type) << 12) ?? .regular
            let accepted = emit(
                DirectoryEntry(
                    name: Name(unchecked: entry.name.bytes[...]), type: type, inode: entry.ino,
                    nextOffset: state.position + 1))
            if !accepted { return state.position }
            state.bufferedIndex += 1
            state.position += 1
        }
        // At the end, the position is INT32_MAX, as tmpfs leaves it (offset_dir_llseek's
        // end marker); reading from there gives nothing more.
        state.position = GoferDirectoryFile.endPosition
        return state.position
    }

    static let endPosition = Int64(Int32.max)

    /// The next gofer entry without taking it (fetching a batch when none is buffered).
    private func peek(_ state: inout Cursor) throws(Errno) -> Dirent64? {
        if state.bufferedIndex < state.buffered.count { return state.buffered[state.bufferedIndex] }
        if state.exhausted { return nil }
        let count: Int32 = state.started ? 65536 : -65536
        let entries = try filesystem.call(
            Getdents64Request(dirFD: try currentOpenFD(), count: count)
        ).response.dirents
        state.started = true
        state.buffered = entries
        state.bufferedIndex = 0
        if entries.isEmpty {
            state.exhausted = true
            // Then the synthetic children, which only this client knows.
            if !state.syntheticListed {
                state.syntheticListed = true
                state.buffered = dentry.syntheticChildren.withLock { children in
                    children.map { name, child in
                        Dirent64(
                            ino: child.ino, devMinor: 0, devMajor: 0, off: 0,
                            type: child.fileType.directoryEntryType,
                            name: SizedString(bytes: Array(name.bytes)))
                    }
                }
                return state.buffered.first
            }
            return nil
        }
        return entries[0]
    }

    private func next(_ state: inout Cursor) throws(Errno) -> Dirent64? {
        guard let entry = try peek(&state) else { return nil }
        state.bufferedIndex += 1
        return entry
    }
}

/// An open synthetic FIFO: its in-memory pipe, plus the timestamps Linux keeps on a FIFO's
/// inode (a read that returns data stamps atime under relatime; a write that moves data
/// stamps mtime and ctime).
final class GoferFifoFile: FileDescriptionImpl {
    let pipe: PipeFile
    let dentry: GoferDentry

    init(pipe: PipeFile, dentry: GoferDentry) {
        self.pipe = pipe
        self.dentry = dentry
    }

    var isSeekable: Bool { false }
    var pipeEnd: PipeFile? { pipe }

    func statusFlagsChanged(_ flags: Int32) { pipe.statusFlagsChanged(flags) }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        let count = try pipe.read(into: buffer, at: offset)
        if count > 0 {
            let now = GoferFilesystem.wireNow()
            dentry.updateSynthetic { stat in
                func before(_ a: StatxTimestamp, _ b: StatxTimestamp) -> Bool {
                    a.sec < b.sec || (a.sec == b.sec && a.nsec <= b.nsec)
                }
                if before(stat.atime, stat.mtime) || before(stat.atime, stat.ctime)
                    || now.sec - stat.atime.sec >= 24 * 60 * 60
                {
                    stat.atime = now
                }
            }
        }
        return count
    }

    func write(
        from buffer: UnsafeRawBufferPointer, at offset: Int64, append: Bool,
        credentials: Credentials
    ) throws(Errno) -> (count: Int, end: Int64) {
        let result = try pipe.write(from: buffer, at: offset, append: append, credentials: credentials)
        if result.count > 0 {
            let now = GoferFilesystem.wireNow()
            dentry.updateSynthetic {
                $0.mtime = now
                $0.ctime = now
            }
        }
        return result
    }

    func release() { pipe.release() }
}

/// O_NOATIME (from open or F_SETFL) onto a donated host fd, so the host's reads leave atime
/// alone as Linux would (best effort: the gofer's open file description is shared).
private func forwardStatusFlags(_ fd: HostFD, _ flags: Int32) {
    let forwarded = OpenOptions.noAccessTime
    guard let current = try? HostSyscall.fcntl(fd.rawValue, 3) else { return }  // F_GETFL
    let updated = (Int32(truncatingIfNeeded: current) & ~forwarded) | (flags & forwarded)
    _ = try? HostSyscall.fcntl(fd.rawValue, 4, Int(updated))  // F_SETFL
}

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
            // O_NOATIME rides along (our gofer opens its host fd with it, so its Getdents64
            // leave atime alone as Linux's reads do; fsgofer ignores the extra flag). An
            // F_SETFL after the open cannot reach that fd: the host then stamps atime.
            let noAccessTime = UInt32(bitPattern: options.flags & OpenOptions.noAccessTime)
            let result = try call(OpenAtRequest(fd: try controlFD(dentry), flags: noAccessTime))
            return GoferDirectoryFile(
                filesystem: self, dentry: dentry, openFD: result.response.openFD,
                generation: generation)
        case .symlink:
            throw .tooManySymbolicLinkLevels
        case .fifo:
            guard let pipe = dentry.fifo else { throw .noSuchAddressOrDevice }
            return FifoFile(
                pipe: try PipeFile(pipe: pipe, options: options, isFIFO: true),
                events: GoferFifoEvents(dentry: dentry), options: options)
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

    /// The donated fd (opened by the gofer with the description's access mode); without one,
    /// a copy. Writes through a shared mapping bypass this client, so cached attributes (mtime)
    /// can lag until the next read or write refreshes them.
    func mappingSource() -> MappingSource? {
        hostFD.map { .hostDescriptor($0.rawValue) } ?? .copyOfContents
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        // A read stamps atime on the host (its mount's rules): the cached attributes are stale.
        defer { filesystem.invalidateContents(dentry) }
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
        // Only a writer without CAP_FSETID needs the mode before the write (to strip set-ID
        // bits): anyone else writes without an FStat, straight to the donated fd.
        let before = credentials.has(.fsetid) ? nil : try filesystem.attributes(dentry)
        defer { filesystem.invalidateContents(dentry) }
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

    private func stripPrivileges(_ credentials: Credentials, _ before: LISAFSStatx?) throws(Errno) {
        guard !credentials.has(.fsetid), let before else { return }
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

/// An open directory: Getdents64 on the open FDID. Positions are the host's: `.` is at 0 and
/// `..` at 1 (made here: the gofer leaves out `.` and `..`, as fsgofer does, so the position
/// after `..` is 2, where Linux gives `..`'s d_off), and every other position is a d_off
/// cookie the gofer passed on from the host's getdents64, so telldir/lseek after an entry
/// give what Linux gives on the host directory. Reading from a cookie P resumes as the host would: Getdents64 can only go on
/// or restart (a negative count), so a seek rewinds, reads the listing and resumes where
/// tmpfs would (`resume`); 2 lists every entry; INT32_MAX is the end. Entries fetched and
/// not yet taken are kept. The
/// synthetic children, which the host never saw, are listed last, at the end position.
final class GoferDirectoryFile: GoferOpenFile, FileDescriptionImpl, @unchecked Sendable {
    private struct Cursor {
        /// The position of the next entry (what lseek(SEEK_CUR) answers).
        var position: Int64 = 0
        var buffered: [Dirent64] = []
        var bufferedIndex = 0
        /// The host cookie before the next buffered entry (the d_off of the record before it).
        var previousCookie: Int64?
        /// The d_off of the host's `..` record: the position after `..`.
        var dotDotCookie: Int64?
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
        let end = GoferDirectoryFile.endPosition
        if position != state.position || position < 2 {
            // At the end marker there is nothing more (offset_readdir). A position beyond it
            // (lseek past the end) is looked up like any other (offset_dir_lookup: the entry
            // with the largest offset below it; Linux 6.18 on tmpfs lists again from there).
            if position == end { return position }
            // Rewind the gofer's fd; from a cookie, find where the host would resume.
            state = Cursor()
            if position >= 3 { try resume(&state, at: position) }
            state.position = position
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
            // `..`'s cookie comes with the gofer's first records.
            _ = try peek(&state)
            let after = state.dotDotCookie ?? 2
            let parent = dentry.parent ?? dentry
            let up = DirectoryEntry(
                name: Name(unchecked: [0x2E, 0x2E][...]), type: .directory, inode: parent.ino,
                nextOffset: after)
            if !emit(up) { return 1 }
            state.position = after
        }
        while let entry = try peek(&state) {
            let type = VFSCore.FileType(rawValue: UInt32(entry.type) << 12) ?? .regular
            let next = state.exhausted ? end : Int64(bitPattern: entry.off)
            let accepted = emit(
                DirectoryEntry(
                    name: Name(unchecked: entry.name.bytes[...]), type: type, inode: entry.ino,
                    nextOffset: next))
            if !accepted { return state.position }
            take(&state)
            state.position = next
        }
        // At the end, the position is INT32_MAX, as tmpfs leaves it (offset_dir_llseek's
        // end marker); reading from there gives nothing more.
        state.position = end
        return state.position
    }

    static let endPosition = Int64(Int32.max)

    /// Reads all the host's entries and keeps those a reader at `position` (≥ 3) gets. Each
    /// entry's own offset is one below the cookie before it (a record's d_off is the next
    /// entry's offset + 1); Linux 6.18's tmpfs resumes at the entry with the largest offset
    /// below the position (at the head when there is none) and goes on in its list order
    /// (newest first; an exchange or a rename moves entries to the head with their offsets,
    /// so the order is not the offsets'), as measured on /dev/shm.
    private func resume(_ state: inout Cursor, at position: Int64) throws(Errno) {
        var entries: [Dirent64] = []
        var offsets: [Int64] = []
        while let entry = try peek(&state), !state.exhausted {
            // The first entry's offset is in the `..` record's d_off, which the gofer leaves
            // out (as fsgofer does): taken as one above the highest other (the newest entry
            // heads the list).
            offsets.append(state.previousCookie.map { $0 &- 1 } ?? -1)
            entries.append(entry)
            take(&state)
        }
        if let first = offsets.first, first < 0 {
            offsets[0] = (offsets.dropFirst().max() ?? 1) &+ 1
        }
        var resumed = Cursor()
        resumed.started = true
        resumed.dotDotCookie = state.dotDotCookie
        var best: Int?
        for index in offsets.indices where offsets[index] < position {
            if best.map({ offsets[index] > offsets[$0] }) ?? true { best = index }
        }
        // No entry below the position: the whole list, from its head (Linux 6.18 on /dev/shm,
        // after renames left the lowest offsets unused).
        let start = best ?? 0
        resumed.buffered = Array(entries[start...])
        resumed.previousCookie = best.map { offsets[$0] &+ 1 } ?? state.dotDotCookie
        // The gofer's fd is at its end: the next fetch answers nothing, then the synthetic
        // children follow.
        state = resumed
    }

    /// Takes the next entry: its cookie is the one before the entry after it.
    private func take(_ state: inout Cursor) {
        guard state.bufferedIndex < state.buffered.count else { return }
        state.previousCookie = Int64(bitPattern: state.buffered[state.bufferedIndex].off)
        state.bufferedIndex += 1
    }

    /// The next entry without taking it (fetching batches while none is buffered). The host's
    /// `.` and `..` records are dropped here (`..`'s cookie is kept); once the gofer has no
    /// more, the synthetic children follow (`exhausted` is then true).
    private func peek(_ state: inout Cursor) throws(Errno) -> Dirent64? {
        while true {
            while state.bufferedIndex < state.buffered.count {
                let entry = state.buffered[state.bufferedIndex]
                let name = entry.name.bytes
                if !state.exhausted && (name == [0x2E] || name == [0x2E, 0x2E]) {
                    if name.count == 2 {
                        state.dotDotCookie = Int64(bitPattern: entry.off)
                        state.previousCookie = state.dotDotCookie
                    }
                    state.bufferedIndex += 1
                    continue
                }
                return entry
            }
            if state.exhausted {
                // Then the synthetic children, which only this client knows.
                guard !state.syntheticListed else { return nil }
                state.syntheticListed = true
                state.buffered = dentry.syntheticChildren.withLock { children in
                    children.map { name, child in
                        Dirent64(
                            ino: child.ino, devMinor: 0, devMajor: 0,
                            off: UInt64(GoferDirectoryFile.endPosition),
                            type: child.fileType.directoryEntryType,
                            name: SizedString(bytes: Array(name.bytes)))
                    }
                }
                state.bufferedIndex = 0
                continue
            }
            let count: Int32 = state.started ? 65536 : -65536
            let entries = try filesystem.call(
                Getdents64Request(dirFD: try currentOpenFD(), count: count)
            ).response.dirents
            state.started = true
            state.buffered = entries
            state.bufferedIndex = 0
            if entries.isEmpty { state.exhausted = true }
        }
    }
}

/// A synthetic FIFO's timestamps, kept in its dentry as Linux keeps them on a FIFO's inode: a
/// read that returns data stamps atime under relatime (unless O_NOATIME: `touch_atime` skips
/// it), a write that moves data stamps mtime and ctime. The open FIFO is VFSCore's `FifoFile`.
struct GoferFifoEvents: FifoInodeEvents {
    let dentry: GoferDentry

    func dataRead(_ count: Int, noAccessTime: Bool) {
        guard !noAccessTime else { return }
        let now = GoferFilesystem.wireNow()
        dentry.updateSynthetic { stat in
            if GoferFilesystem.relatimeStamps(stat, now: now) { stat.atime = now }
        }
    }

    func dataWritten(_ bytes: UnsafeRawBufferPointer) {
        let now = GoferFilesystem.wireNow()
        dentry.updateSynthetic {
            $0.mtime = now
            $0.ctime = now
        }
    }
}

/// O_NOATIME (from open or F_SETFL) onto a donated host fd, so the host's reads leave atime
/// alone as Linux would (best effort: the gofer's open file description is shared).
private func forwardStatusFlags(_ fd: HostFD, _ flags: Int32) {
    let forwarded = OpenOptions.noAccessTime
    guard let current = try? HostSyscall.fcntl(fd.rawValue, 3) else { return }  // F_GETFL
    let updated = (Int32(truncatingIfNeeded: current) & ~forwarded) | (flags & forwarded)
    _ = try? HostSyscall.fcntl(fd.rawValue, 4, Int(updated))  // F_SETFL
}

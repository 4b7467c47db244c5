// OpenAt, OpenCreateAt, MkdirAt, MknodAt, SymlinkAt, LinkAt: the messages that make an open
// FD or a new file. Open flags are cut down to O_ACCMODE|O_TRUNC (pkg/lisafs's
// allowedOpenFlags), plus O_NOATIME for a directory (see `openAt`). A regular file's open
// host fd is donated to the client (a duplicate rides on the response as SCM_RIGHTS); so
// are character devices' (fsgofer does both).
// Creation applies the client's uid/gid with fchownat on the new file and, if a later step
// fails, removes what it made so an Error response leaves no trace.
import CGoferSupport
import Glibc
import LISAFS
import SystemPackage

extension Connection {
    static let allowedOpenFlags = O_ACCMODE | O_TRUNC
    /// O_NOATIME (Glibc does not export it without _GNU_SOURCE).
    static let noAccessTimeFlag: Int32 = 0o1000000

    func openAt(_ request: OpenAtRequest) throws(Errno) -> Reply {
        let id = request.fd
        let flags = Int32(bitPattern: request.flags) & Self.allowedOpenFlags
        let access = flags & O_ACCMODE
        let truncate = flags & O_TRUNC != 0
        if options.readOnly && (access != O_RDONLY || truncate) { throw Errno.readOnlyFileSystem }
        let control = try lookupControl(id)
        if control.isDirectory && (access != O_RDONLY || truncate) { throw Errno.isDirectory }
        if control.isSymlink { throw Errno.invalidArgument }
        // fsgofer refuses host FIFOs unless --host-fifo=open (off by default).
        if control.type == .fifo { throw Errno.notPermitted }
        let hostFD: HostFD
        if control.isDirectory && Int32(bitPattern: request.flags) & Self.noAccessTimeFlag != 0 {
            // A directory opened with O_NOATIME by the client is read (Getdents64) through
            // this fd: with O_NOATIME too, the host's reads leave its atime as Linux's would
            // (the client has checked the caller may ask for it). Beyond allowedOpenFlags,
            // as fsgofer ignores it; without CAP_FOWNER on a file of another owner the host
            // refuses it (EPERM) and the directory is opened as before.
            do throws(Errno) {
                hostFD = try Host.reopen(
                    control.fd, procSelfFD: server.procSelfFD.raw, flags: flags | Self.noAccessTimeFlag)
            } catch Errno.notPermitted {
                hostFD = try Host.reopen(control.fd, procSelfFD: server.procSelfFD.raw, flags: flags)
            }
        } else {
            hostFD = try Host.reopen(control.fd, procSelfFD: server.procSelfFD.raw, flags: flags)
        }
        var donated: [HostFD] = []
        if control.type == .regular || control.type == .characterDevice {
            donated.append(try Host.dup(hostFD))
        }
        let openID = try insert(.open(OpenFile(fd: hostFD, control: control, flags: flags)))
        return Reply(OpenAtResponse(openFD: openID), fds: donated)
    }

    /// The permission bits of a create request's u16 mode.
    static func permissions(_ mode: UInt16) -> mode_t { mode_t(mode & 0o7777) }

    /// Looks up a create request's parent: a control FD on a directory.
    func createParent(_ id: FDID) throws(Errno) -> ControlFile {
        let dir = try lookupControl(id)
        guard dir.isDirectory else { throw Errno.notDirectory }
        return dir
    }

    func chown(_ fd: HostFD, uid: UInt32, gid: UInt32) throws(Errno) {
        _ = try Host.check(Glibc.fchownat(fd.raw, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
    }

    /// Removes `name` from `dir` after a failed creation (best effort, as fsgofer).
    func undoCreate(_ dir: ControlFile, _ name: HostName, directory: Bool = false) {
        _ = name.withCString { Glibc.unlinkat(dir.fd.raw, $0, directory ? AT_REMOVEDIR : 0) }
    }

    /// Adds a control FD for a new child; returns it and its Inode.
    func inode(_ fd: HostFD, stat: LISAFSStatx, type: FileType) throws(Errno) -> (ControlFile, LISAFS.Inode) {
        let file = ControlFile(fd: fd, type: type)
        let id = try insert(.control(file))
        return (file, LISAFS.Inode(controlFD: id, stat: stat))
    }

    /// Called after the read-only check (see `Connection.mutatingMessages`).
    func openCreateAt(_ request: OpenCreateAtRequest) throws(Errno) -> Reply {
        if options.supportsTemporaryFiles && request.name.bytes.isEmpty
            && Int32(bitPattern: request.flags) & Self.temporaryFileFlag == Self.temporaryFileFlag
        {
            return try openTemporaryFile(request)
        }
        let flags = Int32(bitPattern: request.flags) & Self.allowedOpenFlags
        let name = try validatedName(request.name.bytes)
        let dir = try createParent(request.dirFD)
        guard fdCount + 2 <= options.maxFDsPerConnection else { throw Errno.tooManyOpenFiles }
        // Creating with the client's access mode directly: a new file is opened by its creator
        // without a permission check, whatever its mode.
        let openFD = try Host.openAt(
            dir.fd.raw, name, O_CREAT | O_EXCL | O_NONBLOCK | flags, mode: Self.permissions(request.mode))
        do throws(Errno) {
            let control = try Host.reopen(openFD, procSelfFD: server.procSelfFD.raw, flags: O_PATH)
            try chown(control, uid: request.uid, gid: request.gid)
            // Clear O_NONBLOCK again: it only kept the create from blocking.
            _ = try Host.check(Glibc.fcntl(openFD.raw, F_SETFL, flags & ~O_ACCMODE))
            let stat = try Host.statx(control.raw)
            let donated = try Host.dup(openFD)
            let (file, child) = try inode(control, stat: stat, type: .regular)
            let openID = try insert(.open(OpenFile(fd: openFD, control: file, flags: flags)))
            return Reply(OpenCreateAtResponse(child: child, newOpenFD: openID), fds: [donated])
        } catch {
            undoCreate(dir, name)
            throw error
        }
    }

    /// O_TMPFILE (__O_TMPFILE | O_DIRECTORY; Glibc does not export it without _GNU_SOURCE).
    static let temporaryFileFlag: Int32 = 0o20200000

    /// This server's extension of OpenCreateAt for O_TMPFILE, which LISAFS has no message for:
    /// an empty name with O_TMPFILE in the flags makes an unnamed regular file in the directory
    /// (`openat(dir, ".", O_TMPFILE | access [| O_EXCL])`), owned by the request's uid/gid and
    /// answered as any OpenCreateAt (Inode, open FDID, the donated host fd); LinkAt can name it
    /// later unless O_EXCL was given (the host enforces that). fsgofer refuses an empty name
    /// with EINVAL, which a client takes as "not supported", so the wire stays gVisor's.
    private func openTemporaryFile(_ request: OpenCreateAtRequest) throws(Errno) -> Reply {
        let requested = Int32(bitPattern: request.flags)
        let access = requested & O_ACCMODE
        // Linux: O_TMPFILE needs write access (EINVAL without).
        guard access == O_WRONLY || access == O_RDWR else { throw Errno.invalidArgument }
        let dir = try createParent(request.dirFD)
        guard fdCount + 2 <= options.maxFDsPerConnection else { throw Errno.tooManyOpenFiles }
        let openFD = try Host.openAt(
            dir.fd.raw, HostName(bytes: [0x2E]), Self.temporaryFileFlag | access | (requested & O_EXCL),
            mode: Self.permissions(request.mode))
        let control = try Host.reopen(openFD, procSelfFD: server.procSelfFD.raw, flags: O_PATH)
        try chown(control, uid: request.uid, gid: request.gid)
        let stat = try Host.statx(control.raw)
        let donated = try Host.dup(openFD)
        let (file, child) = try inode(control, stat: stat, type: .regular)
        let openID = try insert(.open(OpenFile(fd: openFD, control: file, flags: access)))
        return Reply(OpenCreateAtResponse(child: child, newOpenFD: openID), fds: [donated])
    }

    /// Called after the read-only check (see `Connection.mutatingMessages`).
    func mkdirAt(_ request: MkdirAtRequest) throws(Errno) -> Reply {
        let name = try validatedName(request.name.bytes)
        let dir = try createParent(request.dirFD)
        guard fdCount < options.maxFDsPerConnection else { throw Errno.tooManyOpenFiles }
        _ = try Host.check(name.withCString { Glibc.mkdirat(dir.fd.raw, $0, Self.permissions(request.mode)) })
        do throws(Errno) {
            let child = try Host.openAt(dir.fd.raw, name, O_PATH | O_DIRECTORY)
            try chown(child, uid: request.uid, gid: request.gid)
            let stat = try Host.statx(child.raw)
            return Reply(MkdirAtResponse(child: try inode(child, stat: stat, type: .directory).1))
        } catch {
            undoCreate(dir, name, directory: true)
            throw error
        }
    }

    /// Called after the read-only check (see `Connection.mutatingMessages`). The request's
    /// minor/major are ignored: only regular files are made.
    func mknodAt(_ request: MknodAtRequest) throws(Errno) -> Reply {
        let name = try validatedName(request.name.bytes)
        let dir = try createParent(request.dirFD)
        // fsgofer makes regular files only ("EPERM: the filesystem does not support the
        // type of node requested", mknod(2)); devices, FIFOs and sockets are the sandbox's.
        guard FileType.of(mode: request.mode) == .regular else { throw Errno.notPermitted }
        guard fdCount < options.maxFDsPerConnection else { throw Errno.tooManyOpenFiles }
        _ = try Host.check(name.withCString {
            Glibc.mknodat(dir.fd.raw, $0, mode_t(FileType.regular.rawValue) | Self.permissions(request.mode), 0)
        })
        do throws(Errno) {
            let child = try Host.openAt(dir.fd.raw, name, O_PATH)
            try chown(child, uid: request.uid, gid: request.gid)
            let stat = try Host.statx(child.raw)
            return Reply(MknodAtResponse(child: try inode(child, stat: stat, type: .regular).1))
        } catch {
            undoCreate(dir, name)
            throw error
        }
    }

    /// Called after the read-only check (see `Connection.mutatingMessages`).
    func symlinkAt(_ request: SymlinkAtRequest) throws(Errno) -> Reply {
        let uid = request.uid, gid = request.gid
        let name = try validatedName(request.name.bytes)
        let targetBytes = request.target.bytes
        guard !targetBytes.contains(0) else { throw Errno.invalidArgument }
        let target = HostName(bytes: targetBytes)
        let dir = try createParent(request.dirFD)
        guard fdCount < options.maxFDsPerConnection else { throw Errno.tooManyOpenFiles }
        _ = try Host.check(target.withCString { targetPointer in
            name.withCString { Glibc.symlinkat(targetPointer, dir.fd.raw, $0) }
        })
        do throws(Errno) {
            let child = try Host.openAt(dir.fd.raw, name, O_PATH)
            try chown(child, uid: uid, gid: gid)
            let stat = try Host.statx(child.raw)
            return Reply(SymlinkAtResponse(symlink: try inode(child, stat: stat, type: .symlink).1))
        } catch {
            undoCreate(dir, name)
            throw error
        }
    }

    /// Called after the read-only check (see `Connection.mutatingMessages`).
    func linkAt(_ request: LinkAtRequest) throws(Errno) -> Reply {
        let name = try validatedName(request.name.bytes)
        let dir = try createParent(request.dirFD)
        let target = try lookupControl(request.target)
        // Hard links to directories are refused before the kernel sees them.
        if target.isDirectory { throw Errno.notPermitted }
        guard fdCount < options.maxFDsPerConnection else { throw Errno.tooManyOpenFiles }
        // linkat(fd, "", AT_EMPTY_PATH) links the very inode the control FD holds (needs
        // CAP_DAC_READ_SEARCH); no name is resolved for the source.
        _ = try Host.check(name.withCString { Glibc.linkat(target.fd.raw, "", dir.fd.raw, $0, AT_EMPTY_PATH) })
        do throws(Errno) {
            let child = try Host.dup(target.fd)
            let stat = try Host.statx(child.raw)
            return Reply(LinkAtResponse(link: try inode(child, stat: stat, type: target.type).1))
        } catch {
            undoCreate(dir, name)
            throw error
        }
    }
}

import VFSCore

extension TmpfsFilesystem {
    /// Opens a resolved tmpfs file. Regular files and directories get their I/O; FIFOs their
    /// shared pipe (an open may wait for the other end, as in Linux); O_PATH gets attributes
    /// only. A device node has no driver behind it here, so opening one is ENXIO (what Linux
    /// answers for a device number with no driver); a socket is ENXIO as in Linux.
    public func open(_ location: VirtualDentry, options: OpenOptions, credentials: Credentials)
        throws(Errno) -> any FileDescriptionImpl
    {
        let dentry = try own(location.dentry)
        let inode = dentry.inode
        if options.isPathOnly { return TmpfsInertFile(inode: inode) }
        switch inode.type {
        case .regular:
            guard let data = inode.data else { throw .invalidArgument }
            return TmpfsRegularFile(
                inode: inode, data: data, mount: location.mount, filesystem: self,
                noAccessTime: options.flags & OpenOptions.noAccessTime != 0)
        case .directory:
            guard let directory = inode.directory else { throw .notDirectory }
            return TmpfsDirectoryFile(
                dentry: dentry, directory: directory, mount: location.mount, filesystem: self,
                noAccessTime: options.flags & OpenOptions.noAccessTime != 0)
        case .symlink:
            throw .tooManySymbolicLinkLevels
        case .fifo:
            guard let pipe = inode.fifo else { throw .noSuchAddressOrDevice }
            return FifoFile(
                pipe: try PipeFile(pipe: pipe, options: options, isFIFO: true),
                events: TmpfsFifoEvents(inode: inode, mount: location.mount, filesystem: self),
                options: options)
        case .socket, .characterDevice, .blockDevice:
            throw .noSuchAddressOrDevice
        }
    }
}

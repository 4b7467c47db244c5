/// A file system with no names: a root directory and files reached only through open file
/// descriptions (pipefs, imported host fds). Linux gives its paths the answers here — the root
/// walks only to itself, nothing can be created (EPERM) or removed (ENOENT), O_TMPFILE is
/// EOPNOTSUPP, and reopening a file through /proc/self/fd is not modelled (ENXIO) — so a
/// conforming type writes only its stat, attributes and file operations.
public protocol NamelessFilesystem: FilesystemImpl {}

extension NamelessFilesystem {
    public func walk(_ rp: inout ResolvingPath) throws(Errno) -> WalkStop {
        while !rp.isDone {
            guard rp.current.isDirectory else { throw .notDirectory }
            if rp.stopsAtParent && rp.isFinalComponent { return .done }
            if rp.componentIsDot || (rp.componentIsDotDot && rp.isAtRoot()) {
                rp.advance()
                continue
            }
            if rp.componentIsDotDot { return .mountRootParent }
            throw .noSuchFileOrDirectory
        }
        return .done
    }

    public func makeDirectory(_ rp: ResolvingPath, name: Name, mode: FileMode) throws(Errno) {
        throw .notPermitted
    }
    public func makeNode(_ rp: ResolvingPath, name: Name, mode: FileMode, device: UInt64)
        throws(Errno)
    { throw .notPermitted }
    public func makeSymlink(_ rp: ResolvingPath, name: Name, target: [UInt8]) throws(Errno) {
        throw .notPermitted
    }
    public func makeLink(_ rp: ResolvingPath, name: Name, existing: VirtualDentry) throws(Errno) {
        throw .notPermitted
    }
    public func unlink(_ rp: ResolvingPath, name: Name) throws(Errno) {
        throw .noSuchFileOrDirectory
    }
    public func removeDirectory(_ rp: ResolvingPath, name: Name) throws(Errno) {
        throw .noSuchFileOrDirectory
    }
    public func rename(
        from: ResolvingPath, name oldName: Name, to: ResolvingPath, name newName: Name,
        flags: RenameFlags
    ) throws(Errno) { throw .noSuchFileOrDirectory }
    public func openOrCreate(
        _ rp: ResolvingPath, name: Name, options: OpenOptions, mode: FileMode
    ) throws(Errno) -> CreateOutcome { throw .notPermitted }
    public func makeTemporaryFile(_ rp: ResolvingPath, mode: FileMode, linkable: Bool)
        throws(Errno) -> Dentry
    { throw .notSupported }
    public func open(_ location: VirtualDentry, options: OpenOptions, credentials: Credentials)
        throws(Errno) -> any FileDescriptionImpl
    { throw .noSuchAddressOrDevice }
}

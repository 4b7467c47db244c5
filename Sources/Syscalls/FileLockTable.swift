import VFSCore

/// POSIX record locks (fcntl F_SETLK), open-file-description locks (F_OFD_SETLK) and flock
/// locks, per file.
public final class FileLockTable: Sendable {
    public init() {}
    func releaseAll(ownedByProcess process: Int32) {}
    func releasePOSIXLocks(of process: Int32, on description: FileDescription) {}
}

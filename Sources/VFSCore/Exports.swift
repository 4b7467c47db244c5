// VFSCore speaks Linux errnos through swift-system's `Errno`; re-export it so every client of
// the VFS gets the same error type without importing swift-system itself.
@_exported import SystemPackage

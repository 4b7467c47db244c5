/// Linux's permission rules (fs/namei.c `generic_permission`, fs/attr.c `setattr_prepare`,
/// fs/inode.c `inode_init_owner`), written once so every backend decides the same way.
/// Backends call these while holding the inode's lock, with the attributes they read under it.

/// MAY_READ / MAY_WRITE / MAY_EXEC.
public struct AccessMask: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let execute = AccessMask(rawValue: 1)
    public static let write = AccessMask(rawValue: 2)
    public static let read = AccessMask(rawValue: 4)
}

/// The three attributes every permission decision depends on.
public struct Ownership: Sendable, Hashable {
    public var mode: FileMode
    public var uid: UInt32
    public var gid: UInt32
    public init(mode: FileMode, uid: UInt32, gid: UInt32) {
        self.mode = mode
        self.uid = uid
        self.gid = gid
    }
}

public enum Permissions {
    /// `generic_permission`: the owner's bits if the caller owns the file, else the group's if
    /// it is in the group, else the others'; then capabilities may override. EACCES otherwise.
    public static func check(
        _ credentials: Credentials, _ want: AccessMask, _ file: Ownership
    ) throws(Errno) {
        if mayAccess(credentials, want, file) { return }
        throw .permissionDenied
    }

    public static func mayAccess(
        _ credentials: Credentials, _ want: AccessMask, _ file: Ownership
    ) -> Bool {
        let bits = file.mode.rawValue
        let granted: UInt32
        if credentials.uid == file.uid {
            granted = (bits >> 6) & 7
        } else if credentials.isInGroup(file.gid) {
            granted = (bits >> 3) & 7
        } else {
            granted = bits & 7
        }
        if want.rawValue & ~granted == 0 { return true }

        // Capabilities, as capable_wrt_inode_uidgid applies them.
        let isDirectory = file.mode.isDirectory
        if credentials.has(.dacOverride) {
            // On a non-directory, execute needs at least one execute bit set somewhere.
            if isDirectory || !want.contains(.execute) || bits & 0o111 != 0 { return true }
        }
        if credentials.has(.dacReadSearch) {
            let readSearch: AccessMask = isDirectory ? [.read, .execute] : [.read]
            if readSearch.isSuperset(of: want) { return true }
        }
        return false
    }

    /// `inode_owner_or_capable`.
    public static func isOwnerOrCapable(_ credentials: Credentials, _ file: Ownership) -> Bool {
        credentials.uid == file.uid || credentials.has(.fowner)
    }

    /// `check_sticky`: in a sticky directory only the file's owner, the directory's owner or a
    /// CAP_FOWNER holder may remove or rename an entry. EPERM otherwise.
    public static func checkSticky(
        _ credentials: Credentials, directory: Ownership, victim: Ownership
    ) throws(Errno) {
        guard directory.mode.rawValue & FileMode.sticky != 0 else { return }
        if credentials.uid == victim.uid || credentials.uid == directory.uid { return }
        if credentials.has(.fowner) { return }
        throw .notPermitted
    }

    /// `may_delete`'s checks on the directory and the victim, in Linux's order: write and
    /// search on the directory (EACCES), the sticky rule (EPERM), then the type (ENOTDIR for
    /// rmdir of a non-directory, EISDIR for unlink of a directory).
    public static func mayDelete(
        _ credentials: Credentials, directory: Ownership, victim: Ownership, removingDirectory: Bool
    ) throws(Errno) {
        try check(credentials, [.write, .execute], directory)
        try checkSticky(credentials, directory: directory, victim: victim)
        if removingDirectory {
            guard victim.mode.isDirectory else { throw .notDirectory }
        } else if victim.mode.isDirectory {
            throw .isDirectory
        }
    }

    /// `inode_init_owner` + `mode_strip_sgid`: who owns a new inode and with which mode.
    /// A set-group-ID directory passes its group on, and its set-group-ID bit to subdirectories.
    public static func ownershipForNewInode(
        _ credentials: Credentials, parent: Ownership, mode: FileMode
    ) -> Ownership {
        var mode = mode
        var gid = credentials.gid
        if parent.mode.rawValue & FileMode.setGID != 0 {
            gid = parent.gid
            if mode.isDirectory {
                mode.rawValue |= FileMode.setGID
            } else if mode.rawValue & (FileMode.setGID | FileMode.groupExecute)
                == (FileMode.setGID | FileMode.groupExecute),
                !credentials.isInGroup(parent.gid), !credentials.has(.fsetid)
            {
                mode.rawValue &= ~FileMode.setGID
            }
        }
        return Ownership(mode: mode, uid: credentials.uid, gid: gid)
    }

    /// `setattr_should_drop_sgid`: a set-group-ID bit goes when the group may execute, and
    /// also (Linux 6.x) when the caller is neither in the file's group nor holds CAP_FSETID.
    public static func shouldDropSetGroupID(_ credentials: Credentials, _ file: Ownership) -> Bool {
        let bits = file.mode.rawValue
        guard bits & FileMode.setGID != 0 else { return false }
        if bits & FileMode.groupExecute != 0 { return true }
        return !credentials.isInGroup(file.gid) && !credentials.has(.fsetid)
    }

    /// `setattr_should_drop_suidgid` for a write or truncate: the mode with set-user-ID, and
    /// set-group-ID as `shouldDropSetGroupID` decides, removed, or nil when nothing changes (a
    /// CAP_FSETID holder keeps them; only regular files lose them). Linux 6.18: writing a
    /// 02666 file of a group the writer is not in clears S_ISGID.
    public static func modeAfterWrite(_ credentials: Credentials, _ file: Ownership) -> FileMode? {
        let mode = file.mode
        guard mode.isRegular, !credentials.has(.fsetid) else { return nil }
        var stripped = mode
        stripped.rawValue &= ~FileMode.setUID
        if shouldDropSetGroupID(credentials, file) { stripped.rawValue &= ~FileMode.setGID }
        return stripped == mode ? nil : stripped
    }

    /// Set-user-ID always, set-group-ID when the group may execute (otherwise the bit means
    /// mandatory locking and stays).
    public static func strippingPrivileges(_ mode: FileMode) -> FileMode {
        var mode = mode
        mode.rawValue &= ~FileMode.setUID
        if mode.rawValue & FileMode.groupExecute != 0 { mode.rawValue &= ~FileMode.setGID }
        return mode
    }
}

/// A change of attributes: chmod, chown, truncate, utimens, as one request (Linux's `iattr`).
public struct StatChange: Sendable, Hashable {
    /// New permission bits (07777); the file type never changes.
    public var mode: UInt32?
    /// chown's arguments; a nil side is chown's -1. `isOwnershipChange` stays true for
    /// chown(-1, -1), which still clears set-user-ID and stamps ctime.
    public var uid: UInt32?
    public var gid: UInt32?
    public var isOwnershipChange = false
    public var size: Int64?
    public var accessTime: TimeChange?
    public var modificationTime: TimeChange?
    /// ftruncate and O_TRUNC stamp mtime and ctime even when the size stays the same;
    /// truncate(2) by path only when it changes.
    public var stampsTimes = false

    public init(
        mode: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil, size: Int64? = nil,
        accessTime: TimeChange? = nil, modificationTime: TimeChange? = nil
    ) {
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.isOwnershipChange = uid != nil || gid != nil
        self.size = size
        self.accessTime = accessTime
        self.modificationTime = modificationTime
    }

    public static func chown(uid: UInt32?, gid: UInt32?) -> StatChange {
        var change = StatChange(uid: uid, gid: gid)
        change.isOwnershipChange = true
        return change
    }

    /// ftruncate(2) / O_TRUNC's change.
    public static func truncation(to size: Int64) -> StatChange {
        var change = StatChange(size: size)
        change.stampsTimes = true
        return change
    }

    public var isEmpty: Bool {
        mode == nil && !isOwnershipChange && size == nil && accessTime == nil
            && modificationTime == nil
    }

    /// utimensat with both times "now" (or NULL): needs only write permission, not ownership.
    var isTouch: Bool {
        accessTime == .now && modificationTime == .now
    }
}

public enum TimeChange: Sendable, Hashable {
    case now
    case set(Timespec)
}

/// What a validated `StatChange` does to an inode: final values, privileges already stripped.
public struct AttributeUpdate: Sendable, Hashable {
    public var mode: FileMode?
    public var uid: UInt32?
    public var gid: UInt32?
    public var size: Int64?
    public var accessTime: Timespec?
    public var modificationTime: Timespec?
    public var changeTime: Timespec
}

extension StatChange {
    /// `setattr_prepare` + `may_setattr`: decides whether `credentials` may make this change to
    /// a file with `current` ownership, and what the change finally is (set-ID bits cleared
    /// as Linux clears them). The backend applies the result under the same inode lock it read
    /// `current` under.
    public func validate(
        against current: Ownership, credentials: Credentials, now: Timespec
    ) throws(Errno) -> AttributeUpdate {
        var update = AttributeUpdate(changeTime: now)
        if let size {
            guard size >= 0 else { throw .invalidArgument }
            update.size = size
            if stampsTimes { update.modificationTime = now }
        }
        if accessTime != nil || modificationTime != nil {
            if isTouch {
                if !Permissions.isOwnerOrCapable(credentials, current) {
                    try Permissions.check(credentials, .write, current)
                }
            } else if !Permissions.isOwnerOrCapable(credentials, current) {
                throw .notPermitted
            }
        }
        if let uid, !(credentials.uid == current.uid && uid == current.uid) {
            guard credentials.has(.chown) else { throw .notPermitted }
        }
        if let gid {
            let ownerMayChgrp =
                credentials.uid == current.uid
                && (credentials.isInGroup(gid) || gid == current.gid)
            guard ownerMayChgrp || credentials.has(.chown) else { throw .notPermitted }
        }
        if let mode {
            guard Permissions.isOwnerOrCapable(credentials, current) else { throw .notPermitted }
            var newMode = current.mode
            newMode.permissions = mode
            let groupAfter = gid ?? current.gid
            if !credentials.isInGroup(groupAfter) && !credentials.has(.fsetid) {
                newMode.rawValue &= ~FileMode.setGID
            }
            update.mode = newMode
        }
        if isOwnershipChange {
            update.uid = uid
            update.gid = gid
            if !current.mode.isDirectory {
                // chown_common asks to kill set-user-ID always and set-group-ID as
                // `setattr_should_drop_sgid` decides; notify_change turns a kill into a mode
                // change, which setattr_prepare then checks as a chmod: the owner or CAP_FOWNER
                // (else EPERM, even with CAP_CHOWN), and S_ISGID kept only for a member of the
                // new group or CAP_FSETID. Linux 6.18 agrees on each of these.
                var base = update.mode ?? current.mode
                var killed = false
                if base.rawValue & FileMode.setUID != 0 {
                    base.rawValue &= ~FileMode.setUID
                    killed = true
                }
                if base.rawValue & FileMode.setGID != 0
                    && Permissions.shouldDropSetGroupID(credentials, current)
                {
                    base.rawValue &= ~FileMode.setGID
                    killed = true
                }
                if killed {
                    guard Permissions.isOwnerOrCapable(credentials, current) else {
                        throw .notPermitted
                    }
                    if !credentials.isInGroup(gid ?? current.gid) && !credentials.has(.fsetid) {
                        base.rawValue &= ~FileMode.setGID
                    }
                }
                if killed || update.mode != nil { update.mode = base }
            }
        }
        if size != nil, update.mode == nil,
            let stripped = Permissions.modeAfterWrite(credentials, current)
        {
            update.mode = stripped
        }
        switch accessTime {
        case .now: update.accessTime = now
        case .set(let t): update.accessTime = t
        case nil: break
        }
        switch modificationTime {
        case .now: update.modificationTime = now
        case .set(let t): update.modificationTime = t
        case nil: break
        }
        return update
    }
}

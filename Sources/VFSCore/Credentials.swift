import Synchronization

/// The capabilities that file-system permission checks consult (capabilities(7)).
public struct Capabilities: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let chown = Capabilities(rawValue: 1 << 0)  // CAP_CHOWN
    public static let dacOverride = Capabilities(rawValue: 1 << 1)  // CAP_DAC_OVERRIDE
    public static let dacReadSearch = Capabilities(rawValue: 1 << 2)  // CAP_DAC_READ_SEARCH
    public static let fowner = Capabilities(rawValue: 1 << 3)  // CAP_FOWNER
    public static let fsetid = Capabilities(rawValue: 1 << 4)  // CAP_FSETID
    public static let mknod = Capabilities(rawValue: 1 << 27)  // CAP_MKNOD
    public static let sysAdmin = Capabilities(rawValue: 1 << 21)  // CAP_SYS_ADMIN
    public static let sysChroot = Capabilities(rawValue: 1 << 18)  // CAP_SYS_CHROOT
    public static let linuxImmutable = Capabilities(rawValue: 1 << 9)  // CAP_LINUX_IMMUTABLE

    /// What uid 0 has by default.
    public static let all = Capabilities(rawValue: ~0)
}

/// Who is asking: the file-system view of a task's credentials (fsuid/fsgid, supplementary
/// groups, effective capabilities). A value type, so a check never sees a half-changed set.
///
/// Equality compares what the credentials grant. `serial` stands for Linux's cred *object*:
/// every setuid-style change (and every fork) makes a new one even with the same ids, and a
/// few checks compare objects, not values (linkat's AT_EMPTY_PATH rule compares a file's
/// opener credentials with the caller's).
public struct Credentials: Sendable, Hashable {
    public var uid: UInt32
    public var gid: UInt32
    public var groups: [UInt32]
    public var capabilities: Capabilities
    /// Which cred object these are; assigned by `FSContext` whenever credentials are set.
    public var serial: UInt64 = 0

    public static func == (lhs: Credentials, rhs: Credentials) -> Bool {
        lhs.uid == rhs.uid && lhs.gid == rhs.gid && lhs.groups == rhs.groups
            && lhs.capabilities == rhs.capabilities
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(uid)
        hasher.combine(gid)
        hasher.combine(groups)
        hasher.combine(capabilities)
    }

    /// The same credentials as a new cred object (`prepare_creds` + `commit_creds`).
    public func renewed() -> Credentials {
        var copy = self
        copy.serial = Credentials.lastSerial.add(1, ordering: .relaxed).newValue
        return copy
    }

    private static let lastSerial = Atomic<UInt64>(0)

    public init(uid: UInt32, gid: UInt32, groups: [UInt32] = [], capabilities: Capabilities = []) {
        self.uid = uid
        self.gid = gid
        self.groups = groups
        self.capabilities = capabilities
    }

    /// uid 0 with every capability, as a root process normally runs.
    public static let root = Credentials(uid: 0, gid: 0, capabilities: .all)

    /// An ordinary user: no capabilities.
    public static func user(_ uid: UInt32, gid: UInt32, groups: [UInt32] = []) -> Credentials {
        Credentials(uid: uid, gid: gid, groups: groups)
    }

    public func has(_ capability: Capabilities) -> Bool {
        capabilities.contains(capability)
    }

    /// `in_group_p`: the primary or a supplementary group.
    public func isInGroup(_ gid: UInt32) -> Bool {
        gid == self.gid || groups.contains(gid)
    }
}

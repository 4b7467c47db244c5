import SystemPackage

/// Extended attributes of one inode, with the semantics of Linux tmpfs
/// (mm/shmem.c + fs/xattr.c simple_xattr). Names are raw bytes including the
/// namespace prefix, e.g. "user.foo".
///
/// Not thread-safe and deliberately lock-free: the owning inode's lock must be
/// held for every call.
///
/// Every errno here was checked on Linux 6.18 against /dev/shm as root (which
/// accepts user.*, trusted.* and security.*). Linux checks in this order, and
/// `set` does too: flags (EINVAL), name length (ERANGE), value size (E2BIG),
/// namespace (EOPNOTSUPP / EINVAL), presence (EEXIST / ENODATA). The VFS's
/// permission checks (EPERM for trusted.* without CAP_SYS_ADMIN, user.* on
/// non-regular files) sit between value size and namespace, so a caller that
/// needs them runs `validateFlags`, `checkNameLength` and `checkValueSize`,
/// then its permission check, then the store operation.
///
/// Not modelled: POSIX ACLs (every "system." name is EOPNOTSUPP, as tmpfs
/// answers for any system.* name other than the two ACL names) and the
/// per-filesystem xattr space limit (ENOSPC).
struct XattrStore: Sendable {
    static let xattrCreate: Int32 = 1
    static let xattrReplace: Int32 = 2
    /// XATTR_NAME_MAX.
    static let nameMax = 255
    /// XATTR_SIZE_MAX; XATTR_LIST_MAX has the same value.
    static let sizeMax = 65536

    private static let namespaces: [[UInt8]] = ["user.", "trusted.", "security."].map { Array($0.utf8) }
    private static let trustedPrefix = Array("trusted.".utf8)
    private static let systemPrefix = Array("system.".utf8)

    private var attributes: [[UInt8]: [UInt8]] = [:]

    init() {}

    var isEmpty: Bool { attributes.isEmpty }

    /// getxattr(2): the value, or ENODATA when the name is absent.
    func get(_ name: [UInt8]) throws(Errno) -> [UInt8] {
        try Self.validateName(name)
        guard let value = attributes[name] else { throw .noData }
        return value
    }

    /// setxattr(2). With both XATTR_CREATE and XATTR_REPLACE (flags 3) Linux
    /// fails either way: EEXIST when present, ENODATA when absent (verified).
    mutating func set(_ name: [UInt8], _ value: [UInt8], flags: Int32) throws(Errno) {
        try Self.validateFlags(flags)
        try Self.checkNameLength(name)
        try Self.checkValueSize(value)
        try Self.checkNamespace(name)
        let present = attributes[name] != nil
        if flags & Self.xattrCreate != 0, present { throw .fileExists }
        if flags & Self.xattrReplace != 0, !present { throw .noData }
        attributes[name] = value
    }

    /// removexattr(2): ENODATA when the name is absent.
    mutating func remove(_ name: [UInt8]) throws(Errno) {
        try Self.validateName(name)
        guard attributes.removeValue(forKey: name) != nil else { throw .noData }
    }

    /// listxattr(2) payload: each name followed by NUL.
    ///
    /// Ordered by descending byte value of the whole name, because that is
    /// what tmpfs returns: its simple_xattrs rbtree is walked from rb_first
    /// with a comparator that puts larger names first. Observed after setting
    /// user.b, user.a, user.c, trusted.z, security.q, user.aa in that order:
    /// user.c, user.b, user.aa, user.a, trusted.z, security.q — and removing
    /// and re-adding a name does not move it.
    ///
    /// `includeTrusted: false` hides trusted.*, as Linux does for callers
    /// without CAP_SYS_ADMIN.
    func list(includeTrusted: Bool = true) -> [UInt8] {
        var names = Array(attributes.keys)
        if !includeTrusted { names.removeAll { $0.starts(with: Self.trustedPrefix) } }
        names.sort { $1.lexicographicallyPrecedes($0) }
        var out: [UInt8] = []
        out.reserveCapacity(names.reduce(0) { $0 + $1.count + 1 })
        for name in names {
            out.append(contentsOf: name)
            out.append(0)
        }
        return out
    }

    // MARK: validation

    /// Full name check for get/remove: ERANGE for an empty or over-255-byte
    /// name, EOPNOTSUPP for an unknown or "system." namespace, EINVAL for a
    /// bare prefix such as "user." (all verified).
    static func validateName(_ name: [UInt8]) throws(Errno) {
        try checkNameLength(name)
        try checkNamespace(name)
    }

    /// Unknown flag bits are EINVAL before any other check (verified with
    /// flags 4 on an empty name, an unknown namespace and a 70000-byte value).
    static func validateFlags(_ flags: Int32) throws(Errno) {
        guard flags & ~(xattrCreate | xattrReplace) == 0 else { throw .invalidArgument }
    }

    static func checkNameLength(_ name: [UInt8]) throws(Errno) {
        guard !name.isEmpty, name.count <= nameMax else { throw .outOfRange }
    }

    /// Values over XATTR_SIZE_MAX are E2BIG; this precedes the namespace check
    /// (verified: a 65537-byte value on "bogus.x" gives E2BIG, not EOPNOTSUPP).
    static func checkValueSize(_ value: [UInt8]) throws(Errno) {
        guard value.count <= sizeMax else { throw .argListTooLong }
    }

    static func checkNamespace(_ name: [UInt8]) throws(Errno) {
        guard let prefix = namespaces.first(where: { name.starts(with: $0) }) else {
            // Covers "system." too: without ACL support tmpfs has no handler
            // for it (verified: "system." and "system.foo" are EOPNOTSUPP).
            throw .notSupported
        }
        guard name.count > prefix.count else { throw .invalidArgument }
    }

    // MARK: reply buffers

    /// The getxattr(2)/listxattr(2) buffer convention, without touching
    /// memory: returns the length the syscall reports for a reply of
    /// `byteCount` bytes into a caller buffer of `bufferSize` bytes.
    ///
    /// - `bufferSize == 0` is a size query: returns `byteCount` and nothing is
    ///   copied — even above 64 KiB (verified: listxattr with size 0 reported
    ///   76500 for 300 long names).
    /// - Otherwise the reply must fit, and the caller copies exactly the
    ///   returned count. If it does not fit: E2BIG when the buffer already
    ///   reached the 64 KiB kernel cap (growing it cannot help), else ERANGE
    ///   (verified: that list gave E2BIG for size 65536, ERANGE for 65535).
    ///
    /// `bufferSize` models a size_t; a negative value is a size_t above
    /// Int.max and, like any size past the cap, is clamped to it.
    static func replyLength(ofReply byteCount: Int, bufferSize: Int) throws(Errno) -> Int {
        if bufferSize == 0 { return byteCount }
        let capped = bufferSize < 0 ? sizeMax : min(bufferSize, sizeMax)
        guard byteCount <= capped else {
            throw capped == sizeMax ? .argListTooLong : .outOfRange
        }
        return byteCount
    }

    /// `replyLength` plus the copy, for callers holding a host buffer whose
    /// size is the syscall's size argument.
    static func checkedCopy(_ reply: [UInt8], into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        let length = try replyLength(ofReply: reply.count, bufferSize: buffer.count)
        if buffer.count > 0 {
            reply.withUnsafeBytes { buffer.copyMemory(from: $0) }
        }
        return length
    }
}

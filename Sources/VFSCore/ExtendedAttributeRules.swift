/// The checks fs/xattr.c makes on an xattr request, shared by every backend.
///
/// Linux's order: flags (EINVAL), name length (ERANGE), value size (E2BIG) — all before the
/// path is even resolved — then `xattr_permission` (below), then the file system's namespace
/// handling (EOPNOTSUPP for an unknown prefix, EINVAL for a bare prefix).
public enum ExtendedAttributeRules {
    public static let createOnly: Int32 = 1  // XATTR_CREATE
    public static let replaceOnly: Int32 = 2  // XATTR_REPLACE
    public static let nameMax = 255  // XATTR_NAME_MAX
    public static let sizeMax = 65536  // XATTR_SIZE_MAX

    public static func checkFlags(_ flags: Int32) throws(Errno) {
        guard flags & ~(createOnly | replaceOnly) == 0 else { throw .invalidArgument }
    }

    /// ERANGE for an empty or over-255-byte name. A name holding NUL is EINVAL, as for paths:
    /// a C caller cannot pass one, and stored it would split in two in listxattr's reply.
    public static func checkNameLength(_ name: [UInt8]) throws(Errno) {
        guard !name.isEmpty, name.count <= nameMax else { throw .outOfRange }
        guard !name.contains(0) else { throw .invalidArgument }
    }

    public static func checkValueSize(_ value: [UInt8]) throws(Errno) {
        guard value.count <= sizeMax else { throw .argListTooLong }
    }

    /// `xattr_permission` plus the capability hook for security.*: trusted.* needs
    /// CAP_SYS_ADMIN (EPERM to write, ENODATA to read); user.* only on regular files and
    /// directories (likewise), and in a sticky directory only its owner may write them;
    /// security.* may be read by anyone, written only with CAP_SYS_ADMIN; everything else
    /// falls to the file's permission bits.
    public static func checkPermission(
        _ credentials: Credentials, name: [UInt8], writing: Bool, file: Ownership
    ) throws(Errno) {
        if name.starts(with: securityPrefix) {
            if writing && !credentials.has(.sysAdmin) { throw .notPermitted }
            return
        }
        if name.starts(with: systemPrefix) { return }
        if name.starts(with: trustedPrefix) {
            if !credentials.has(.sysAdmin) { throw writing ? .notPermitted : .noData }
            return
        }
        if name.starts(with: userPrefix) {
            let type = file.mode.type
            if type != .regular && type != .directory { throw writing ? .notPermitted : .noData }
            if type == .directory && file.mode.rawValue & FileMode.sticky != 0 && writing
                && !Permissions.isOwnerOrCapable(credentials, file)
            {
                throw .notPermitted
            }
        }
        try Permissions.check(credentials, writing ? .write : .read, file)
    }

    /// Whether listxattr shows `name` to these credentials: trusted.* only to CAP_SYS_ADMIN.
    public static func isListable(_ name: [UInt8], by credentials: Credentials) -> Bool {
        !name.starts(with: trustedPrefix) || credentials.has(.sysAdmin)
    }

    static let securityPrefix = Array("security.".utf8)
    static let systemPrefix = Array("system.".utf8)
    static let trustedPrefix = Array("trusted.".utf8)
    static let userPrefix = Array("user.".utf8)
}

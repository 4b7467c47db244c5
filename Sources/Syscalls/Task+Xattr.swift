import VFSCore

/// The xattr family: setxattr, lsetxattr, fsetxattr, getxattr, lgetxattr, fgetxattr,
/// listxattr, llistxattr, flistxattr, removexattr, lremovexattr, fremovexattr (fs/xattr.c).
/// The path forms follow a final symlink, the l forms do not, the f forms use a descriptor
/// (EBADF for an O_PATH one). Name and size checks come before the path is looked up.
extension Task {
    // MARK: - set

    public func setxattr(_ path: PathArgument, _ name: [UInt8], _ value: [UInt8], _ flags: Int32)
        throws(Errno)
    {
        try checkSetArguments(name, value, flags)
        try vfs.setExtendedAttribute(
            credentials, operation(Linux.AT_FDCWD, path), name: name, value: value, flags: flags)
    }

    public func lsetxattr(_ path: PathArgument, _ name: [UInt8], _ value: [UInt8], _ flags: Int32)
        throws(Errno)
    {
        try checkSetArguments(name, value, flags)
        try vfs.setExtendedAttribute(
            credentials, operation(Linux.AT_FDCWD, path, followFinal: false), name: name,
            value: value, flags: flags)
    }

    public func fsetxattr(_ fd: Int32, _ name: [UInt8], _ value: [UInt8], _ flags: Int32)
        throws(Errno)
    {
        try checkSetArguments(name, value, flags)
        let place = try descriptorPlace(fd)
        try vfs.setExtendedAttribute(credentials, place, name: name, value: value, flags: flags)
    }

    // MARK: - get

    /// getxattr(2): the value; with `size` 0, only its length matters to the caller (the
    /// dispatcher returns it); a value longer than a non-zero `size` is ERANGE.
    public func getxattr(_ path: PathArgument, _ name: [UInt8], _ size: Int) throws(Errno)
        -> [UInt8]
    {
        try ExtendedAttributeRules.checkNameLength(name)
        let value = try vfs.getExtendedAttribute(
            credentials, operation(Linux.AT_FDCWD, path), name: name)
        return try Task.fit(value, size)
    }

    public func lgetxattr(_ path: PathArgument, _ name: [UInt8], _ size: Int) throws(Errno)
        -> [UInt8]
    {
        try ExtendedAttributeRules.checkNameLength(name)
        let value = try vfs.getExtendedAttribute(
            credentials, operation(Linux.AT_FDCWD, path, followFinal: false), name: name)
        return try Task.fit(value, size)
    }

    public func fgetxattr(_ fd: Int32, _ name: [UInt8], _ size: Int) throws(Errno) -> [UInt8] {
        try ExtendedAttributeRules.checkNameLength(name)
        let place = try descriptorPlace(fd)
        let value = try place.mount.filesystem.getExtendedAttribute(
            place.dentry, name: name, credentials: credentials)
        return try Task.fit(value, size)
    }

    // MARK: - list

    /// listxattr(2): the names, each NUL-terminated. A list longer than a non-zero `size` is
    /// ERANGE, or E2BIG once `size` has reached the 64 KiB the kernel caps it at.
    public func listxattr(_ path: PathArgument, _ size: Int) throws(Errno) -> [UInt8] {
        let names = try vfs.listExtendedAttributes(credentials, operation(Linux.AT_FDCWD, path))
        return try Task.fitList(names, size)
    }

    public func llistxattr(_ path: PathArgument, _ size: Int) throws(Errno) -> [UInt8] {
        let names = try vfs.listExtendedAttributes(
            credentials, operation(Linux.AT_FDCWD, path, followFinal: false))
        return try Task.fitList(names, size)
    }

    public func flistxattr(_ fd: Int32, _ size: Int) throws(Errno) -> [UInt8] {
        let place = try descriptorPlace(fd)
        let names = try place.mount.filesystem.listExtendedAttributes(
            place.dentry, credentials: credentials)
        return try Task.fitList(names, size)
    }

    // MARK: - remove

    public func removexattr(_ path: PathArgument, _ name: [UInt8]) throws(Errno) {
        try ExtendedAttributeRules.checkNameLength(name)
        try vfs.removeExtendedAttribute(credentials, operation(Linux.AT_FDCWD, path), name: name)
    }

    public func lremovexattr(_ path: PathArgument, _ name: [UInt8]) throws(Errno) {
        try ExtendedAttributeRules.checkNameLength(name)
        try vfs.removeExtendedAttribute(
            credentials, operation(Linux.AT_FDCWD, path, followFinal: false), name: name)
    }

    public func fremovexattr(_ fd: Int32, _ name: [UInt8]) throws(Errno) {
        try ExtendedAttributeRules.checkNameLength(name)
        try vfs.removeExtendedAttribute(credentials, try descriptorPlace(fd), name: name)
    }

    // MARK: - Shared rules

    private func checkSetArguments(_ name: [UInt8], _ value: [UInt8], _ flags: Int32)
        throws(Errno)
    {
        try ExtendedAttributeRules.checkFlags(flags)
        try ExtendedAttributeRules.checkNameLength(name)
        try ExtendedAttributeRules.checkValueSize(value)
    }

    /// The f forms: the descriptor's place; EBADF for an O_PATH descriptor.
    private func descriptorPlace(_ fd: Int32) throws(Errno) -> VirtualDentry {
        let description = try files.get(fd)
        guard !description.isPathOnly else { throw .badFileDescriptor }
        return description.location
    }

    /// getxattr's reply rule: size 0 asks for the length; the kernel caps `size` at
    /// XATTR_SIZE_MAX; a longer value is ERANGE.
    static func fit(_ value: [UInt8], _ size: Int) throws(Errno) -> [UInt8] {
        if size == 0 { return value }
        let capped = min(size, ExtendedAttributeRules.sizeMax)
        guard value.count <= capped else { throw .outOfRange }
        return value
    }

    /// listxattr's reply rule: size 0 asks for the length; past the 64 KiB cap a list that does
    /// not fit is E2BIG (a larger buffer cannot help), below it ERANGE.
    static func fitList(_ names: [[UInt8]], _ size: Int) throws(Errno) -> [UInt8] {
        var list: [UInt8] = []
        for name in names {
            list.append(contentsOf: name)
            list.append(0)
        }
        if size == 0 { return list }
        let capped = min(size, ExtendedAttributeRules.sizeMax)
        guard list.count <= capped else {
            throw capped == ExtendedAttributeRules.sizeMax ? .argListTooLong : .outOfRange
        }
        return list
    }
}

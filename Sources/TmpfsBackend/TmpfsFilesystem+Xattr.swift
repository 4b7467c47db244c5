import VFSCore

/// The xattr calls: `ExtendedAttributeRules` decides who may, `XattrStore` keeps the values.
extension TmpfsFilesystem {
    public func getExtendedAttribute(_ dentry: Dentry, name: [UInt8], credentials: Credentials)
        throws(Errno) -> [UInt8]
    {
        let inode = try own(dentry).inode
        return try inode.metadata.withLock { (meta) throws(Errno) -> [UInt8] in
            try ExtendedAttributeRules.checkPermission(
                credentials, name: name, writing: false, file: meta.ownership)
            try XattrStore.checkNamespace(name)
            return try meta.xattrs.get(name)
        }
    }

    public func setExtendedAttribute(
        _ dentry: Dentry, name: [UInt8], value: [UInt8], flags: Int32, credentials: Credentials
    ) throws(Errno) {
        let inode = try own(dentry).inode
        let now = now()
        try inode.metadata.withLock { (meta) throws(Errno) in
            try ExtendedAttributeRules.checkPermission(
                credentials, name: name, writing: true, file: meta.ownership)
            try XattrStore.checkNamespace(name)
            try meta.xattrs.set(name, value, flags: flags)
            meta.changeTime = now
        }
    }

    public func listExtendedAttributes(_ dentry: Dentry, credentials: Credentials) throws(Errno)
        -> [[UInt8]]
    {
        let inode = try own(dentry).inode
        let list = inode.metadata.withLock {
            $0.xattrs.list(includeTrusted: credentials.has(.sysAdmin))
        }
        return list.split(separator: 0, omittingEmptySubsequences: true).map { Array($0) }
    }

    public func removeExtendedAttribute(
        _ dentry: Dentry, name: [UInt8], credentials: Credentials
    ) throws(Errno) {
        let inode = try own(dentry).inode
        let now = now()
        try inode.metadata.withLock { (meta) throws(Errno) in
            try ExtendedAttributeRules.checkPermission(
                credentials, name: name, writing: true, file: meta.ownership)
            try XattrStore.checkNamespace(name)
            try meta.xattrs.remove(name)
            meta.changeTime = now
        }
    }
}

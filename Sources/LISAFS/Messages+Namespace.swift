import SystemPackage

// MkdirAt (13), MknodAt (14), SymlinkAt (15), LinkAt (16), ReadLinkAt (19), UnlinkAt (22),
// RenameAt (23), RenameAt2 (33).

/// MID 13 request: dir_fd u64, uid u32, gid u32, mode u16, 6 bytes padding, name.
public struct MkdirAtRequest: RequestMessage {
    public typealias Response = MkdirAtResponse
    public static let messageID = MessageID.mkdirAt
    public var dirFD: FDID
    public var uid: UInt32
    public var gid: UInt32
    public var mode: UInt16
    public var name: SizedString

    public init(dirFD: FDID, name: SizedString, mode: UInt16, uid: UInt32, gid: UInt32) {
        self.dirFD = dirFD
        self.uid = uid
        self.gid = gid
        self.mode = mode
        self.name = name
    }

    public init(from reader: inout WireReader) throws(Errno) {
        let common = try CreateCommon(from: &reader)
        dirFD = common.dirFD
        uid = common.uid
        gid = common.gid
        mode = common.mode
        name = try SizedString(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        CreateCommon(dirFD: dirFD, uid: uid, gid: gid, mode: mode).encode(to: &writer)
        try name.encode(to: &writer)
    }
}

/// MID 13 response: the new directory's Inode.
public struct MkdirAtResponse: ResponseMessage {
    public static let messageID = MessageID.mkdirAt
    public var child: Inode

    public init(child: Inode) { self.child = child }

    public init(from reader: inout WireReader) throws(Errno) {
        child = try Inode(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        child.encode(to: &writer)
    }
}

/// MID 14 request: dir_fd u64, uid u32, gid u32, mode u16, 6 bytes padding, minor u32,
/// major u32, name.
public struct MknodAtRequest: RequestMessage {
    public typealias Response = MknodAtResponse
    public static let messageID = MessageID.mknodAt
    public var dirFD: FDID
    public var uid: UInt32
    public var gid: UInt32
    public var mode: UInt16
    public var minor: UInt32
    public var major: UInt32
    public var name: SizedString

    public init(
        dirFD: FDID, name: SizedString, mode: UInt16, uid: UInt32, gid: UInt32,
        minor: UInt32 = 0, major: UInt32 = 0
    ) {
        self.dirFD = dirFD
        self.uid = uid
        self.gid = gid
        self.mode = mode
        self.minor = minor
        self.major = major
        self.name = name
    }

    public init(from reader: inout WireReader) throws(Errno) {
        let common = try CreateCommon(from: &reader)
        dirFD = common.dirFD
        uid = common.uid
        gid = common.gid
        mode = common.mode
        minor = try reader.readUInt32()
        major = try reader.readUInt32()
        name = try SizedString(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        CreateCommon(dirFD: dirFD, uid: uid, gid: gid, mode: mode).encode(to: &writer)
        writer.writeUInt32(minor)
        writer.writeUInt32(major)
        try name.encode(to: &writer)
    }
}

/// MID 14 response: the new node's Inode.
public struct MknodAtResponse: ResponseMessage {
    public static let messageID = MessageID.mknodAt
    public var child: Inode

    public init(child: Inode) { self.child = child }

    public init(from reader: inout WireReader) throws(Errno) {
        child = try Inode(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        child.encode(to: &writer)
    }
}

/// MID 15 request: dir_fd u64, uid u32, gid u32, name, target.
public struct SymlinkAtRequest: RequestMessage {
    public typealias Response = SymlinkAtResponse
    public static let messageID = MessageID.symlinkAt
    public var dirFD: FDID
    public var uid: UInt32
    public var gid: UInt32
    public var name: SizedString
    public var target: SizedString

    public init(
        dirFD: FDID, name: SizedString, target: SizedString, uid: UInt32, gid: UInt32
    ) {
        self.dirFD = dirFD
        self.uid = uid
        self.gid = gid
        self.name = name
        self.target = target
    }

    public init(from reader: inout WireReader) throws(Errno) {
        dirFD = try FDID(from: &reader)
        uid = try reader.readUInt32()
        gid = try reader.readUInt32()
        name = try SizedString(from: &reader)
        target = try SizedString(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        dirFD.encode(to: &writer)
        writer.writeUInt32(uid)
        writer.writeUInt32(gid)
        try name.encode(to: &writer)
        try target.encode(to: &writer)
    }
}

/// MID 15 response: the symlink's Inode.
public struct SymlinkAtResponse: ResponseMessage {
    public static let messageID = MessageID.symlinkAt
    public var symlink: Inode

    public init(symlink: Inode) { self.symlink = symlink }

    public init(from reader: inout WireReader) throws(Errno) {
        symlink = try Inode(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        symlink.encode(to: &writer)
    }
}

/// MID 16 request: dir_fd u64, target u64 (control FD of the existing file), name.
public struct LinkAtRequest: RequestMessage {
    public typealias Response = LinkAtResponse
    public static let messageID = MessageID.linkAt
    public var dirFD: FDID
    public var target: FDID
    public var name: SizedString

    public init(dirFD: FDID, target: FDID, name: SizedString) {
        self.dirFD = dirFD
        self.target = target
        self.name = name
    }

    public init(from reader: inout WireReader) throws(Errno) {
        dirFD = try FDID(from: &reader)
        target = try FDID(from: &reader)
        name = try SizedString(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        dirFD.encode(to: &writer)
        target.encode(to: &writer)
        try name.encode(to: &writer)
    }
}

/// MID 16 response: the new link's Inode.
public struct LinkAtResponse: ResponseMessage {
    public static let messageID = MessageID.linkAt
    public var link: Inode

    public init(link: Inode) { self.link = link }

    public init(from reader: inout WireReader) throws(Errno) {
        link = try Inode(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        link.encode(to: &writer)
    }
}

/// MID 19 request: fd u64 (the symlink's control FD).
public struct ReadLinkAtRequest: RequestMessage {
    public typealias Response = ReadLinkAtResponse
    public static let messageID = MessageID.readLinkAt
    public var fd: FDID

    public init(fd: FDID) { self.fd = fd }

    public init(from reader: inout WireReader) throws(Errno) {
        fd = try FDID(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        fd.encode(to: &writer)
    }
}

/// MID 19 response: the target as a SizedString.
public struct ReadLinkAtResponse: ResponseMessage {
    public static let messageID = MessageID.readLinkAt
    public var target: SizedString

    public init(target: SizedString) { self.target = target }

    public init(from reader: inout WireReader) throws(Errno) {
        target = try SizedString(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        try target.encode(to: &writer)
    }
}

/// MID 22 request: dir_fd u64, flags u32 (0 or AT_REMOVEDIR 0x200), name.
public struct UnlinkAtRequest: RequestMessage {
    public typealias Response = UnlinkAtResponse
    public static let messageID = MessageID.unlinkAt
    public var dirFD: FDID
    public var flags: UInt32
    public var name: SizedString

    public init(dirFD: FDID, name: SizedString, flags: UInt32) {
        self.dirFD = dirFD
        self.flags = flags
        self.name = name
    }

    public init(from reader: inout WireReader) throws(Errno) {
        dirFD = try FDID(from: &reader)
        flags = try reader.readUInt32()
        name = try SizedString(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        dirFD.encode(to: &writer)
        writer.writeUInt32(flags)
        try name.encode(to: &writer)
    }
}

/// MID 22 response: empty.
public struct UnlinkAtResponse: ResponseMessage, EmptyPayloadMessage {
    public static let messageID = MessageID.unlinkAt
    public init() {}
}

/// MID 23 request: old_dir u64, new_dir u64, old_name, new_name.
public struct RenameAtRequest: RequestMessage {
    public typealias Response = RenameAtResponse
    public static let messageID = MessageID.renameAt
    public var oldDir: FDID
    public var newDir: FDID
    public var oldName: SizedString
    public var newName: SizedString

    public init(oldDir: FDID, oldName: SizedString, newDir: FDID, newName: SizedString) {
        self.oldDir = oldDir
        self.newDir = newDir
        self.oldName = oldName
        self.newName = newName
    }

    public init(from reader: inout WireReader) throws(Errno) {
        oldDir = try FDID(from: &reader)
        newDir = try FDID(from: &reader)
        oldName = try SizedString(from: &reader)
        newName = try SizedString(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        oldDir.encode(to: &writer)
        newDir.encode(to: &writer)
        try oldName.encode(to: &writer)
        try newName.encode(to: &writer)
    }
}

/// MID 23 response: empty.
public struct RenameAtResponse: ResponseMessage, EmptyPayloadMessage {
    public static let messageID = MessageID.renameAt
    public init() {}
}

/// MID 33 request: the RenameAt fields, then flags u32 (RENAME_NOREPLACE 1, RENAME_EXCHANGE 2,
/// RENAME_WHITEOUT 4).
public struct RenameAt2Request: RequestMessage {
    public typealias Response = RenameAt2Response
    public static let messageID = MessageID.renameAt2
    public var oldDir: FDID
    public var newDir: FDID
    public var oldName: SizedString
    public var newName: SizedString
    public var flags: UInt32

    public init(
        oldDir: FDID, oldName: SizedString, newDir: FDID, newName: SizedString, flags: UInt32
    ) {
        self.oldDir = oldDir
        self.newDir = newDir
        self.oldName = oldName
        self.newName = newName
        self.flags = flags
    }

    public init(from reader: inout WireReader) throws(Errno) {
        oldDir = try FDID(from: &reader)
        newDir = try FDID(from: &reader)
        oldName = try SizedString(from: &reader)
        newName = try SizedString(from: &reader)
        flags = try reader.readUInt32()
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        oldDir.encode(to: &writer)
        newDir.encode(to: &writer)
        try oldName.encode(to: &writer)
        try newName.encode(to: &writer)
        writer.writeUInt32(flags)
    }
}

/// MID 33 response: empty.
public struct RenameAt2Response: ResponseMessage, EmptyPayloadMessage {
    public static let messageID = MessageID.renameAt2
    public init() {}
}

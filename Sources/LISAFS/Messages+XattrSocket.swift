import SystemPackage

// FGetXattr (25), FSetXattr (26), FListXattr (27), FRemoveXattr (28),
// Connect (21), BindAt (29), Listen (30), Accept (31), ConnectWithCreds (32).

/// MID 25 request: fd u64, buf_size u32, name.
public struct FGetXattrRequest: RequestMessage {
    public typealias Response = FGetXattrResponse
    public static let messageID = MessageID.fGetXattr
    public var fd: FDID
    public var bufSize: UInt32
    public var name: SizedString

    public init(fd: FDID, name: SizedString, bufSize: UInt32) {
        self.fd = fd
        self.bufSize = bufSize
        self.name = name
    }

    public init(from reader: inout WireReader) throws(Errno) {
        fd = try FDID(from: &reader)
        bufSize = try reader.readUInt32()
        name = try SizedString(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        fd.encode(to: &writer)
        writer.writeUInt32(bufSize)
        try name.encode(to: &writer)
    }
}

/// MID 25 response: the value as a SizedString (raw bytes).
public struct FGetXattrResponse: ResponseMessage {
    public static let messageID = MessageID.fGetXattr
    public var value: SizedString

    public init(value: SizedString) { self.value = value }

    public init(from reader: inout WireReader) throws(Errno) {
        value = try SizedString(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        try value.encode(to: &writer)
    }
}

/// MID 26 request: fd u64, flags u32 (XATTR_CREATE/XATTR_REPLACE), name, value.
public struct FSetXattrRequest: RequestMessage {
    public typealias Response = FSetXattrResponse
    public static let messageID = MessageID.fSetXattr
    public var fd: FDID
    public var flags: UInt32
    public var name: SizedString
    public var value: SizedString

    public init(fd: FDID, name: SizedString, value: SizedString, flags: UInt32) {
        self.fd = fd
        self.flags = flags
        self.name = name
        self.value = value
    }

    public init(from reader: inout WireReader) throws(Errno) {
        fd = try FDID(from: &reader)
        flags = try reader.readUInt32()
        name = try SizedString(from: &reader)
        value = try SizedString(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        fd.encode(to: &writer)
        writer.writeUInt32(flags)
        try name.encode(to: &writer)
        try value.encode(to: &writer)
    }
}

/// MID 26 response: empty.
public struct FSetXattrResponse: ResponseMessage, EmptyPayloadMessage {
    public static let messageID = MessageID.fSetXattr
    public init() {}
}

/// MID 27 request: fd u64, size u64.
public struct FListXattrRequest: RequestMessage {
    public typealias Response = FListXattrResponse
    public static let messageID = MessageID.fListXattr
    public var fd: FDID
    public var size: UInt64

    public init(fd: FDID, size: UInt64) {
        self.fd = fd
        self.size = size
    }

    public init(from reader: inout WireReader) throws(Errno) {
        fd = try FDID(from: &reader)
        size = try reader.readUInt64()
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        fd.encode(to: &writer)
        writer.writeUInt64(size)
    }
}

/// MID 27 response: a StringArray of names.
public struct FListXattrResponse: ResponseMessage {
    public static let messageID = MessageID.fListXattr
    public var xattrs: [SizedString]

    public init(xattrs: [SizedString]) { self.xattrs = xattrs }

    public init(from reader: inout WireReader) throws(Errno) {
        xattrs = try StringArrayCoding.decode(&reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        try StringArrayCoding.encode(xattrs, &writer)
    }
}

/// MID 28 request: fd u64, name.
public struct FRemoveXattrRequest: RequestMessage {
    public typealias Response = FRemoveXattrResponse
    public static let messageID = MessageID.fRemoveXattr
    public var fd: FDID
    public var name: SizedString

    public init(fd: FDID, name: SizedString) {
        self.fd = fd
        self.name = name
    }

    public init(from reader: inout WireReader) throws(Errno) {
        fd = try FDID(from: &reader)
        name = try SizedString(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        fd.encode(to: &writer)
        try name.encode(to: &writer)
    }
}

/// MID 28 response: empty.
public struct FRemoveXattrResponse: ResponseMessage, EmptyPayloadMessage {
    public static let messageID = MessageID.fRemoveXattr
    public init() {}
}

/// MID 21 request (16 bytes): fd u64 (a socket file's control FD), sock_type u32 (0 = any),
/// 4 bytes padding.
public struct ConnectRequest: RequestMessage {
    public typealias Response = ConnectResponse
    public static let messageID = MessageID.connect
    public static var maxResponseFDs: Int { 1 }
    public var fd: FDID
    public var sockType: UInt32

    public init(fd: FDID, sockType: UInt32) {
        self.fd = fd
        self.sockType = sockType
    }

    public init(from reader: inout WireReader) throws(Errno) {
        fd = try FDID(from: &reader)
        sockType = try reader.readUInt32()
        try reader.skip(4)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        fd.encode(to: &writer)
        writer.writeUInt32(sockType)
        writer.writePadding(4)
    }
}

/// MID 21 response: empty; donates 1 FD (the connected host socket).
public struct ConnectResponse: ResponseMessage, EmptyPayloadMessage {
    public static let messageID = MessageID.connect
    public init() {}
}

/// MID 29 request: dir_fd u64, uid u32, gid u32, mode u16, 6 bytes padding, sock_type u32, name.
public struct BindAtRequest: RequestMessage {
    public typealias Response = BindAtResponse
    public static let messageID = MessageID.bindAt
    public static var maxResponseFDs: Int { 1 }
    public var dirFD: FDID
    public var uid: UInt32
    public var gid: UInt32
    public var mode: UInt16
    public var sockType: UInt32
    public var name: SizedString

    public init(
        dirFD: FDID, name: SizedString, sockType: UInt32, mode: UInt16, uid: UInt32, gid: UInt32
    ) {
        self.dirFD = dirFD
        self.uid = uid
        self.gid = gid
        self.mode = mode
        self.sockType = sockType
        self.name = name
    }

    public init(from reader: inout WireReader) throws(Errno) {
        let common = try CreateCommon(from: &reader)
        dirFD = common.dirFD
        uid = common.uid
        gid = common.gid
        mode = common.mode
        sockType = try reader.readUInt32()
        name = try SizedString(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        CreateCommon(dirFD: dirFD, uid: uid, gid: gid, mode: mode).encode(to: &writer)
        writer.writeUInt32(sockType)
        try name.encode(to: &writer)
    }
}

/// MID 29 response (160 bytes): the socket file's Inode, bound_socket_fd u64; donates 1 FD
/// (the bound host socket).
public struct BindAtResponse: ResponseMessage {
    public static let messageID = MessageID.bindAt
    public var child: Inode
    public var boundSocketFD: FDID

    public init(child: Inode, boundSocketFD: FDID) {
        self.child = child
        self.boundSocketFD = boundSocketFD
    }

    public init(from reader: inout WireReader) throws(Errno) {
        child = try Inode(from: &reader)
        boundSocketFD = try FDID(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        child.encode(to: &writer)
        boundSocketFD.encode(to: &writer)
    }
}

/// MID 30 request (16 bytes): fd u64 (bound-socket FDID), backlog i32, 4 bytes padding
/// (gVisor's client leaves stale bytes there; they are ignored).
public struct ListenRequest: RequestMessage {
    public typealias Response = ListenResponse
    public static let messageID = MessageID.listen
    public var fd: FDID
    public var backlog: Int32

    public init(fd: FDID, backlog: Int32) {
        self.fd = fd
        self.backlog = backlog
    }

    public init(from reader: inout WireReader) throws(Errno) {
        fd = try FDID(from: &reader)
        backlog = try reader.readInt32()
        try reader.skip(4)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        fd.encode(to: &writer)
        writer.writeInt32(backlog)
        writer.writePadding(4)
    }
}

/// MID 30 response: empty.
public struct ListenResponse: ResponseMessage, EmptyPayloadMessage {
    public static let messageID = MessageID.listen
    public init() {}
}

/// MID 31 request: fd u64 (bound-socket FDID).
public struct AcceptRequest: RequestMessage {
    public typealias Response = AcceptResponse
    public static let messageID = MessageID.accept
    public static var maxResponseFDs: Int { 1 }
    public var fd: FDID

    public init(fd: FDID) { self.fd = fd }

    public init(from reader: inout WireReader) throws(Errno) {
        fd = try FDID(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        fd.encode(to: &writer)
    }
}

/// MID 31 response: peer_addr SizedString (fsgofer always sends ""); donates 1 FD.
public struct AcceptResponse: ResponseMessage {
    public static let messageID = MessageID.accept
    public var peerAddress: SizedString

    public init(peerAddress: SizedString) { self.peerAddress = peerAddress }

    public init(from reader: inout WireReader) throws(Errno) {
        peerAddress = try SizedString(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        try peerAddress.encode(to: &writer)
    }
}

/// MID 32 request (24 bytes): fd u64, sock_type u32, 4 bytes padding, uid u32, gid u32.
public struct ConnectWithCredsRequest: RequestMessage {
    public typealias Response = ConnectWithCredsResponse
    public static let messageID = MessageID.connectWithCreds
    public static var maxResponseFDs: Int { 1 }
    public var fd: FDID
    public var sockType: UInt32
    public var uid: UInt32
    public var gid: UInt32

    public init(fd: FDID, sockType: UInt32, uid: UInt32, gid: UInt32) {
        self.fd = fd
        self.sockType = sockType
        self.uid = uid
        self.gid = gid
    }

    public init(from reader: inout WireReader) throws(Errno) {
        fd = try FDID(from: &reader)
        sockType = try reader.readUInt32()
        try reader.skip(4)
        uid = try reader.readUInt32()
        gid = try reader.readUInt32()
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        fd.encode(to: &writer)
        writer.writeUInt32(sockType)
        writer.writePadding(4)
        writer.writeUInt32(uid)
        writer.writeUInt32(gid)
    }
}

/// MID 32 response: empty; donates 1 FD.
public struct ConnectWithCredsResponse: ResponseMessage, EmptyPayloadMessage {
    public static let messageID = MessageID.connectWithCreds
    public init() {}
}

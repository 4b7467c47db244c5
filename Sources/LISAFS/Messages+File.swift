import SystemPackage

// OpenAt (7), OpenCreateAt (8), Close (9), FSync (10), PWrite (11), PRead (12),
// FAllocate (18), Flush (20), Getdents64 (24).

/// MID 7 request (16 bytes): fd u64 (a control FD), flags u32 (O_*), 4 bytes of padding.
public struct OpenAtRequest: RequestMessage {
    public typealias Response = OpenAtResponse
    public static let messageID = MessageID.openAt
    public static var maxResponseFDs: Int { 1 }
    public var fd: FDID
    public var flags: UInt32

    public init(fd: FDID, flags: UInt32) {
        self.fd = fd
        self.flags = flags
    }

    public init(from reader: inout WireReader) throws(Errno) {
        fd = try FDID(from: &reader)
        flags = try reader.readUInt32()
        try reader.skip(4)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        fd.encode(to: &writer)
        writer.writeUInt32(flags)
        writer.writePadding(4)
    }
}

/// MID 7 response: open_fd u64; 1 donated host FD for regular files, none for directories.
public struct OpenAtResponse: ResponseMessage {
    public static let messageID = MessageID.openAt
    public var openFD: FDID

    public init(openFD: FDID) { self.openFD = openFD }

    public init(from reader: inout WireReader) throws(Errno) {
        openFD = try FDID(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        openFD.encode(to: &writer)
    }
}

/// MID 8 request: dir_fd u64, uid u32, gid u32, mode u16, 6 bytes padding, flags u32, name.
/// The server adds O_CREAT|O_EXCL.
public struct OpenCreateAtRequest: RequestMessage {
    public typealias Response = OpenCreateAtResponse
    public static let messageID = MessageID.openCreateAt
    public static var maxResponseFDs: Int { 1 }
    public var dirFD: FDID
    public var uid: UInt32
    public var gid: UInt32
    public var mode: UInt16
    public var flags: UInt32
    public var name: SizedString

    public init(
        dirFD: FDID, name: SizedString, flags: UInt32, mode: UInt16, uid: UInt32, gid: UInt32
    ) {
        self.dirFD = dirFD
        self.uid = uid
        self.gid = gid
        self.mode = mode
        self.flags = flags
        self.name = name
    }

    public init(from reader: inout WireReader) throws(Errno) {
        let common = try CreateCommon(from: &reader)
        dirFD = common.dirFD
        uid = common.uid
        gid = common.gid
        mode = common.mode
        flags = try reader.readUInt32()
        name = try SizedString(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        CreateCommon(dirFD: dirFD, uid: uid, gid: gid, mode: mode).encode(to: &writer)
        writer.writeUInt32(flags)
        try name.encode(to: &writer)
    }
}

/// MID 8 response (160 bytes): the new file's Inode then new_open_fd u64; 1 donated host FD.
public struct OpenCreateAtResponse: ResponseMessage {
    public static let messageID = MessageID.openCreateAt
    public var child: Inode
    public var newOpenFD: FDID

    public init(child: Inode, newOpenFD: FDID) {
        self.child = child
        self.newOpenFD = newOpenFD
    }

    public init(from reader: inout WireReader) throws(Errno) {
        child = try Inode(from: &reader)
        newOpenFD = try FDID(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        child.encode(to: &writer)
        newOpenFD.encode(to: &writer)
    }
}

/// MID 9 request: an FD array (u16 count, u64 FDIDs). Closes control, open or bound-socket FDs.
public struct CloseRequest: RequestMessage {
    public typealias Response = CloseResponse
    public static let messageID = MessageID.close
    public var fds: [FDID]

    public init(fds: [FDID]) { self.fds = fds }

    public init(from reader: inout WireReader) throws(Errno) {
        fds = try FDArrayCoding.decode(&reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        try FDArrayCoding.encode(fds, &writer)
    }
}

/// MID 9 response: empty.
public struct CloseResponse: ResponseMessage, EmptyPayloadMessage {
    public static let messageID = MessageID.close
    public init() {}
}

/// MID 10 request: an FD array of open FDs.
public struct FSyncRequest: RequestMessage {
    public typealias Response = FSyncResponse
    public static let messageID = MessageID.fSync
    public var fds: [FDID]

    public init(fds: [FDID]) { self.fds = fds }

    public init(from reader: inout WireReader) throws(Errno) {
        fds = try FDArrayCoding.decode(&reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        try FDArrayCoding.encode(fds, &writer)
    }
}

/// MID 10 response: empty.
public struct FSyncResponse: ResponseMessage, EmptyPayloadMessage {
    public static let messageID = MessageID.fSync
    public init() {}
}

/// MID 11 request: offset u64, fd u64, num_bytes u32, then num_bytes of data. `numBytes` on the
/// wire is always `data.count`.
public struct PWriteRequest: RequestMessage {
    public typealias Response = PWriteResponse
    public static let messageID = MessageID.pWrite
    public var offset: UInt64
    public var fd: FDID
    public var data: [UInt8]

    public init(fd: FDID, offset: UInt64, data: [UInt8]) {
        self.offset = offset
        self.fd = fd
        self.data = data
    }

    public init(from reader: inout WireReader) throws(Errno) {
        offset = try reader.readUInt64()
        fd = try FDID(from: &reader)
        let count = try reader.readUInt32()
        guard let length = Int(exactly: count) else { throw Errno.invalidArgument }
        data = try reader.readBytes(length)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        guard let count = UInt32(exactly: data.count) else { throw Errno.messageTooLong }
        writer.writeUInt64(offset)
        fd.encode(to: &writer)
        writer.writeUInt32(count)
        writer.writeBytes(data)
    }
}

/// MID 11 response: count u64 (bytes written).
public struct PWriteResponse: ResponseMessage {
    public static let messageID = MessageID.pWrite
    public var count: UInt64

    public init(count: UInt64) { self.count = count }

    public init(from reader: inout WireReader) throws(Errno) {
        count = try reader.readUInt64()
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        writer.writeUInt64(count)
    }
}

/// MID 12 request (24 bytes): offset u64, fd u64, count u32, 4 bytes of padding.
public struct PReadRequest: RequestMessage {
    public typealias Response = PReadResponse
    public static let messageID = MessageID.pRead
    public var offset: UInt64
    public var fd: FDID
    public var count: UInt32

    public init(fd: FDID, offset: UInt64, count: UInt32) {
        self.offset = offset
        self.fd = fd
        self.count = count
    }

    public init(from reader: inout WireReader) throws(Errno) {
        offset = try reader.readUInt64()
        fd = try FDID(from: &reader)
        count = try reader.readUInt32()
        try reader.skip(4)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        writer.writeUInt64(offset)
        fd.encode(to: &writer)
        writer.writeUInt32(count)
        writer.writePadding(4)
    }
}

/// MID 12 response: num_bytes u64 then that many bytes of data.
public struct PReadResponse: ResponseMessage {
    public static let messageID = MessageID.pRead
    public var data: [UInt8]

    public init(data: [UInt8]) { self.data = data }

    public init(from reader: inout WireReader) throws(Errno) {
        let count = try reader.readUInt64()
        guard let length = Int(exactly: count) else { throw Errno.invalidArgument }
        data = try reader.readBytes(length)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        writer.writeUInt64(UInt64(data.count))
        writer.writeBytes(data)
    }
}

/// MID 18 request (32 bytes): fd u64, mode u64 (FALLOC_FL_*), offset u64, length u64.
public struct FAllocateRequest: RequestMessage {
    public typealias Response = FAllocateResponse
    public static let messageID = MessageID.fAllocate
    public var fd: FDID
    public var mode: UInt64
    public var offset: UInt64
    public var length: UInt64

    public init(fd: FDID, mode: UInt64, offset: UInt64, length: UInt64) {
        self.fd = fd
        self.mode = mode
        self.offset = offset
        self.length = length
    }

    public init(from reader: inout WireReader) throws(Errno) {
        fd = try FDID(from: &reader)
        mode = try reader.readUInt64()
        offset = try reader.readUInt64()
        length = try reader.readUInt64()
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        fd.encode(to: &writer)
        writer.writeUInt64(mode)
        writer.writeUInt64(offset)
        writer.writeUInt64(length)
    }
}

/// MID 18 response: empty.
public struct FAllocateResponse: ResponseMessage, EmptyPayloadMessage {
    public static let messageID = MessageID.fAllocate
    public init() {}
}

/// MID 20 request: fd u64. fsgofer does not advertise Flush and answers Error EOPNOTSUPP.
public struct FlushRequest: RequestMessage {
    public typealias Response = FlushResponse
    public static let messageID = MessageID.flush
    public var fd: FDID

    public init(fd: FDID) { self.fd = fd }

    public init(from reader: inout WireReader) throws(Errno) {
        fd = try FDID(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        fd.encode(to: &writer)
    }
}

/// MID 20 response: empty.
public struct FlushResponse: ResponseMessage, EmptyPayloadMessage {
    public static let messageID = MessageID.flush
    public init() {}
}

/// MID 24 request (16 bytes): dir_fd u64 (an open FD), count i32, 4 bytes of padding. A negative
/// count means "seek to 0 first, then read |count| bytes".
public struct Getdents64Request: RequestMessage {
    public typealias Response = Getdents64Response
    public static let messageID = MessageID.getdents64
    public var dirFD: FDID
    public var count: Int32

    public init(dirFD: FDID, count: Int32) {
        self.dirFD = dirFD
        self.count = count
    }

    public init(from reader: inout WireReader) throws(Errno) {
        dirFD = try FDID(from: &reader)
        count = try reader.readInt32()
        try reader.skip(4)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        dirFD.encode(to: &writer)
        writer.writeInt32(count)
        writer.writePadding(4)
    }
}

/// MID 24 response: count u16 then Dirent64[count]. An exhausted directory gives count 0.
public struct Getdents64Response: ResponseMessage {
    public static let messageID = MessageID.getdents64
    public var dirents: [Dirent64]

    public init(dirents: [Dirent64]) { self.dirents = dirents }

    public init(from reader: inout WireReader) throws(Errno) {
        let count = Int(try reader.readUInt16())
        try reader.checkCount(count, minimumElementSize: Dirent64.minimumWireSize)
        var dirents: [Dirent64] = []
        dirents.reserveCapacity(count)
        for _ in 0..<count {
            dirents.append(try Dirent64(from: &reader))
        }
        self.dirents = dirents
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        try writer.writeCount16(dirents.count)
        for dirent in dirents {
            try dirent.encode(to: &writer)
        }
    }
}

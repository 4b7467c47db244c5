import SystemPackage

// FStat (3), SetStat (4), Walk (5), WalkStat (6), FStatFS (17).

/// MID 3 request: fd u64 (a control FD or an open FD).
public struct FStatRequest: RequestMessage {
    public typealias Response = FStatResponse
    public static let messageID = MessageID.fStat
    public var fd: FDID

    public init(fd: FDID) { self.fd = fd }

    public init(from reader: inout WireReader) throws(Errno) {
        fd = try FDID(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        fd.encode(to: &writer)
    }
}

/// MID 3 response: a Statx (144 bytes).
public struct FStatResponse: ResponseMessage {
    public static let messageID = MessageID.fStat
    public var stat: LISAFSStatx

    public init(stat: LISAFSStatx) { self.stat = stat }

    public init(from reader: inout WireReader) throws(Errno) {
        stat = try LISAFSStatx(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        stat.encode(to: &writer)
    }
}

/// MID 4 request (64 bytes): fd u64, mask u32 (`SetStatMask`), mode u32 (permission bits only),
/// uid u32, gid u32, size u64, atime Timespec, mtime Timespec.
public struct SetStatRequest: RequestMessage {
    public typealias Response = SetStatResponse
    public static let messageID = MessageID.setStat

    public var fd: FDID
    public var mask: UInt32
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var size: UInt64
    public var atime: LISAFSTimespec
    public var mtime: LISAFSTimespec

    public init(
        fd: FDID, mask: UInt32, mode: UInt32 = 0, uid: UInt32 = 0, gid: UInt32 = 0,
        size: UInt64 = 0, atime: LISAFSTimespec = .init(), mtime: LISAFSTimespec = .init()
    ) {
        self.fd = fd
        self.mask = mask
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size
        self.atime = atime
        self.mtime = mtime
    }

    public init(from reader: inout WireReader) throws(Errno) {
        fd = try FDID(from: &reader)
        mask = try reader.readUInt32()
        mode = try reader.readUInt32()
        uid = try reader.readUInt32()
        gid = try reader.readUInt32()
        size = try reader.readUInt64()
        atime = try LISAFSTimespec(from: &reader)
        mtime = try LISAFSTimespec(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        fd.encode(to: &writer)
        writer.writeUInt32(mask)
        writer.writeUInt32(mode)
        writer.writeUInt32(uid)
        writer.writeUInt32(gid)
        writer.writeUInt64(size)
        atime.encode(to: &writer)
        mtime.encode(to: &writer)
    }
}

/// MID 4 response: failure_mask u32 (the mask bits that could not be applied), failure_errno u32
/// (one of their errnos). A partial failure is not an RPC error.
public struct SetStatResponse: ResponseMessage {
    public static let messageID = MessageID.setStat
    public var failureMask: UInt32
    public var failureErrno: UInt32

    public init(failureMask: UInt32 = 0, failureErrno: UInt32 = 0) {
        self.failureMask = failureMask
        self.failureErrno = failureErrno
    }

    public init(from reader: inout WireReader) throws(Errno) {
        failureMask = try reader.readUInt32()
        failureErrno = try reader.readUInt32()
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        writer.writeUInt32(failureMask)
        writer.writeUInt32(failureErrno)
    }
}

/// MID 5 request: dir_fd u64 then a StringArray of path components.
public struct WalkRequest: RequestMessage {
    public typealias Response = WalkResponse
    public static let messageID = MessageID.walk
    public var dirFD: FDID
    public var path: [SizedString]

    public init(dirFD: FDID, path: [SizedString]) {
        self.dirFD = dirFD
        self.path = path
    }

    public init(from reader: inout WireReader) throws(Errno) {
        dirFD = try FDID(from: &reader)
        path = try StringArrayCoding.decode(&reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        dirFD.encode(to: &writer)
        try StringArrayCoding.encode(path, &writer)
    }
}

/// MID 5 response: status u8, count u16, Inode[count] (the first Inode starts at payload
/// offset 3). For `.componentSymlink` the symlink's own inode is the last one.
public struct WalkResponse: ResponseMessage {
    public static let messageID = MessageID.walk
    public var status: WalkStatus
    public var inodes: [Inode]

    public init(status: WalkStatus, inodes: [Inode]) {
        self.status = status
        self.inodes = inodes
    }

    public init(from reader: inout WireReader) throws(Errno) {
        guard let status = WalkStatus(rawValue: try reader.readUInt8()) else {
            throw Errno.invalidArgument
        }
        self.status = status
        let count = Int(try reader.readUInt16())
        try reader.checkCount(count, minimumElementSize: Inode.wireSize)
        var inodes: [Inode] = []
        inodes.reserveCapacity(count)
        for _ in 0..<count {
            inodes.append(try Inode(from: &reader))
        }
        self.inodes = inodes
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        writer.writeUInt8(status.rawValue)
        try writer.writeCount16(inodes.count)
        for inode in inodes {
            inode.encode(to: &writer)
        }
    }
}

/// MID 6 request: the same layout as Walk. If the first component is "", the start directory's
/// own stat comes first in the response.
public struct WalkStatRequest: RequestMessage {
    public typealias Response = WalkStatResponse
    public static let messageID = MessageID.walkStat
    public var dirFD: FDID
    public var path: [SizedString]

    public init(dirFD: FDID, path: [SizedString]) {
        self.dirFD = dirFD
        self.path = path
    }

    public init(from reader: inout WireReader) throws(Errno) {
        dirFD = try FDID(from: &reader)
        path = try StringArrayCoding.decode(&reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        dirFD.encode(to: &writer)
        try StringArrayCoding.encode(path, &writer)
    }
}

/// MID 6 response: count u16 then Statx[count]. No status byte: a walk that stops early simply
/// returns fewer stats.
public struct WalkStatResponse: ResponseMessage {
    public static let messageID = MessageID.walkStat
    public var stats: [LISAFSStatx]

    public init(stats: [LISAFSStatx]) { self.stats = stats }

    public init(from reader: inout WireReader) throws(Errno) {
        let count = Int(try reader.readUInt16())
        try reader.checkCount(count, minimumElementSize: LISAFSStatx.wireSize)
        var stats: [LISAFSStatx] = []
        stats.reserveCapacity(count)
        for _ in 0..<count {
            stats.append(try LISAFSStatx(from: &reader))
        }
        self.stats = stats
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        try writer.writeCount16(stats.count)
        for stat in stats {
            stat.encode(to: &writer)
        }
    }
}

/// MID 17 request: fd u64.
public struct FStatFSRequest: RequestMessage {
    public typealias Response = FStatFSResponse
    public static let messageID = MessageID.fStatFS
    public var fd: FDID

    public init(fd: FDID) { self.fd = fd }

    public init(from reader: inout WireReader) throws(Errno) {
        fd = try FDID(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        fd.encode(to: &writer)
    }
}

/// MID 17 response (64 bytes): type u64, block_size i64, blocks, blocks_free, blocks_available,
/// files, files_free, name_length (u64 each).
public struct FStatFSResponse: ResponseMessage {
    public static let messageID = MessageID.fStatFS
    public var type: UInt64
    public var blockSize: Int64
    public var blocks: UInt64
    public var blocksFree: UInt64
    public var blocksAvailable: UInt64
    public var files: UInt64
    public var filesFree: UInt64
    public var nameLength: UInt64

    public init(
        type: UInt64, blockSize: Int64, blocks: UInt64, blocksFree: UInt64,
        blocksAvailable: UInt64, files: UInt64, filesFree: UInt64, nameLength: UInt64
    ) {
        self.type = type
        self.blockSize = blockSize
        self.blocks = blocks
        self.blocksFree = blocksFree
        self.blocksAvailable = blocksAvailable
        self.files = files
        self.filesFree = filesFree
        self.nameLength = nameLength
    }

    public init(from reader: inout WireReader) throws(Errno) {
        type = try reader.readUInt64()
        blockSize = try reader.readInt64()
        blocks = try reader.readUInt64()
        blocksFree = try reader.readUInt64()
        blocksAvailable = try reader.readUInt64()
        files = try reader.readUInt64()
        filesFree = try reader.readUInt64()
        nameLength = try reader.readUInt64()
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        writer.writeUInt64(type)
        writer.writeInt64(blockSize)
        writer.writeUInt64(blocks)
        writer.writeUInt64(blocksFree)
        writer.writeUInt64(blocksAvailable)
        writer.writeUInt64(files)
        writer.writeUInt64(filesFree)
        writer.writeUInt64(nameLength)
    }
}

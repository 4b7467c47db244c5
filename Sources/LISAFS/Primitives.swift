import SystemPackage

/// LISAFS message IDs with gVisor's names and numbers (0–33). The frame header carries the raw
/// u16; values outside this list are not errors at the framing layer (a newer peer may add
/// messages), they are simply unknown here.
public enum MessageID: UInt16, CaseIterable, Sendable, CustomStringConvertible {
    case error = 0
    case mount = 1
    case channel = 2
    case fStat = 3
    case setStat = 4
    case walk = 5
    case walkStat = 6
    case openAt = 7
    case openCreateAt = 8
    case close = 9
    case fSync = 10
    case pWrite = 11
    case pRead = 12
    case mkdirAt = 13
    case mknodAt = 14
    case symlinkAt = 15
    case linkAt = 16
    case fStatFS = 17
    case fAllocate = 18
    case readLinkAt = 19
    case flush = 20
    case connect = 21
    case unlinkAt = 22
    case renameAt = 23
    case getdents64 = 24
    case fGetXattr = 25
    case fSetXattr = 26
    case fListXattr = 27
    case fRemoveXattr = 28
    case bindAt = 29
    case listen = 30
    case accept = 31
    case connectWithCreds = 32
    case renameAt2 = 33

    /// gVisor's name for the message (as in the vectors' `name` field).
    public var name: String {
        switch self {
        case .error: "Error"
        case .mount: "Mount"
        case .channel: "Channel"
        case .fStat: "FStat"
        case .setStat: "SetStat"
        case .walk: "Walk"
        case .walkStat: "WalkStat"
        case .openAt: "OpenAt"
        case .openCreateAt: "OpenCreateAt"
        case .close: "Close"
        case .fSync: "FSync"
        case .pWrite: "PWrite"
        case .pRead: "PRead"
        case .mkdirAt: "MkdirAt"
        case .mknodAt: "MknodAt"
        case .symlinkAt: "SymlinkAt"
        case .linkAt: "LinkAt"
        case .fStatFS: "FStatFS"
        case .fAllocate: "FAllocate"
        case .readLinkAt: "ReadLinkAt"
        case .flush: "Flush"
        case .connect: "Connect"
        case .unlinkAt: "UnlinkAt"
        case .renameAt: "RenameAt"
        case .getdents64: "Getdents64"
        case .fGetXattr: "FGetXattr"
        case .fSetXattr: "FSetXattr"
        case .fListXattr: "FListXattr"
        case .fRemoveXattr: "FRemoveXattr"
        case .bindAt: "BindAt"
        case .listen: "Listen"
        case .accept: "Accept"
        case .connectWithCreds: "ConnectWithCreds"
        case .renameAt2: "RenameAt2"
        }
    }

    public var description: String { name }
}

/// The 8-byte socket frame header: payload_len u32 (bytes after the header), mid u16, 2 bytes of
/// padding (written as zero, ignored when read).
public struct FrameHeader: Equatable, Sendable {
    public static let size = 8

    /// Number of payload bytes following the header.
    public var payloadLength: UInt32
    /// Raw message ID (see `MessageID`).
    public var rawMessageID: UInt16

    public init(payloadLength: UInt32, rawMessageID: UInt16) {
        self.payloadLength = payloadLength
        self.rawMessageID = rawMessageID
    }

    public init(payloadLength: UInt32, messageID: MessageID) {
        self.init(payloadLength: payloadLength, rawMessageID: messageID.rawValue)
    }

    /// The known message ID, or nil for a number this module does not know.
    public var messageID: MessageID? { MessageID(rawValue: rawMessageID) }

    public init(from reader: inout WireReader) throws(Errno) {
        payloadLength = try reader.readUInt32()
        rawMessageID = try reader.readUInt16()
        try reader.skip(2)
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeUInt32(payloadLength)
        writer.writeUInt16(rawMessageID)
        writer.writePadding(2)
    }

    /// Decodes exactly the first 8 bytes of `bytes` (EINVAL if fewer).
    public static func decode(_ bytes: [UInt8]) throws(Errno) -> FrameHeader {
        var reader = WireReader(bytes)
        return try FrameHeader(from: &reader)
    }

    public func encoded() -> [UInt8] {
        var writer = WireWriter(reservingCapacity: FrameHeader.size)
        encode(to: &writer)
        return writer.bytes
    }
}

/// A file descriptor ID handed out by the server (u64). 0 is invalid; fsgofer counts up from 1
/// per connection and never reuses one.
public struct FDID: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByIntegerLiteral,
    CustomStringConvertible
{
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt64) { self.rawValue = value }

    public static let invalid = FDID(0)
    public var isValid: Bool { rawValue != 0 }
    public var description: String { "FDID(\(rawValue))" }
    public static func < (lhs: FDID, rhs: FDID) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from reader: inout WireReader) throws(Errno) {
        rawValue = try reader.readUInt64()
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeUInt64(rawValue)
    }
}

/// A LISAFS string: a u16 byte length then the raw bytes (no NUL, no padding). The bytes are
/// kept as bytes (file names are not necessarily UTF-8).
public struct SizedString: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }
    public init(_ string: String) { self.bytes = Array(string.utf8) }
    public init(stringLiteral value: String) { self.init(value) }

    /// The bytes decoded as UTF-8 (invalid sequences repaired).
    public var string: String { String(decoding: bytes, as: UTF8.self) }
    public var description: String { string.debugDescription }
    public var isEmpty: Bool { bytes.isEmpty }

    /// Bytes this string occupies on the wire.
    public var wireSize: Int { 2 + bytes.count }

    public init(from reader: inout WireReader) throws(Errno) {
        let length = Int(try reader.readUInt16())
        bytes = try reader.readBytes(length)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        try writer.writeCount16(bytes.count)
        writer.writeBytes(bytes)
    }
}

/// StringArray: a u16 element count then that many SizedStrings.
enum StringArrayCoding {
    static func decode(_ reader: inout WireReader) throws(Errno) -> [SizedString] {
        let count = Int(try reader.readUInt16())
        try reader.checkCount(count, minimumElementSize: 2)
        var result: [SizedString] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            result.append(try SizedString(from: &reader))
        }
        return result
    }

    static func encode(_ strings: [SizedString], _ writer: inout WireWriter) throws(Errno) {
        try writer.writeCount16(strings.count)
        for string in strings {
            try string.encode(to: &writer)
        }
    }
}

/// FD array (Close and FSync requests): a u16 count then that many u64 FDIDs.
enum FDArrayCoding {
    static func decode(_ reader: inout WireReader) throws(Errno) -> [FDID] {
        let count = Int(try reader.readUInt16())
        try reader.checkCount(count, minimumElementSize: 8)
        var result: [FDID] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            result.append(try FDID(from: &reader))
        }
        return result
    }

    static func encode(_ fds: [FDID], _ writer: inout WireWriter) throws(Errno) {
        try writer.writeCount16(fds.count)
        for fd in fds {
            fd.encode(to: &writer)
        }
    }
}

/// A timestamp inside Statx: i64 sec, u32 nsec, 4 bytes of padding (16 bytes).
public struct StatxTimestamp: Hashable, Sendable {
    public static let wireSize = 16
    public var sec: Int64
    public var nsec: UInt32

    public init(sec: Int64 = 0, nsec: UInt32 = 0) {
        self.sec = sec
        self.nsec = nsec
    }

    public init(from reader: inout WireReader) throws(Errno) {
        sec = try reader.readInt64()
        nsec = try reader.readUInt32()
        try reader.skip(4)
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeInt64(sec)
        writer.writeUInt32(nsec)
        writer.writePadding(4)
    }
}

/// A Timespec as SetStat sends it: i64 sec, i64 nsec (16 bytes).
public struct LISAFSTimespec: Hashable, Sendable {
    public static let wireSize = 16
    public var sec: Int64
    public var nsec: Int64

    public init(sec: Int64 = 0, nsec: Int64 = 0) {
        self.sec = sec
        self.nsec = nsec
    }

    public init(from reader: inout WireReader) throws(Errno) {
        sec = try reader.readInt64()
        nsec = try reader.readInt64()
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeInt64(sec)
        writer.writeInt64(nsec)
    }
}

/// Statx as LISAFS carries it: the first 144 bytes of Linux `struct statx`.
public struct LISAFSStatx: Hashable, Sendable {
    public static let wireSize = 144

    public var mask: UInt32
    public var blksize: UInt32
    public var attributes: UInt64
    public var nlink: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// File type and permission bits.
    public var mode: UInt16
    public var ino: UInt64
    public var size: UInt64
    /// 512-byte units.
    public var blocks: UInt64
    public var attributesMask: UInt64
    public var atime: StatxTimestamp
    public var btime: StatxTimestamp
    public var ctime: StatxTimestamp
    public var mtime: StatxTimestamp
    public var rdevMajor: UInt32
    public var rdevMinor: UInt32
    public var devMajor: UInt32
    public var devMinor: UInt32

    public init(
        mask: UInt32 = 0, blksize: UInt32 = 0, attributes: UInt64 = 0, nlink: UInt32 = 0,
        uid: UInt32 = 0, gid: UInt32 = 0, mode: UInt16 = 0, ino: UInt64 = 0, size: UInt64 = 0,
        blocks: UInt64 = 0, attributesMask: UInt64 = 0, atime: StatxTimestamp = .init(),
        btime: StatxTimestamp = .init(), ctime: StatxTimestamp = .init(),
        mtime: StatxTimestamp = .init(), rdevMajor: UInt32 = 0, rdevMinor: UInt32 = 0,
        devMajor: UInt32 = 0, devMinor: UInt32 = 0
    ) {
        self.mask = mask
        self.blksize = blksize
        self.attributes = attributes
        self.nlink = nlink
        self.uid = uid
        self.gid = gid
        self.mode = mode
        self.ino = ino
        self.size = size
        self.blocks = blocks
        self.attributesMask = attributesMask
        self.atime = atime
        self.btime = btime
        self.ctime = ctime
        self.mtime = mtime
        self.rdevMajor = rdevMajor
        self.rdevMinor = rdevMinor
        self.devMajor = devMajor
        self.devMinor = devMinor
    }

    public init(from reader: inout WireReader) throws(Errno) {
        try reader.require(LISAFSStatx.wireSize)
        mask = try reader.readUInt32()
        blksize = try reader.readUInt32()
        attributes = try reader.readUInt64()
        nlink = try reader.readUInt32()
        uid = try reader.readUInt32()
        gid = try reader.readUInt32()
        mode = try reader.readUInt16()
        try reader.skip(2)
        ino = try reader.readUInt64()
        size = try reader.readUInt64()
        blocks = try reader.readUInt64()
        attributesMask = try reader.readUInt64()
        atime = try StatxTimestamp(from: &reader)
        btime = try StatxTimestamp(from: &reader)
        ctime = try StatxTimestamp(from: &reader)
        mtime = try StatxTimestamp(from: &reader)
        rdevMajor = try reader.readUInt32()
        rdevMinor = try reader.readUInt32()
        devMajor = try reader.readUInt32()
        devMinor = try reader.readUInt32()
    }

    public func encode(to writer: inout WireWriter) {
        writer.writeUInt32(mask)
        writer.writeUInt32(blksize)
        writer.writeUInt64(attributes)
        writer.writeUInt32(nlink)
        writer.writeUInt32(uid)
        writer.writeUInt32(gid)
        writer.writeUInt16(mode)
        writer.writePadding(2)
        writer.writeUInt64(ino)
        writer.writeUInt64(size)
        writer.writeUInt64(blocks)
        writer.writeUInt64(attributesMask)
        atime.encode(to: &writer)
        btime.encode(to: &writer)
        ctime.encode(to: &writer)
        mtime.encode(to: &writer)
        writer.writeUInt32(rdevMajor)
        writer.writeUInt32(rdevMinor)
        writer.writeUInt32(devMajor)
        writer.writeUInt32(devMinor)
    }

    /// Statx mask bits (Linux STATX_*), for building and reading `mask`.
    public enum Mask {
        public static let type: UInt32 = 0x1
        public static let mode: UInt32 = 0x2
        public static let nlink: UInt32 = 0x4
        public static let uid: UInt32 = 0x8
        public static let gid: UInt32 = 0x10
        public static let atime: UInt32 = 0x20
        public static let mtime: UInt32 = 0x40
        public static let ctime: UInt32 = 0x80
        public static let ino: UInt32 = 0x100
        public static let size: UInt32 = 0x200
        public static let blocks: UInt32 = 0x400
        public static let basicStats: UInt32 = 0x7ff
        public static let btime: UInt32 = 0x800
    }
}

/// An inode on the remote file system: the control FD's FDID then its Statx (152 bytes).
public struct Inode: Hashable, Sendable {
    public static let wireSize = 8 + LISAFSStatx.wireSize

    public var controlFD: FDID
    public var stat: LISAFSStatx

    public init(controlFD: FDID, stat: LISAFSStatx) {
        self.controlFD = controlFD
        self.stat = stat
    }

    public init(from reader: inout WireReader) throws(Errno) {
        controlFD = try FDID(from: &reader)
        stat = try LISAFSStatx(from: &reader)
    }

    public func encode(to writer: inout WireWriter) {
        controlFD.encode(to: &writer)
        stat.encode(to: &writer)
    }
}

/// One Getdents64 record: ino u64, dev_minor u32, dev_major u32 (minor first, the reverse of
/// Statx), off u64, type u8 (DT_*), then a SizedString name. Packed, no reclen, 25 bytes + name.
public struct Dirent64: Hashable, Sendable {
    /// Smallest encoded size (an empty name).
    public static let minimumWireSize = 27

    public var ino: UInt64
    public var devMinor: UInt32
    public var devMajor: UInt32
    /// File-system-specific seek cookie.
    public var off: UInt64
    /// DT_* value (4 dir, 8 reg, 10 lnk ...).
    public var type: UInt8
    public var name: SizedString

    public init(
        ino: UInt64, devMinor: UInt32 = 0, devMajor: UInt32 = 0, off: UInt64, type: UInt8,
        name: SizedString
    ) {
        self.ino = ino
        self.devMinor = devMinor
        self.devMajor = devMajor
        self.off = off
        self.type = type
        self.name = name
    }

    public init(from reader: inout WireReader) throws(Errno) {
        ino = try reader.readUInt64()
        devMinor = try reader.readUInt32()
        devMajor = try reader.readUInt32()
        off = try reader.readUInt64()
        type = try reader.readUInt8()
        name = try SizedString(from: &reader)
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        writer.writeUInt64(ino)
        writer.writeUInt32(devMinor)
        writer.writeUInt32(devMajor)
        writer.writeUInt64(off)
        writer.writeUInt8(type)
        try name.encode(to: &writer)
    }
}

/// Why a Walk stopped (u8). A walk that stops early is not an RPC error.
public enum WalkStatus: UInt8, Sendable {
    /// Every component was walked.
    case success = 0
    /// A component does not exist; the inodes before it are returned.
    case componentDoesNotExist = 1
    /// A component is a symlink; its own inode is the last one returned.
    case componentSymlink = 2
}

/// The bits of SetStatRequest.mask (Linux STATX_* values); fsgofer accepts only these six.
public enum SetStatMask {
    public static let mode: UInt32 = 0x2
    public static let uid: UInt32 = 0x8
    public static let gid: UInt32 = 0x10
    public static let atime: UInt32 = 0x20
    public static let mtime: UInt32 = 0x40
    public static let size: UInt32 = 0x200
    /// All settable bits.
    public static let all: UInt32 = mode | uid | gid | atime | mtime | size
}

/// Sentinels for "no valid uid/gid" (u32 max), as gVisor's NoUID/NoGID.
public enum LISAFSIdentity {
    public static let noUID: UInt32 = .max
    public static let noGID: UInt32 = .max
}

import SystemPackage

/// A LISAFS message payload (the bytes after the 8-byte frame header) with its wire encoding.
///
/// `init(from:)` reads the fields in wire order from a bounded reader and throws
/// `Errno.invalidArgument` for a payload that is too short or internally inconsistent;
/// `encode(to:)` appends them, writing padding as zeros, and throws `Errno.messageTooLong` if a
/// value does not fit its wire field. Use `decode(_:)` / `encoded()` for whole payloads.
public protocol LISAFSMessage: Hashable, Sendable {
    /// The MID this message travels under (responses use their request's MID; errors use 0).
    static var messageID: MessageID { get }
    init(from reader: inout WireReader) throws(Errno)
    func encode(to writer: inout WireWriter) throws(Errno)
}

/// A client-to-server message. Requests never carry FDs (fsgofer's receive side accepts none).
public protocol RequestMessage: LISAFSMessage {
    associatedtype Response: ResponseMessage
    /// How many FDs a successful response may donate: the receive control buffer is sized for
    /// this many (0 for most; 1 for OpenAt, OpenCreateAt, Connect, ConnectWithCreds, BindAt,
    /// Accept; 2 for Channel). OpenAt of a directory donates none although it may donate one.
    static var maxResponseFDs: Int { get }
}

/// A server-to-client message answering the request with the same MID.
public protocol ResponseMessage: LISAFSMessage {}

extension RequestMessage {
    public static var maxResponseFDs: Int { 0 }
}

extension LISAFSMessage {
    /// Decodes a whole payload; the payload must be exactly this message (trailing bytes are
    /// rejected with EINVAL).
    public static func decode(_ payload: [UInt8]) throws(Errno) -> Self {
        var reader = WireReader(payload)
        let message = try Self(from: &reader)
        try reader.finish()
        return message
    }

    /// Decodes a payload that starts with this message, ignoring any bytes after it, as gVisor's
    /// decoders do (a server that answers like fsgofer accepts such requests).
    public static func decodeIgnoringTrailingBytes(_ payload: [UInt8]) throws(Errno) -> Self {
        var reader = WireReader(payload)
        return try Self(from: &reader)
    }

    /// The encoded payload (without the frame header).
    public func encoded() throws(Errno) -> [UInt8] {
        var writer = WireWriter()
        try encode(to: &writer)
        return writer.bytes
    }

    /// The whole frame: header (payload_len, this message's MID, zero padding) then the payload.
    public func encodedFrame() throws(Errno) -> [UInt8] {
        var writer = WireWriter()
        writer.writePadding(FrameHeader.size)
        try encode(to: &writer)
        var bytes = writer.bytes
        guard let length = UInt32(exactly: bytes.count - FrameHeader.size) else {
            throw Errno.messageTooLong
        }
        let header = FrameHeader(payloadLength: length, messageID: Self.messageID).encoded()
        bytes.replaceSubrange(0..<FrameHeader.size, with: header)
        return bytes
    }
}

/// A message whose payload is empty (payload_len 0).
public protocol EmptyPayloadMessage: LISAFSMessage {
    init()
}

extension EmptyPayloadMessage {
    public init(from reader: inout WireReader) throws(Errno) { self.init() }
    public func encode(to writer: inout WireWriter) throws(Errno) {}
}

/// The 24-byte prefix shared by OpenCreateAt, MkdirAt, MknodAt and BindAt requests:
/// dir_fd u64, uid u32, gid u32, mode u16, 6 bytes of padding.
struct CreateCommon {
    static let wireSize = 24
    var dirFD: FDID
    var uid: UInt32
    var gid: UInt32
    var mode: UInt16

    init(dirFD: FDID, uid: UInt32, gid: UInt32, mode: UInt16) {
        self.dirFD = dirFD
        self.uid = uid
        self.gid = gid
        self.mode = mode
    }

    init(from reader: inout WireReader) throws(Errno) {
        dirFD = try FDID(from: &reader)
        uid = try reader.readUInt32()
        gid = try reader.readUInt32()
        mode = try reader.readUInt16()
        try reader.skip(6)
    }

    func encode(to writer: inout WireWriter) {
        dirFD.encode(to: &writer)
        writer.writeUInt32(uid)
        writer.writeUInt32(gid)
        writer.writeUInt16(mode)
        writer.writePadding(6)
    }
}

import SystemPackage

// Error (0), Mount (1), Channel (2).

/// MID 0: the server's answer to a failed request. Payload: errno u32 (a Linux number). Has no
/// request form: the client never sends MID 0.
public struct ErrorResponse: ResponseMessage {
    public static let messageID = MessageID.error
    public var errno: UInt32

    public init(errno: UInt32) { self.errno = errno }
    public init(_ errno: Errno) { self.errno = UInt32(bitPattern: errno.rawValue) }

    /// The errno as a swift-system value.
    public var error: Errno { Errno(rawValue: Int32(bitPattern: errno)) }

    public init(from reader: inout WireReader) throws(Errno) {
        errno = try reader.readUInt32()
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        writer.writeUInt32(errno)
    }
}

/// MID 1 request: empty. The client must Mount before any other RPC.
public struct MountRequest: RequestMessage, EmptyPayloadMessage {
    public typealias Response = MountResponse
    public static let messageID = MessageID.mount
    public init() {}
}

/// MID 1 response: root Inode, max_message_size u32 (header included; fsgofer sends
/// 2093056 = 2 MiB − 4 KiB), then the supported MIDs as a u16 count and u16 values.
///
/// The MID list is kept raw so that a newer server advertising MIDs beyond 33 still decodes.
public struct MountResponse: ResponseMessage {
    public static let messageID = MessageID.mount

    public var root: Inode
    public var maxMessageSize: UInt32
    public var supportedMessages: [UInt16]

    public init(root: Inode, maxMessageSize: UInt32, supportedMessages: [UInt16]) {
        self.root = root
        self.maxMessageSize = maxMessageSize
        self.supportedMessages = supportedMessages
    }

    public init(root: Inode, maxMessageSize: UInt32, supported: [MessageID]) {
        self.init(
            root: root, maxMessageSize: maxMessageSize,
            supportedMessages: supported.map(\.rawValue))
    }

    /// The supported MIDs this module knows.
    public var supportedMessageIDs: Set<MessageID> {
        Set(supportedMessages.compactMap(MessageID.init(rawValue:)))
    }

    public func supports(_ message: MessageID) -> Bool {
        supportedMessages.contains(message.rawValue)
    }

    public init(from reader: inout WireReader) throws(Errno) {
        root = try Inode(from: &reader)
        maxMessageSize = try reader.readUInt32()
        let count = Int(try reader.readUInt16())
        try reader.checkCount(count, minimumElementSize: 2)
        var mids: [UInt16] = []
        mids.reserveCapacity(count)
        for _ in 0..<count {
            mids.append(try reader.readUInt16())
        }
        supportedMessages = mids
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        root.encode(to: &writer)
        writer.writeUInt32(maxMessageSize)
        try writer.writeCount16(supportedMessages.count)
        for mid in supportedMessages {
            writer.writeUInt16(mid)
        }
    }
}

/// MID 2 request: empty. Asks for a flipcall channel (`Channel`; `RPCClient.openChannels`
/// sends it, a server answers with `Channel.makeServerChannel`).
public struct ChannelRequest: RequestMessage, EmptyPayloadMessage {
    public typealias Response = ChannelResponse
    public static let messageID = MessageID.channel
    public static var maxResponseFDs: Int { 2 }
    public init() {}
}

/// MID 2 response: data_offset i64, data_length u64; donates 2 FDs (the shared-memory data FD,
/// then the FD-passing socket).
public struct ChannelResponse: ResponseMessage {
    public static let messageID = MessageID.channel
    public var dataOffset: Int64
    public var dataLength: UInt64

    public init(dataOffset: Int64, dataLength: UInt64) {
        self.dataOffset = dataOffset
        self.dataLength = dataLength
    }

    public init(from reader: inout WireReader) throws(Errno) {
        dataOffset = try reader.readInt64()
        dataLength = try reader.readUInt64()
    }

    public func encode(to writer: inout WireWriter) throws(Errno) {
        writer.writeInt64(dataOffset)
        writer.writeUInt64(dataLength)
    }
}

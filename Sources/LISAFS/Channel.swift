import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

// Lock order: no locks. A channel carries one RPC at a time: the client takes it from a pool
// (RPCClient) for the whole call, the server serves it from one thread.

/// The header in front of every message on a channel's datagram (pkg/lisafs's channelHeader):
/// MID u16, the number of FDs sent with it on the FD channel u8, one padding byte.
public struct ChannelHeader: Equatable, Sendable {
    public static let size = 4
    public var rawMessageID: UInt16
    public var fdCount: UInt8

    public init(rawMessageID: UInt16, fdCount: UInt8) {
        self.rawMessageID = rawMessageID
        self.fdCount = fdCount
    }
}

/// A LISAFS channel: the fast path beside the socket. A Channel RPC on the socket returns a
/// packet window in the server's shared-memory file and an FD-passing socket; on it, a request
/// is written straight into the shared datagram (`ChannelHeader` + the same payload as on the
/// socket) and control flips to the server (`FlipcallEndpoint`), which answers in place and
/// flips back. Donated FDs travel on the FD channel, posted before the answer. No system call
/// moves the message bytes: two futex calls per round trip.
public final class Channel: @unchecked Sendable {
    public let endpoint: FlipcallEndpoint
    public let fdChannel: FDChannel

    public init(endpoint: FlipcallEndpoint, fdChannel: FDChannel) {
        self.endpoint = endpoint
        self.fdChannel = fdChannel
    }

    /// The largest payload (after the channel header) one message can carry.
    public var maxPayload: Int { Int(endpoint.dataCapacity) - ChannelHeader.size }

    // MARK: Client

    /// Makes a client channel from a Channel RPC's result (`ChannelResponse` and its two FDs,
    /// the shared-memory file then the FD socket), and connects it. A server's answer is
    /// distrusted: the memory file must be sealed against shrinking (else the server could
    /// make our reads of the window fault), large enough for the window, the window at most
    /// `maxWindowLength`, and the second FD a SOCK_SEQPACKET socket; otherwise EIO. A server
    /// that does not answer the handshake within `handshakeTimeout` gets ETIMEDOUT.
    public static func connect(
        _ result: RPCResult<ChannelResponse>, pollInterval: Duration = .milliseconds(50),
        peerIsAlive: (@Sendable () -> Bool)? = nil, handshakeTimeout: Duration = .seconds(5)
    ) throws(Errno) -> Channel {
        guard result.fds.count == 2, let memory = result.fds[0].descriptor,
            let socket = result.fds[1].take()
        else { throw Errno.ioError }
        let fdChannel = FDChannel(socket: OwnedFileDescriptor(socket))
        let response = result.response
        guard FDChannel.isSequencedPacketSocket(socket),
            let length = Int(exactly: response.dataLength), length <= maxWindowLength, response.dataOffset >= 0,
            isSealedAgainstShrinking(memory, covering: response.dataOffset, length: length)
        else { throw Errno.ioError }
        let endpoint: FlipcallEndpoint
        do throws(Errno) {
            endpoint = try FlipcallEndpoint(
                side: .client, window: PacketWindowDescriptor(fd: memory, offset: response.dataOffset, length: length),
                pollInterval: pollInterval, peerIsAlive: peerIsAlive)
        } catch {
            throw Errno.ioError
        }
        // The mapping keeps the memory; the FD itself is not needed any more.
        result.fds[0].close()
        try endpoint.connect(deadline: ContinuousClock.now.advanced(by: handshakeTimeout))
        return Channel(endpoint: endpoint, fdChannel: fdChannel)
    }

    /// The largest window a client maps (gVisor's are 2 MiB): a server's answer beyond it is
    /// refused rather than mapped.
    public static let maxWindowLength = 64 << 20

    static func isSealedAgainstShrinking(_ fd: FileDescriptor, covering offset: Int64, length: Int) -> Bool {
        let seals = fcntl(fd.rawValue, MemorySeal.getSeals)
        guard seals >= 0, seals & MemorySeal.shrink != 0 else { return false }
        var info = stat()
        guard fstat(fd.rawValue, &info) == 0 else { return false }
        let (end, overflow) = offset.addingReportingOverflow(Int64(length))
        return !overflow && Int64(info.st_size) >= end
    }

    /// Client side of one RPC on this channel; the same outcomes as `Communicator.call`. A
    /// transport failure (the server shut the channel down, died, or broke the protocol)
    /// throws ECONNRESET or EIO and leaves `isBroken` set: the caller drops the channel.
    public func call<R: RequestMessage>(_ request: R) throws(Errno) -> RPCResult<R.Response> {
        guard !isBroken else { throw Errno.ioError }
        let payload = try request.encoded()
        guard payload.count <= maxPayload else { throw Errno.messageTooLong }
        // FDs are matched to answers by order alone: any a server sent beyond what an earlier
        // answer announced must not pass for this answer's (only RPCs that take FDs pay the
        // extra nonblocking receive).
        if R.maxResponseFDs > 0 { fdChannel.discardQueued() }
        writeMessage(rawMessageID: R.messageID.rawValue, fdCount: 0, payload: payload)
        let length: UInt32
        do throws(Errno) {
            length = try endpoint.sendReceive(UInt32(ChannelHeader.size + payload.count))
        } catch {
            isBroken = true
            throw error
        }
        let (header, body) = try readMessage(length: length)
        var fds: [OwnedFileDescriptor] = []
        for index in 0..<Int(header.fdCount) {
            guard let fd = try? fdChannel.receiveNow() else { break }
            if index < R.maxResponseFDs { fds.append(fd) } else { fd.close() }
        }
        do throws(Errno) {
            return try interpretReply(
                to: request, rawMessageID: header.rawMessageID, payload: body, fds: fds)
        } catch {
            if header.rawMessageID != MessageID.error.rawValue && header.rawMessageID != R.messageID.rawValue {
                isBroken = true
            }
            throw error
        }
    }

    /// True once a transport or framing error made this channel unusable.
    public private(set) var isBroken = false

    /// Shuts the channel down for both sides (any thread).
    public func shutdown() {
        endpoint.shutdown()
    }

    // MARK: Server

    /// Serves requests until the client shuts the channel down, sends an empty datagram (the
    /// end, as in pkg/lisafs), breaks the protocol, or `shutdown()` is called. `handle` answers
    /// one request (MID and payload, both copied out of shared memory) with the response MID,
    /// payload and the FDs to donate (borrowed: the caller closes them afterwards).
    public func serve(
        _ handle: (UInt16, [UInt8]) -> (rawMessageID: UInt16, payload: [UInt8], fds: [FileDescriptor])
    ) {
        guard var length = try? endpoint.receiveFirst() else { return }
        while length > 0 {
            guard let (header, body) = try? readMessage(length: length) else { return }
            // Requests carry no FDs; any a client queued are left on its side of the socket.
            var (mid, payload, fds) = handle(header.rawMessageID, body)
            if payload.count > maxPayload || fds.count > Int(UInt8.max) {
                (mid, payload, fds) = (MessageID.error.rawValue, ErrorResponse(.ioError).encodedPayload, [])
            }
            var sent: UInt8 = 0
            for fd in fds {
                // As in pkg/lisafs, FDs are a supplement: a failed send stops the FDs (their
                // order matters), not the answer.
                guard (try? fdChannel.send(fd)) != nil else { break }
                sent += 1
            }
            writeMessage(rawMessageID: mid, fdCount: sent, payload: payload)
            guard let next = try? endpoint.sendReceive(UInt32(ChannelHeader.size + payload.count)) else { return }
            length = next
        }
    }

    // MARK: Datagram framing

    private func writeMessage(rawMessageID: UInt16, fdCount: UInt8, payload: [UInt8]) {
        let data = endpoint.data
        data.storeBytes(of: rawMessageID.littleEndian, toByteOffset: 0, as: UInt16.self)
        data[2] = fdCount
        data[3] = 0
        payload.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress, let destination = data.baseAddress else { return }
            (destination + ChannelHeader.size).copyMemory(from: base, byteCount: bytes.count)
        }
    }

    /// Copies the received message out of shared memory once (the peer may keep writing it).
    private func readMessage(length: UInt32) throws(Errno) -> (ChannelHeader, [UInt8]) {
        guard Int(length) >= ChannelHeader.size, length <= endpoint.dataCapacity else {
            isBroken = true
            throw Errno.ioError
        }
        let copy = Array(UnsafeRawBufferPointer(rebasing: endpoint.data[0..<Int(length)]))
        let mid = UInt16(copy[0]) | UInt16(copy[1]) << 8
        return (ChannelHeader(rawMessageID: mid, fdCount: copy[2]), Array(copy[ChannelHeader.size...]))
    }
}

/// memfd seal constants (fcntl(2)), declared by Glibc only under _GNU_SOURCE.
enum MemorySeal {
    static let addSeals: Int32 = 1033
    static let getSeals: Int32 = 1034
    static let seal: Int32 = 0x1
    static let shrink: Int32 = 0x2
}

extension ErrorResponse {
    /// The 4-byte payload (encoding an errno cannot fail).
    var encodedPayload: [UInt8] {
        var writer = WireWriter()
        writer.writeUInt32(errno)
        return writer.bytes
    }
}

/// The client's reading of a reply, shared by the socket and channel transports: the decoded
/// response if the reply carries the request's MID; the carried errno for an Error reply (an
/// errno of 0 is EIO); EIO for an undecodable payload or any other MID. FDs are closed unless
/// returned.
func interpretReply<R: RequestMessage>(
    to request: R, rawMessageID mid: UInt16, payload: [UInt8], fds: [OwnedFileDescriptor]
) throws(Errno) -> RPCResult<R.Response> {
    switch mid {
    case MessageID.error.rawValue:
        for fd in fds { fd.close() }
        guard let error = try? ErrorResponse.decode(payload), error.errno != 0 else {
            throw Errno.ioError
        }
        throw error.error
    case _ where mid == R.messageID.rawValue:
        guard let response = try? R.Response.decode(payload) else {
            for fd in fds { fd.close() }
            throw Errno.ioError
        }
        return RPCResult(response: response, fds: fds)
    default:
        for fd in fds { fd.close() }
        throw Errno.ioError
    }
}

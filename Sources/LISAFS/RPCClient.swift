import Synchronization
import SystemPackage

// Lock order: RPCClient.state (one Mutex) is the only lock; it is held for a whole RPC (send +
// receive) and nothing else is locked while it is held. `shutdown()` takes no lock.

/// A response with the FDs that came with it (owned: closed when dropped unless taken).
public struct RPCResult<Response: ResponseMessage>: Sendable {
    public var response: Response
    public var fds: [OwnedFileDescriptor]
}

extension Communicator {
    /// Client side of one RPC on this communicator: sends `request`, receives the reply with a
    /// control buffer for `R.maxResponseFDs` FDs, and
    /// * returns the decoded `R.Response` if the reply carries the request's MID,
    /// * throws the carried errno if it is an Error (MID 0) reply (any FDs are closed; an errno of
    ///   0 becomes EIO),
    /// * throws EIO for a reply with any other MID or an undecodable payload (the stream is
    ///   still framed correctly, so the communicator is not marked broken for a bad payload, but
    ///   it is for a wrong MID: request and reply are out of step).
    public func call<R: RequestMessage>(_ request: R) throws(Errno) -> RPCResult<R.Response> {
        try send(request)
        let frame = try receiveFrame(maxFDs: R.maxResponseFDs)
        let mid = frame.header.rawMessageID
        switch mid {
        case MessageID.error.rawValue:
            for fd in frame.fds { fd.close() }
            guard let error = try? ErrorResponse.decode(frame.payload), error.errno != 0 else {
                throw Errno.ioError
            }
            throw error.error
        case _ where mid == R.messageID.rawValue:
            guard let response = try? R.Response.decode(frame.payload) else {
                for fd in frame.fds { fd.close() }
                throw Errno.ioError
            }
            return RPCResult(response: response, fds: frame.fds)
        default:
            for fd in frame.fds { fd.close() }
            close()
            throw Errno.ioError
        }
    }
}

/// A thread-safe client connection: one `Communicator` behind a mutex, so RPCs from several
/// threads are serialized (LISAFS allows one in flight per socket). It also performs the Mount
/// handshake and remembers what the server advertised:
/// * `maxMessageSize` becomes min(local limit, the server's max_message_size); a server value
///   smaller than a frame header is a protocol error (EIO);
/// * after Mount, calling a message the server did not list throws EOPNOTSUPP without sending
///   anything (fsgofer leaves Flush out; gVisor's client then skips the RPC).
public final class RPCClient: Sendable {
    private struct State {
        var communicator: Communicator
        var supported: Set<UInt16>?
    }

    private let state: Mutex<State>
    private let socket: FileDescriptor

    /// Takes ownership of `communicator` (do not use it directly afterwards).
    public init(_ communicator: sending Communicator) {
        socket = communicator.socket
        state = Mutex(State(communicator: communicator, supported: nil))
    }

    /// Convenience: a client over a connected socket this object will own.
    public convenience init(
        socket: FileDescriptor, maxMessageSize: UInt32 = Communicator.defaultMaxMessageSize
    ) {
        self.init(Communicator(socket: socket, maxMessageSize: maxMessageSize))
    }

    /// Sends Mount and records the server's limits. Returns the root inode and the lists.
    public func mount() throws(Errno) -> MountResponse {
        try state.withLock { (state: inout State) throws(Errno) -> MountResponse in
            let result = try state.communicator.call(MountRequest())
            let response = result.response
            guard response.maxMessageSize >= UInt32(FrameHeader.size) else {
                state.communicator.close()
                throw Errno.ioError
            }
            state.communicator.maxMessageSize = min(
                state.communicator.maxMessageSize, response.maxMessageSize)
            state.supported = Set(response.supportedMessages)
            return response
        }
    }

    /// One RPC; see `Communicator.call`. Throws EOPNOTSUPP for a message the mounted server does
    /// not support, and EIO once the connection is broken.
    public func call<R: RequestMessage>(_ request: R) throws(Errno) -> RPCResult<R.Response> {
        try state.withLock { (state: inout State) throws(Errno) -> RPCResult<R.Response> in
            if let supported = state.supported, !supported.contains(R.messageID.rawValue) {
                throw Errno.notSupported
            }
            return try state.communicator.call(request)
        }
    }

    /// Whether the mounted server listed `message` (true before Mount: nothing is known yet).
    public func supports(_ message: MessageID) -> Bool {
        state.withLock { state in state.supported?.contains(message.rawValue) ?? true }
    }

    /// The current frame size limit (header included).
    public var maxMessageSize: UInt32 {
        state.withLock { state in state.communicator.maxMessageSize }
    }

    /// True once a transport or framing error made the connection unusable.
    public var isBroken: Bool {
        state.withLock { state in state.communicator.isBroken }
    }

    /// Shuts the socket down without taking the lock: an RPC blocked waiting for the server fails
    /// promptly (EOF → ECONNRESET/EIO), and later calls fail with EIO.
    public func shutdown() {
        Communicator.shutdown(socket)
    }

    /// Shuts down and closes the connection.
    public func close() {
        shutdown()
        state.withLock { state in state.communicator.close() }
    }
}

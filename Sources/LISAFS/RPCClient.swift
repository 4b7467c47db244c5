import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

// Lock order: RPCClient.state (one Mutex) is the only lock; it is held for a whole RPC (send +
// receive) and nothing else is locked while it is held. `shutdown()` takes no lock.

/// A response with the FDs that came with it (owned: closed when dropped unless taken).
public struct RPCResult<Response: ResponseMessage>: Sendable {
    public var response: Response
    public var fds: [OwnedFileDescriptor]

    public init(response: Response, fds: [OwnedFileDescriptor]) {
        self.response = response
        self.fds = fds
    }
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
        do throws(Errno) {
            return try interpretReply(to: request, rawMessageID: mid, payload: frame.payload, fds: frame.fds)
        } catch {
            // A reply with neither MID: request and reply are out of step.
            if mid != MessageID.error.rawValue && mid != R.messageID.rawValue { close() }
            throw error
        }
    }
}

/// A thread-safe client connection: one `Communicator` behind a mutex, so RPCs from several
/// threads are serialized on the socket (LISAFS allows one in flight per socket), plus, once
/// `openChannels` made them, a pool of flipcall `Channel`s that carry RPCs in parallel and
/// without copying through the kernel (gVisor's client prefers a free channel and falls back
/// to the socket when all are busy; so does this one). It also performs the Mount handshake
/// and remembers what the server advertised:
/// * `maxMessageSize` becomes min(local limit, the server's max_message_size); a server value
///   smaller than a frame header is a protocol error (EIO);
/// * after Mount, calling a message the server did not list throws EOPNOTSUPP without sending
///   anything (fsgofer leaves Flush out; gVisor's client then skips the RPC).
///
/// A channel whose transport fails is dropped (that RPC is EIO). Before each channel RPC the
/// socket is polled: if it shows the server gone, the whole client shuts down so that this and
/// every later RPC fail at once (a dead gofer's socket hangs up; its channels cannot say so).
///
/// Lock order: `state` is held for one whole socket RPC; `supported` and `channels` are leaves,
/// never held across an RPC (a channel is taken out of the pool for its RPC).
public final class RPCClient: Sendable {
    private struct State {
        var communicator: Communicator
    }

    private struct ChannelPool {
        /// Channels not carrying an RPC now (used last-in, first-out, as gVisor's client does).
        var idle: [Channel] = []
        /// Every channel still open (for `shutdown`).
        var all: [Channel] = []
        /// After `shutdown`: no channel is handed out again.
        var closed = false
    }

    private let state: Mutex<State>
    private let supported = Mutex<Set<UInt16>?>(nil)
    private let channels = Mutex(ChannelPool())
    private let socket: FileDescriptor
    private let channelCalls = Atomic<Int>(0)
    private let socketCalls = Atomic<Int>(0)

    /// gVisor's channel count per connection: the CPUs available, at least 2 and at most 4
    /// (each channel is a 2 MiB shared window and a server thread).
    public static var defaultChannelCount: Int {
        min(4, max(2, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
    }

    /// Takes ownership of `communicator` (do not use it directly afterwards).
    public init(_ communicator: sending Communicator) {
        socket = communicator.socket
        state = Mutex(State(communicator: communicator))
    }

    /// Convenience: a client over a connected socket this object will own.
    public convenience init(
        socket: FileDescriptor, maxMessageSize: UInt32 = Communicator.defaultMaxMessageSize
    ) {
        self.init(Communicator(socket: socket, maxMessageSize: maxMessageSize))
    }

    /// Sends Mount and records the server's limits. Returns the root inode and the lists.
    public func mount() throws(Errno) -> MountResponse {
        let response = try state.withLock { (state: inout State) throws(Errno) -> MountResponse in
            let result = try state.communicator.call(MountRequest())
            let response = result.response
            guard response.maxMessageSize >= UInt32(FrameHeader.size) else {
                state.communicator.close()
                throw Errno.ioError
            }
            state.communicator.maxMessageSize = min(
                state.communicator.maxMessageSize, response.maxMessageSize)
            return response
        }
        supported.withLock { $0 = Set(response.supportedMessages) }
        return response
    }

    /// Asks the server for up to `count` channels (one Channel RPC each, on the socket) and
    /// connects them; stops at the first refusal (a server's limit answers ENOSYS, a server
    /// without channels EOPNOTSUPP) or bad answer. Returns how many Channel RPCs were sent and
    /// how many channels are now open. Needs Mount first.
    @discardableResult
    public func openChannels(_ count: Int, pollInterval: Duration = .milliseconds(50)) -> (sent: Int, opened: Int) {
        guard supports(.channel) else { return (0, 0) }
        let socket = self.socket
        let alive: @Sendable () -> Bool = { RPCClient.socketLooksAlive(socket) }
        var sent = 0
        var opened = 0
        while opened < count {
            sent += 1
            guard let result = try? state.withLock({ (state: inout State) throws(Errno) in
                try state.communicator.call(ChannelRequest())
            }), let channel = try? Channel.connect(result, pollInterval: pollInterval, peerIsAlive: alive)
            else { break }
            let kept = channels.withLock { pool -> Bool in
                guard !pool.closed else { return false }
                pool.all.append(channel)
                pool.idle.append(channel)
                return true
            }
            guard kept else {
                channel.shutdown()
                break
            }
            opened += 1
        }
        return (sent, opened)
    }

    /// Channels open now (idle or carrying an RPC).
    public var channelCount: Int { channels.withLock { $0.all.count } }

    /// RPCs sent so far by `call`, by the transport that carried them (Mount and Channel RPCs
    /// are not included: they always go on the socket).
    public var callsByTransport: (channel: Int, socket: Int) {
        (channelCalls.load(ordering: .relaxed), socketCalls.load(ordering: .relaxed))
    }

    /// One RPC, on a free channel if there is one, else on the socket; see `Communicator.call`.
    /// Throws EOPNOTSUPP for a message the mounted server does not support, and EIO once the
    /// connection is broken.
    public func call<R: RequestMessage>(_ request: R) throws(Errno) -> RPCResult<R.Response> {
        if let supported = supported.withLock({ $0 }), !supported.contains(R.messageID.rawValue) {
            throw Errno.notSupported
        }
        if let channel = try takeChannel() {
            // A gofer that hung up its socket is gone even if a channel thread of it lingers:
            // one poll(2) per RPC makes its death visible at once, not only at a poll interval.
            guard Self.socketLooksAlive(socket) else {
                drop(channel)
                shutdown()
                throw Errno.ioError
            }
            channelCalls.add(1, ordering: .relaxed)
            do throws(Errno) {
                let result = try channel.call(request)
                giveBack(channel)
                return result
            } catch {
                guard channel.isBroken else {
                    giveBack(channel)
                    throw error
                }
                drop(channel)
                if !Self.socketLooksAlive(socket) { shutdown() }
                throw Errno.ioError
            }
        }
        socketCalls.add(1, ordering: .relaxed)
        return try state.withLock { (state: inout State) throws(Errno) -> RPCResult<R.Response> in
            try state.communicator.call(request)
        }
    }

    /// An idle channel, or nil (then the socket carries the RPC); EIO after `shutdown`.
    private func takeChannel() throws(Errno) -> Channel? {
        try channels.withLock { (pool: inout ChannelPool) throws(Errno) -> Channel? in
            if pool.closed { throw Errno.ioError }
            return pool.idle.popLast()
        }
    }

    private func giveBack(_ channel: Channel) {
        let kept = channels.withLock { pool -> Bool in
            guard !pool.closed else { return false }
            pool.idle.append(channel)
            return true
        }
        if !kept { channel.shutdown() }
    }

    private func drop(_ channel: Channel) {
        channel.shutdown()
        channels.withLock { pool in pool.all.removeAll { $0 === channel } }
    }

    /// Whether the server end of `socket` is still there (no hang-up or error pending).
    static func socketLooksAlive(_ socket: FileDescriptor) -> Bool {
        let peerHungUp: Int16 = 0x2000  // POLLRDHUP (declared by Glibc only under _GNU_SOURCE)
        var descriptor = pollfd(fd: socket.rawValue, events: peerHungUp, revents: 0)
        guard poll(&descriptor, 1, 0) >= 0 else { return true }
        return descriptor.revents & (Int16(POLLHUP | POLLERR | POLLNVAL) | peerHungUp) == 0
    }

    /// Whether the mounted server listed `message` (true before Mount: nothing is known yet).
    public func supports(_ message: MessageID) -> Bool {
        supported.withLock { $0?.contains(message.rawValue) ?? true }
    }

    /// The current frame size limit (header included).
    public var maxMessageSize: UInt32 {
        state.withLock { state in state.communicator.maxMessageSize }
    }

    /// True once a transport or framing error, or `shutdown`, made the connection unusable.
    public var isBroken: Bool {
        channels.withLock { $0.closed } || state.withLock { state in state.communicator.isBroken }
    }

    /// Shuts the socket and every channel down without waiting for an RPC in flight: an RPC
    /// blocked waiting for the server fails promptly (EOF → ECONNRESET/EIO, or a channel's
    /// shutdown), and later calls fail with EIO.
    public func shutdown() {
        Communicator.shutdown(socket)
        let all = channels.withLock { pool -> [Channel] in
            pool.closed = true
            pool.idle = []
            defer { pool.all = [] }
            return pool.all
        }
        for channel in all { channel.shutdown() }
    }

    /// Shuts down and closes the connection.
    public func close() {
        shutdown()
        state.withLock { state in state.communicator.close() }
    }
}

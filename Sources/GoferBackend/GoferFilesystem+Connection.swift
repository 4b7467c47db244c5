import LISAFS
import Synchronization
import SystemPackage
import VFSCore

// The gofer connection: mounting (at init and on `attach`), channels, RPCs and their counts,
// batched closes. Lock order: as GoferFilesystem (`connectionState` and `counts` are leaves,
// never held across an RPC).

extension GoferFilesystem {
    /// A client mounted on `socket` with one Mount RPC (`mountSent` runs once the gofer has
    /// answered it, for the counts). A transport failure is EIO; a root that is not a directory
    /// is ENOTDIR. The client is closed on any failure.
    static func mountedClient(
        socket: FileDescriptor, mountSent: () -> Void = {}
    ) throws(Errno) -> (RPCClient, MountResponse) {
        let client = RPCClient(socket: socket)
        let mounted: MountResponse
        do {
            mounted = try client.mount()
        } catch {
            client.close()
            throw client.isBroken ? .ioError : error
        }
        mountSent()
        guard GoferFilesystem.fileType(mounted.root.stat) == .directory else {
            client.close()
            throw .notDirectory
        }
        return (client, mounted)
    }

    /// Asks for `options.channels` channels on a freshly mounted client; each Channel RPC is
    /// counted.
    func openChannels(on client: RPCClient) {
        guard options.channels > 0 else { return }
        let (sent, _) = client.openChannels(options.channels)
        if sent > 0 { counts.withLock { $0[.channel, default: 0] += sent } }
    }

    /// Channels open on the current connection.
    public var channelCount: Int { connectionState.withLock { $0.client }?.channelCount ?? 0 }

    /// RPCs the current connection carried on channels and on the socket (Mount and Channel
    /// RPCs excluded).
    public var callsByTransport: (channel: Int, socket: Int) {
        connectionState.withLock { $0.client }?.callsByTransport ?? (0, 0)
    }

    // MARK: - Connection

    /// Replaces the gofer connection (after the old gofer died, or to move to another): one
    /// Mount RPC on `socket`; see the type's documentation for what happens to open files.
    /// The new root must be a directory.
    public func attach(socket: FileDescriptor) throws(Errno) {
        let (client, mounted) = try GoferFilesystem.mountedClient(socket: socket) { count(.mount) }
        openChannels(on: client)
        let old = connectionState.withLock { state -> RPCClient? in
            let old = state.client
            state.client = client
            state.generation += 1
            state.maxMessageSize = client.maxMessageSize
            rootDentry.rebind(mounted.root, generation: state.generation)
            return old
        }
        old?.close()
        closer.discardAll()
        cache.removeAll()
    }

    /// Shuts the gofer connection down (as if the gofer died): every later RPC is EIO.
    public func disconnect() {
        let client = connectionState.withLock { $0.client }
        client?.shutdown()
    }

    /// False once the connection is broken (the gofer died or `disconnect` was called).
    public var isConnected: Bool {
        guard let client = connectionState.withLock({ $0.client }) else { return false }
        return !client.isBroken
    }

    var generation: UInt64 { connectionState.withLock { $0.generation } }

    // MARK: - RPCs and their counts

    /// How many RPCs of each message type this file system has sent since it was made (or
    /// since `resetRPCCounts`).
    public var rpcCounts: [MessageID: Int] { counts.withLock { $0 } }

    /// The count for one message type.
    public func rpcCount(_ message: MessageID) -> Int { counts.withLock { $0[message, default: 0] } }

    /// Walk-family RPCs (Walk + WalkStat) sent.
    public var walkRPCCount: Int { rpcCount(.walk) + rpcCount(.walkStat) }

    /// All RPCs sent.
    public var totalRPCCount: Int { counts.withLock { $0.values.reduce(0, +) } }

    public func resetRPCCounts() { counts.withLock { $0 = [:] } }

    func count(_ message: MessageID) {
        counts.withLock { $0[message, default: 0] += 1 }
    }

    /// One RPC on the current connection. A broken connection (the gofer died) is EIO, at
    /// once; an Error response is its errno. Pending closes go first once a batch is full.
    func call<R: RequestMessage>(_ request: R) throws(Errno) -> RPCResult<R.Response> {
        if closer.pendingCount >= options.closeBatchSize { flushPendingCloses() }
        guard let client = connectionState.withLock({ $0.client }) else { throw .ioError }
        count(R.messageID)
        do {
            return try client.call(request)
        } catch {
            if client.isBroken { throw .ioError }
            throw error
        }
    }

    /// Sends the pending closes of this connection's FDIDs now, in Close RPCs as big as a frame
    /// allows.
    public func flushPendingCloses() {
        let (client, generation, maxMessage) = connectionState.withLock {
            ($0.client, $0.generation, $0.maxMessageSize)
        }
        let fdids = closer.take(generation: generation)
        guard let client, !fdids.isEmpty else { return }
        let perFrame = max(1, (Int(maxMessage) - FrameHeader.size - 2) / 8)
        var start = 0
        while start < fdids.count {
            let end = min(fdids.count, start + perFrame)
            count(.close)
            _ = try? client.call(CloseRequest(fds: Array(fdids[start..<end])))
            start = end
        }
    }

    /// The largest data payload of one PRead/PWrite on this connection.
    var maxIOChunk: Int {
        let limit = Int(connectionState.withLock { $0.maxMessageSize })
        return max(4096, limit - FrameHeader.size - 32)
    }
}

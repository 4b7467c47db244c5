// Channel (MID 2): a client asks for a flipcall channel; the connection allocates a packet
// window in its shared-memory file, answers with the window (data_offset, data_length) and
// two donated FDs (the memory file, the client's end of an FD-passing socket), and serves
// the channel on a thread of its own until the client or the connection ends it. Requests on
// a channel go through the same `handle` as the socket's: same checks, same answers.
// Lock order: `channels` (Connection.swift) is a leaf; it is never held while a request is
// handled.
import Glibc
import LISAFS
import Synchronization
import SystemPackage

/// A connection's channels.
struct ChannelSet: Sendable {
    /// The shared-memory file, made at the first Channel RPC.
    var allocator: PacketWindowAllocator?
    /// Channels being served.
    var open: [Channel] = []
    /// After the connection ended: no new channels.
    var closed = false
}

extension Connection {
    /// A new channel, unless the connection has `maxChannelsPerConnection` already (ENOSYS,
    /// pkg/lisafs's answer; each channel is a 2 MiB window and a thread).
    func openChannel() throws(Errno) -> Reply {
        let maxMessageSize = options.maxMessageSize
        let maxChannels = options.maxChannelsPerConnection
        let made = try channels.withLock {
            (set: inout ChannelSet) throws(Errno) -> (channel: Channel, response: ChannelResponse, donate: [OwnedFileDescriptor]) in
            guard !set.closed, set.open.count < maxChannels else { throw Errno.noFunction }
            let allocator: PacketWindowAllocator
            if let existing = set.allocator {
                allocator = existing
            } else {
                allocator = try PacketWindowAllocator()
                set.allocator = allocator
            }
            let made = try Channel.makeServerChannel(allocator: allocator, maxMessageSize: maxMessageSize)
            set.open.append(made.channel)
            return made
        }
        guard startServing(made.channel) else {
            forget(made.channel)
            made.channel.shutdown()
            throw Errno.resourceTemporarilyUnavailable
        }
        return Reply(made.response, fds: made.donate.compactMap { $0.take().map { HostFD($0.rawValue) } })
    }

    /// Serves `channel` on a new detached thread (it shares this thread's file-system
    /// attributes, so the private zero umask carries over). False if no thread could be made.
    private func startServing(_ channel: Channel) -> Bool {
        channelThreads.add(1, ordering: .acquiringAndReleasing)
        let started = startDetachedThread { [self] in
            serve(channel)
            channelThreads.subtract(1, ordering: .acquiringAndReleasing)
        }
        if !started { channelThreads.subtract(1, ordering: .acquiringAndReleasing) }
        return started
    }

    /// Waits until every channel thread has left its loop (a shut-down channel's thread wakes at
    /// once; the bound only guards against a thread stuck in a host call).
    func waitForChannelThreads() {
        var waitedMicroseconds = 0
        while channelThreads.load(ordering: .acquiring) > 0 && waitedMicroseconds < 5_000_000 {
            usleep(200)
            waitedMicroseconds += 200
        }
    }

    /// The channel's request loop; the donated host fds of each answer are kept open until the
    /// channel has sent them.
    private func serve(_ channel: Channel) {
        var donatedUntilSent: [HostFD] = []
        channel.serve { rawMessageID, payload in
            switch handle(rawMessageID: rawMessageID, payload: payload) {
            case .success(let (mid, encoded, fds)):
                donatedUntilSent = fds
                return (mid, encoded, fds.map { FileDescriptor(rawValue: $0.raw) })
            case .failure(let error):
                donatedUntilSent = []
                let errorPayload = (try? ErrorResponse(error).encoded()) ?? []
                return (MessageID.error.rawValue, errorPayload, [])
            }
        }
        withExtendedLifetime(donatedUntilSent) {}
        forget(channel)
    }

    private func forget(_ channel: Channel) {
        channels.withLock { set in set.open.removeAll { $0 === channel } }
    }

    /// Ends every channel (the connection's socket closed): their threads wake and return.
    /// Called by `finish`.
    func shutDownChannels() {
        let open = channels.withLock { set -> [Channel] in
            set.closed = true
            return set.open
        }
        for channel in open { channel.shutdown() }
    }
}

import CLinuxSupport
import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

// Lock order: this file takes no locks. An endpoint is driven by one thread at a time (the
// protocol is strictly synchronous: exactly one side is active); only `shutdown()` may be
// called from another thread.

/// A packet window: `length` bytes at `offset` of a shared-memory file (a memfd), mapped by
/// both peers. The descriptor is borrowed: mapping it does not keep it open.
public struct PacketWindowDescriptor: Sendable, Equatable {
    public var fd: FileDescriptor
    public var offset: Int64
    public var length: Int

    public init(fd: FileDescriptor, offset: Int64, length: Int) {
        self.fd = fd
        self.offset = offset
        self.length = length
    }
}

/// One end of a flipcall connection: gVisor's pkg/flipcall control transfer between two
/// processes through a shared packet window, as LISAFS channels use it.
///
/// Layout of the window (native endian, x86-64 little-endian): a 16-byte header, then the
/// datagram. Header: the connection state u32 @0 (0 client active, 1 server active,
/// 2 shut down), the datagram length u32 @4, 8 reserved bytes. The side whose state is
/// current owns the datagram; it hands control over by storing the length, swapping the
/// state to the peer's (compare-and-swap from its own) and FUTEX_WAKE-ing the word; the peer
/// sleeps in FUTEX_WAIT on the word until the state is its own.
///
/// Connecting: the client (initially active) writes a connection request, the JSON text
/// `{}` and a newline, and hands over; the server checks it is a JSON object, answers the
/// same way, and hands back; only then does the first real datagram travel. That is what
/// gVisor's endpoints exchange (an empty JSON object each way), so our endpoints connect to
/// theirs.
///
/// Distrust: the peer shares the memory and may write anything at any time. Every length is
/// checked against the datagram capacity; a state that is neither side's nor "shut down" is a
/// protocol error; callers copy a datagram out once before decoding it. The peer cannot
/// shrink the mapping under us: the server seals its memfd against shrinking and a client
/// maps only a sealed file (`Channel`).
///
/// Waiting is bounded: a wait wakes every `pollInterval` to ask `peerIsAlive` (the client
/// polls its LISAFS socket: a dead gofer is noticed within one interval, never waited for
/// forever) and to notice a local `shutdown()`.
public final class FlipcallEndpoint: @unchecked Sendable {
    public enum Side: Sendable {
        /// Initially active; first call `connect()`.
        case client
        /// Initially inactive; first call `receiveFirst()`.
        case server
    }

    /// The packet header's size; the datagram starts here.
    public static let headerSize = 16
    /// The smallest window an endpoint accepts (one page, as gVisor's).
    public static let minimumWindowLength = 4096

    static let clientActive: UInt32 = 0
    static let serverActive: UInt32 = 1
    static let shutDown: UInt32 = 2

    /// The connection request and response: an empty JSON object and a newline.
    static let handshake: [UInt8] = Array("{}\n".utf8)

    public let side: Side
    /// The datagram's capacity in bytes (window length − header).
    public let dataCapacity: UInt32
    /// How long one FUTEX_WAIT may sleep before `peerIsAlive` and the local shutdown flag are
    /// checked again.
    public let pollInterval: Duration

    private let window: UnsafeMutableRawPointer
    private let windowLength: Int
    private let activeState: UInt32
    private let inactiveState: UInt32
    private let peerIsAlive: (@Sendable () -> Bool)?
    private let isShutDownLocally = Atomic<Bool>(false)

    /// Maps `descriptor` (MAP_SHARED, read-write). The window must be at least a page, at most
    /// 4 GiB, at a page-aligned offset.
    public init(
        side: Side, window descriptor: PacketWindowDescriptor, pollInterval: Duration = .milliseconds(50),
        peerIsAlive: (@Sendable () -> Bool)? = nil
    ) throws(Errno) {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard descriptor.length >= Self.minimumWindowLength, descriptor.length <= Int(UInt32.max),
            descriptor.offset >= 0, pageSize > 0, descriptor.offset % Int64(pageSize) == 0
        else { throw Errno.invalidArgument }
        let mapped = mmap(
            nil, descriptor.length, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor.fd.rawValue,
            off_t(descriptor.offset))
        guard let mapped, mapped != MAP_FAILED else { throw Errno(rawValue: errno) }
        self.side = side
        self.window = mapped
        self.windowLength = descriptor.length
        self.dataCapacity = UInt32(descriptor.length - Self.headerSize)
        self.pollInterval = pollInterval
        self.peerIsAlive = peerIsAlive
        switch side {
        case .client: (activeState, inactiveState) = (Self.clientActive, Self.serverActive)
        case .server: (activeState, inactiveState) = (Self.serverActive, Self.clientActive)
        }
    }

    deinit {
        munmap(window, windowLength)
    }

    /// The datagram area (shared with the peer: read each byte once, never read back what was
    /// written).
    public var data: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: window + Self.headerSize, count: Int(dataCapacity))
    }

    private var stateWord: UnsafeMutablePointer<UInt32> {
        window.assumingMemoryBound(to: UInt32.self)
    }

    private var lengthWord: UnsafeMutablePointer<UInt32> {
        (window + 4).assumingMemoryBound(to: UInt32.self)
    }

    // MARK: Connection set-up

    /// Client: sends the connection request and waits for the server's answer, at most until
    /// `deadline` if one is given (then ETIMEDOUT: a server that never answers cannot hold up
    /// a mount).
    public func connect(deadline: ContinuousClock.Instant? = nil) throws(Errno) {
        guard side == .client else { throw Errno.invalidArgument }
        try writeHandshake()
        try handOver()
        try waitUntilActive(deadline: deadline)
        try checkHandshake()
    }

    /// Server: waits for the client's connection request, answers it, then waits for the first
    /// datagram and returns its length.
    public func receiveFirst() throws(Errno) -> UInt32 {
        guard side == .server else { throw Errno.invalidArgument }
        try waitUntilActive()
        try checkHandshake()
        try writeHandshake()
        try handOver()
        try waitUntilActive()
        return try receivedLength()
    }

    // MARK: Transfers

    /// Hands the datagram's first `length` bytes to the peer and waits until it hands a reply
    /// back; returns the reply's length.
    public func sendReceive(_ length: UInt32) throws(Errno) -> UInt32 {
        try sendLast(length)
        try waitUntilActive()
        return try receivedLength()
    }

    /// Hands the datagram's first `length` bytes to the peer without waiting for a reply.
    public func sendLast(_ length: UInt32) throws(Errno) {
        guard length <= dataCapacity else { throw Errno.messageTooLong }
        vfs_shared_store32(lengthWord, length)
        try handOver()
    }

    /// Ends the connection for both sides: the state becomes "shut down" and every waiter (ours
    /// and the peer's) wakes up and fails. Idempotent; callable from any thread.
    public func shutdown() {
        isShutDownLocally.store(true, ordering: .sequentiallyConsistent)
        _ = vfs_shared_swap32(stateWord, Self.shutDown)
        _ = vfs_futex_wake(stateWord, Int32.max)
    }

    /// True once `shutdown()` was called here or the state word says "shut down".
    public var isShutDown: Bool {
        isShutDownLocally.load(ordering: .sequentiallyConsistent)
            || vfs_shared_load32(stateWord) == Self.shutDown
    }

    // MARK: Internals

    /// Makes the peer active (compare-and-swap from our state) and wakes it.
    private func handOver() throws(Errno) {
        guard !isShutDownLocally.load(ordering: .sequentiallyConsistent) else { throw Errno.connectionReset }
        guard vfs_shared_cas32(stateWord, activeState, inactiveState) != 0 else {
            // Not our turn: the peer shut down, or wrote a state it had no right to.
            throw vfs_shared_load32(stateWord) == Self.shutDown ? Errno.connectionReset : Errno.ioError
        }
        let woken = vfs_futex_wake(stateWord, 1)
        if woken < 0 { throw Errno(rawValue: -woken) }
    }

    /// Sleeps until the state is ours. "Shut down" (by either side) is ECONNRESET; any value
    /// other than the two sides' is EIO (a broken or hostile peer); a dead peer
    /// (`peerIsAlive` says so at a poll interval) is ECONNRESET.
    private func waitUntilActive(deadline: ContinuousClock.Instant? = nil) throws(Errno) {
        let intervalNanoseconds = max(1, Self.nanoseconds(pollInterval))
        while true {
            if isShutDownLocally.load(ordering: .sequentiallyConsistent) { throw Errno.connectionReset }
            let state = vfs_shared_load32(stateWord)
            if state == activeState { return }
            if state == Self.shutDown { throw Errno.connectionReset }
            guard state == inactiveState else { throw Errno.ioError }
            let result = vfs_futex_wait(stateWord, inactiveState, intervalNanoseconds)
            switch result {
            case 0, -EAGAIN, -EINTR:
                continue
            case -ETIMEDOUT:
                if let peerIsAlive, !peerIsAlive() { throw Errno.connectionReset }
                if let deadline, ContinuousClock.now >= deadline { throw Errno.timedOut }
            default:
                throw Errno(rawValue: -result)
            }
        }
    }

    /// The datagram length the peer stored, checked against the capacity.
    private func receivedLength() throws(Errno) -> UInt32 {
        let length = vfs_shared_load32(lengthWord)
        guard length <= dataCapacity else { throw Errno.ioError }
        return length
    }

    private func writeHandshake() throws(Errno) {
        guard Self.handshake.count <= Int(dataCapacity) else { throw Errno.messageTooLong }
        let data = self.data
        for (index, byte) in Self.handshake.enumerated() { data[index] = byte }
        vfs_shared_store32(lengthWord, UInt32(Self.handshake.count))
    }

    /// The peer's handshake must be one JSON object (gVisor's decoder accepts any object for its
    /// empty struct; surrounding whitespace allowed).
    private func checkHandshake() throws(Errno) {
        let length = Int(try receivedLength())
        let text = Array(UnsafeRawBufferPointer(rebasing: data[0..<length]))
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        guard let first = text.firstIndex(where: { !isSpace($0) }),
            let last = text.lastIndex(where: { !isSpace($0) }),
            text[first] == UInt8(ascii: "{"), text[last] == UInt8(ascii: "}")
        else { throw Errno.ioError }
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max : whole.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}

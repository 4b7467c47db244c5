import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

// Lock order: this file takes no locks. A `Communicator` is NOT thread-safe: one thread at a
// time, one RPC in flight (the protocol has no request IDs: strictly one request, then one
// response). It is `@unchecked Sendable` only so it can be handed to the thread that serves or
// drives the connection; share one between threads through `RPCClient` (one mutex around the
// whole RPC).

/// A frame received from the socket: the header, exactly `payloadLength` payload bytes, and the
/// FDs that came with the header read (owned: closed when dropped unless taken).
public struct ReceivedFrame: Sendable {
    public var header: FrameHeader
    public var payload: [UInt8]
    public var fds: [OwnedFileDescriptor]

    public init(header: FrameHeader, payload: [UInt8], fds: [OwnedFileDescriptor]) {
        self.header = header
        self.payload = payload
        self.fds = fds
    }
}

/// LISAFS's socket communicator over an AF_UNIX SOCK_STREAM socket, as gVisor's client and
/// server use it (the transport facts in Tests/LISAFSTests/Vectors/README.md, checked there with
/// strace):
///
/// * **Send**: each frame (8-byte header + payload, in one iovec) goes out with one `sendmsg`
///   with `MSG_NOSIGNAL`; FDs ride in that same call as one SCM_RIGHTS cmsg. A short write is
///   continued (without resending the FDs); EINTR is retried; EAGAIN (a non-blocking socket) waits
///   in poll(2). The FDs passed to `send` are borrowed, not closed.
/// * **Receive**: read exactly the 8-byte header (only this read has a control buffer, sized for
///   the FDs the caller expects), then exactly `payload_len` bytes (skipped when 0). Extra FDs
///   beyond the expected count are closed (the kernel discards those that do not fit the buffer).
///   Received FDs are `O_CLOEXEC` (`MSG_CMSG_CLOEXEC`).
/// * **Size**: `maxMessageSize` bounds header + payload (gVisor's MaxMessageSize includes the
///   header). A received header announcing more is rejected with EMSGSIZE before anything is
///   allocated for it; a send of more is refused with EMSGSIZE before anything is written.
/// * **Errors**: EOF before the first header byte throws `Errno.connectionReset` (the peer hung
///   up between frames); EOF inside a frame throws `Errno.ioError`; EPIPE/ECONNRESET while sending
///   throw `Errno.connectionReset`. After any transport or framing error the stream is out of
///   sync, so the communicator marks itself broken and every later call throws
///   `Errno.ioError` at once: nothing ever waits for bytes that cannot come.
public final class Communicator: @unchecked Sendable {
    /// gVisor's recommended maximum message size on x86-64 (2 MiB huge page − 4 KiB page), the
    /// value fsgofer advertised in the recorded Mount response.
    public static let defaultMaxMessageSize: UInt32 = 2_093_056

    /// The connected socket.
    public let socket: FileDescriptor
    /// Largest frame (header included) sent or accepted.
    public var maxMessageSize: UInt32
    /// True after a transport or framing error: the stream can no longer be trusted.
    public private(set) var isBroken = false

    private let ownsSocket: Bool
    private var closed = false

    /// Wraps a connected AF_UNIX SOCK_STREAM socket. With `takingOwnership` the socket is closed
    /// by `close()` or when the communicator is released.
    public init(
        socket: FileDescriptor, maxMessageSize: UInt32 = Communicator.defaultMaxMessageSize,
        takingOwnership: Bool = true
    ) {
        self.socket = socket
        self.maxMessageSize = maxMessageSize
        self.ownsSocket = takingOwnership
    }

    deinit {
        if ownsSocket && !closed {
            _ = systemClose(socket.rawValue)
        }
    }

    /// Closes the socket now if owned (idempotent); the communicator is broken afterwards.
    public func close() {
        isBroken = true
        if ownsSocket && !closed {
            closed = true
            _ = systemClose(socket.rawValue)
        }
    }

    /// shutdown(2) both directions: the peer sees EOF, and a thread blocked reading this socket
    /// wakes up with EOF. Safe to call from any thread (it does not touch the object's state).
    public func shutdown() {
        Communicator.shutdown(socket)
    }

    static func shutdown(_ socket: FileDescriptor) {
        _ = systemShutdown(socket.rawValue)
    }

    // MARK: Sending

    /// Sends one frame: header (payload length, `rawMessageID`) and `payload` in one sendmsg,
    /// with `fds` (borrowed) as one SCM_RIGHTS cmsg.
    public func sendFrame(
        rawMessageID: UInt16, payload: [UInt8], fds: [FileDescriptor] = []
    ) throws(Errno) {
        guard !isBroken else { throw Errno.ioError }
        let (total, overflow) = payload.count.addingReportingOverflow(FrameHeader.size)
        guard !overflow, total <= Int(maxMessageSize), let length = UInt32(exactly: payload.count)
        else { throw Errno.messageTooLong }
        var frame = FrameHeader(payloadLength: length, rawMessageID: rawMessageID).encoded()
        frame.append(contentsOf: payload)
        do throws(Errno) {
            try writeAll(frame, fds: fds)
        } catch {
            isBroken = true
            throw error
        }
    }

    /// Encodes and sends `message` under its MID.
    public func send<M: LISAFSMessage>(_ message: M, fds: [FileDescriptor] = []) throws(Errno) {
        try sendFrame(rawMessageID: M.messageID.rawValue, payload: try message.encoded(), fds: fds)
    }

    /// Sends an Error response (MID 0) carrying `errno`.
    public func sendError(_ errno: Errno) throws(Errno) {
        try send(ErrorResponse(errno))
    }

    private func writeAll(_ frame: [UInt8], fds: [FileDescriptor]) throws(Errno) {
        var sent = 0
        var fdsPending = !fds.isEmpty
        while sent < frame.count {
            let (result, savedErrno) = sendOnce(frame, from: sent, fds: fdsPending ? fds : [])
            if result < 0 {
                let error = Errno(rawValue: savedErrno)
                switch error {
                case .interrupted:
                    continue
                case .resourceTemporarilyUnavailable:
                    try waitFor(Int16(POLLOUT))
                    continue
                case .brokenPipe, .connectionReset:
                    throw Errno.connectionReset
                default:
                    throw error
                }
            }
            // A stream socket never accepts 0 bytes of a non-empty write; do not spin on it.
            guard result > 0 else { throw Errno.ioError }
            // The control message went with the first byte; never resend it.
            fdsPending = false
            sent += result
        }
    }

    /// One sendmsg(2) of frame[from...] with the given FDs; returns its result and the errno
    /// read right after the call.
    private func sendOnce(
        _ frame: [UInt8], from start: Int, fds: [FileDescriptor]
    ) -> (Int, Int32) {
        var control = [UInt8](
            repeating: 0, count: fds.isEmpty ? 0 : ControlMessage.space(fdCount: fds.count))
        if !fds.isEmpty {
            ControlMessage.encodeRights(fds.map(\.rawValue), into: &control)
        }
        return frame.withUnsafeBytes { frameBytes -> (Int, Int32) in
            guard let base = frameBytes.baseAddress else { return (0, 0) }
            var iov = iovec(
                iov_base: UnsafeMutableRawPointer(mutating: base + start),
                iov_len: frameBytes.count - start)
            return control.withUnsafeMutableBytes { controlBytes -> (Int, Int32) in
                withUnsafeMutablePointer(to: &iov) { iovPointer -> (Int, Int32) in
                    var header = msghdr()
                    header.msg_iov = iovPointer
                    header.msg_iovlen = 1
                    if controlBytes.count > 0 {
                        header.msg_control = controlBytes.baseAddress
                        header.msg_controllen = numericCast(controlBytes.count)
                    }
                    let n = sendmsg(socket.rawValue, &header, Int32(MSG_NOSIGNAL))
                    return (n, n < 0 ? errno : 0)
                }
            }
        }
    }

    // MARK: Receiving

    /// Receives one frame. `maxFDs` sizes the header read's control buffer (0: no FDs accepted,
    /// which is what a server passes: requests never carry FDs).
    public func receiveFrame(maxFDs: Int = 0) throws(Errno) -> ReceivedFrame {
        guard !isBroken else { throw Errno.ioError }
        do throws(Errno) {
            var fds: [OwnedFileDescriptor] = []
            let headerBytes = try readExactly(
                FrameHeader.size, maxFDs: max(0, maxFDs), fds: &fds, frameStart: true)
            let header = try FrameHeader.decode(headerBytes)
            let (total, overflow) = Int(header.payloadLength).addingReportingOverflow(
                FrameHeader.size)
            guard !overflow, total <= Int(maxMessageSize) else { throw Errno.messageTooLong }
            var payload: [UInt8] = []
            if header.payloadLength > 0 {
                var none: [OwnedFileDescriptor] = []
                payload = try readExactly(
                    Int(header.payloadLength), maxFDs: 0, fds: &none, frameStart: false)
            }
            return ReceivedFrame(header: header, payload: payload, fds: fds)
        } catch {
            isBroken = true
            throw error
        }
    }

    /// Reads exactly `count` bytes. Only the first recvmsg that returns data may carry a control
    /// buffer (for `maxFDs` descriptors); received descriptors are appended to `fds` (the first
    /// `maxFDs`) and any beyond that are closed.
    private func readExactly(
        _ count: Int, maxFDs: Int, fds: inout [OwnedFileDescriptor], frameStart: Bool
    ) throws(Errno) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var got = 0
        var wantControl = maxFDs > 0
        while got < count {
            var control = [UInt8](
                repeating: 0, count: wantControl ? ControlMessage.space(fdCount: maxFDs) : 0)
            var controlLength = 0
            var savedErrno: Int32 = 0
            let result = buffer.withUnsafeMutableBytes { bufferBytes -> Int in
                guard let base = bufferBytes.baseAddress else { return 0 }
                var iov = iovec(iov_base: base + got, iov_len: count - got)
                return control.withUnsafeMutableBytes { controlBytes -> Int in
                    withUnsafeMutablePointer(to: &iov) { iovPointer -> Int in
                        var header = msghdr()
                        header.msg_iov = iovPointer
                        header.msg_iovlen = 1
                        if controlBytes.count > 0 {
                            header.msg_control = controlBytes.baseAddress
                            header.msg_controllen = numericCast(controlBytes.count)
                        }
                        let n = recvmsg(socket.rawValue, &header, Int32(MSG_CMSG_CLOEXEC))
                        savedErrno = n < 0 ? errno : 0
                        controlLength = Int(header.msg_controllen)
                        return n
                    }
                }
            }
            if result < 0 {
                let error = Errno(rawValue: savedErrno)
                switch error {
                case .interrupted:
                    continue
                case .resourceTemporarilyUnavailable:
                    try waitFor(Int16(POLLIN))
                    continue
                default:
                    throw error
                }
            }
            if result == 0 {
                // EOF. Between frames this is the peer hanging up; inside one it is a torn frame.
                throw (frameStart && got == 0) ? Errno.connectionReset : Errno.ioError
            }
            if wantControl {
                let received = ControlMessage.decodeRights(
                    control, length: min(max(0, controlLength), control.count))
                for (index, raw) in received.enumerated() {
                    let owned = OwnedFileDescriptor(FileDescriptor(rawValue: raw))
                    if index < maxFDs {
                        fds.append(owned)
                    } else {
                        owned.close()
                    }
                }
                wantControl = false
            }
            got += result
        }
        return buffer
    }

    /// Waits (poll(2), retrying EINTR) until the socket is ready for `events`; used only when the
    /// socket was made non-blocking by its owner.
    private func waitFor(_ events: Int16) throws(Errno) {
        while true {
            var descriptor = pollfd(fd: socket.rawValue, events: events, revents: 0)
            let result = poll(&descriptor, 1, -1)
            if result >= 0 { return }
            let error = Errno(rawValue: errno)
            if error != .interrupted { throw error }
        }
    }
}

/// SCM_RIGHTS control-message layout (struct cmsghdr then the int array), computed by hand
/// because the CMSG_* macros are not imported into Swift. On Linux the header is
/// {size_t len; int level; int type} and data is aligned to sizeof(size_t).
enum ControlMessage {
    static let alignment = MemoryLayout<Int>.size
    static let headerSize = align(MemoryLayout<cmsghdr>.size)

    static func align(_ value: Int) -> Int {
        (value + alignment - 1) & ~(alignment - 1)
    }

    /// CMSG_SPACE(fdCount * sizeof(int)).
    static func space(fdCount: Int) -> Int {
        headerSize + align(fdCount * MemoryLayout<Int32>.size)
    }

    /// Writes one SCM_RIGHTS cmsg carrying `fds` at the start of `buffer` (sized by `space`).
    static func encodeRights(_ fds: [Int32], into buffer: inout [UInt8]) {
        let length = headerSize + fds.count * MemoryLayout<Int32>.size
        guard buffer.count >= length else { return }
        buffer.withUnsafeMutableBytes { bytes in
            var header = cmsghdr()
            header.cmsg_len = numericCast(length)
            header.cmsg_level = SOL_SOCKET
            header.cmsg_type = Int32(SCM_RIGHTS)
            bytes.storeBytes(of: header, toByteOffset: 0, as: cmsghdr.self)
            for (index, fd) in fds.enumerated() {
                bytes.storeBytes(
                    of: fd, toByteOffset: headerSize + index * MemoryLayout<Int32>.size,
                    as: Int32.self)
            }
        }
    }

    /// Every descriptor in the SCM_RIGHTS cmsgs within the first `length` bytes of `buffer`.
    /// Bounds-checked against the buffer: a malformed cmsg length ends the walk.
    static func decodeRights(_ buffer: [UInt8], length: Int) -> [Int32] {
        var result: [Int32] = []
        var offset = 0
        buffer.withUnsafeBytes { bytes in
            while offset + headerSize <= length {
                let header = bytes.loadUnaligned(fromByteOffset: offset, as: cmsghdr.self)
                let cmsgLength = Int(header.cmsg_len)
                guard cmsgLength >= headerSize, cmsgLength <= length - offset else { break }
                if header.cmsg_level == SOL_SOCKET && header.cmsg_type == Int32(SCM_RIGHTS) {
                    let count = (cmsgLength - headerSize) / MemoryLayout<Int32>.size
                    for index in 0..<count {
                        result.append(
                            bytes.loadUnaligned(
                                fromByteOffset: offset + headerSize + index
                                    * MemoryLayout<Int32>.size,
                                as: Int32.self))
                    }
                }
                offset += align(cmsgLength)
            }
        }
        return result
    }
}

@inline(__always)
func systemShutdown(_ fd: Int32) -> Int32 {
    #if canImport(Glibc)
        return Glibc.shutdown(fd, Int32(SHUT_RDWR))
    #elseif canImport(Musl)
        return Musl.shutdown(fd, Int32(SHUT_RDWR))
    #else
        return Darwin.shutdown(fd, SHUT_RDWR)
    #endif
}

import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

// Lock order: no locks. One thread at a time per side (a LISAFS channel is used by one RPC at
// a time).

/// One side of the FD-passing socket beside a flipcall channel (gVisor's pkg/fdchannel): an
/// AF_UNIX SOCK_SEQPACKET socket on which every FD travels alone, as a zero-length datagram
/// carrying one SCM_RIGHTS descriptor. The sender posts the FDs before handing control over,
/// so the receiver finds them queued and takes them without blocking.
public final class FDChannel: @unchecked Sendable {
    /// The socket (owned: closed with this object).
    public let owned: OwnedFileDescriptor
    private let raw: Int32

    /// Takes ownership of `socket` (a connected SOCK_SEQPACKET socket).
    public init(socket: OwnedFileDescriptor) {
        self.owned = socket
        self.raw = socket.descriptor?.rawValue ?? -1
    }

    /// A connected pair, close-on-exec (the server keeps one end, donates the other).
    public static func makePair() throws(Errno) -> (FDChannel, OwnedFileDescriptor) {
        var fds: [Int32] = [-1, -1]
        let result = socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
        guard result == 0 else { throw Errno(rawValue: errno) }
        return (
            FDChannel(socket: OwnedFileDescriptor(FileDescriptor(rawValue: fds[0]))),
            OwnedFileDescriptor(FileDescriptor(rawValue: fds[1]))
        )
    }

    /// Whether `fd` is an AF_UNIX SOCK_SEQPACKET socket (what a client accepts as the FD
    /// channel a server donated).
    public static func isSequencedPacketSocket(_ fd: FileDescriptor) -> Bool {
        var type: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd.rawValue, SOL_SOCKET, SO_TYPE, &type, &length) == 0 else { return false }
        return type == Int32(SOCK_SEQPACKET.rawValue)
    }

    /// Sends one descriptor (borrowed: the caller still owns it).
    public func send(_ fd: FileDescriptor) throws(Errno) {
        var control = [UInt8](repeating: 0, count: ControlMessage.space(fdCount: 1))
        ControlMessage.encodeRights([fd.rawValue], into: &control)
        while true {
            let result = control.withUnsafeMutableBytes { bytes -> Int in
                var header = msghdr()
                header.msg_control = bytes.baseAddress
                header.msg_controllen = numericCast(bytes.count)
                return sendmsg(raw, &header, Int32(MSG_NOSIGNAL))
            }
            if result >= 0 { return }
            let error = Errno(rawValue: errno)
            if error != .interrupted { throw error }
        }
    }

    /// Takes one queued descriptor without waiting: EAGAIN when none is queued. A datagram that
    /// carries anything but exactly one SCM_RIGHTS descriptor is EIO (any descriptors in it are
    /// closed).
    public func receiveNow() throws(Errno) -> OwnedFileDescriptor {
        var control = [UInt8](repeating: 0, count: ControlMessage.space(fdCount: 1))
        var controlLength = 0
        while true {
            let result = control.withUnsafeMutableBytes { bytes -> Int in
                var header = msghdr()
                header.msg_control = bytes.baseAddress
                header.msg_controllen = numericCast(bytes.count)
                let n = recvmsg(
                    raw, &header, Int32(MSG_DONTWAIT) | Int32(MSG_TRUNC) | Int32(MSG_CMSG_CLOEXEC))
                controlLength = Int(header.msg_controllen)
                return n
            }
            if result >= 0 { break }
            let error = Errno(rawValue: errno)
            if error != .interrupted { throw error }
        }
        let received = ControlMessage.decodeRights(control, length: min(max(0, controlLength), control.count))
        let owned = received.map { OwnedFileDescriptor(FileDescriptor(rawValue: $0)) }
        guard owned.count == 1, let first = owned.first else {
            for fd in owned { fd.close() }
            throw Errno.ioError
        }
        return first
    }

    /// Closes every descriptor queued now (a peer that sent more than it announced).
    public func discardQueued() {
        while let fd = try? receiveNow() { fd.close() }
    }
}

import CLinuxSupport
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

// Lock order: no locks; the owner serializes `allocate` (the gofer server calls it from the
// connection's Channel handler, under the connection's channel lock).

/// The server's shared-memory file for a connection's channels (as pkg/flipcall's packet
/// window allocator): one memfd, sealed against shrinking (so the client can never make the
/// server's accesses fault by truncating it) and against further seals (so the client cannot
/// freeze it with F_SEAL_WRITE or F_SEAL_GROW); windows are handed out page-aligned one after
/// the other from offset 0, and the file grows by doubling.
public final class PacketWindowAllocator: @unchecked Sendable {
    public let file: OwnedFileDescriptor
    private let fd: Int32
    private var nextOffset: Int64 = 0
    private var fileSize: Int64 = 0
    private let pageSize: Int64

    public init() throws(Errno) {
        let flags = 0x0001 | 0x0002  // MFD_CLOEXEC | MFD_ALLOW_SEALING
        let created = "flipcall_packet_windows".withCString { name in
            vfs_raw_syscall6(319 /* memfd_create */, Int(bitPattern: name), flags, 0, 0, 0, 0)
        }
        guard created >= 0, let fd = Int32(exactly: created) else {
            throw Errno(rawValue: Int32(truncatingIfNeeded: -created))
        }
        file = OwnedFileDescriptor(FileDescriptor(rawValue: fd))
        self.fd = fd
        guard fcntl(fd, MemorySeal.addSeals, MemorySeal.shrink | MemorySeal.seal) == 0 else {
            throw Errno(rawValue: errno)
        }
        pageSize = Int64(max(4096, sysconf(Int32(_SC_PAGESIZE))))
    }

    /// A window of at least `size` bytes (rounded up to whole pages).
    public func allocate(_ size: Int) throws(Errno) -> PacketWindowDescriptor {
        guard size > 0 else { throw Errno.invalidArgument }
        let (padded, overflow) = Int64(size).addingReportingOverflow(pageSize - 1)
        guard !overflow else { throw Errno.noMemory }
        let length = padded / pageSize * pageSize
        let (end, endOverflow) = nextOffset.addingReportingOverflow(length)
        guard !endOverflow, let windowLength = Int(exactly: length) else { throw Errno.noMemory }
        if end > fileSize {
            var newSize = max(fileSize, pageSize)
            while newSize < end {
                let (doubled, doubleOverflow) = newSize.multipliedReportingOverflow(by: 2)
                guard !doubleOverflow else { throw Errno.noMemory }
                newSize = doubled
            }
            guard ftruncate(fd, off_t(newSize)) == 0 else { throw Errno(rawValue: errno) }
            fileSize = newSize
        }
        let start = nextOffset
        nextOffset = end
        return PacketWindowDescriptor(fd: FileDescriptor(rawValue: fd), offset: start, length: windowLength)
    }
}

extension Channel {
    /// The packet window a server allocates for a channel: room for the flipcall header, the
    /// channel header and the largest message (pkg/lisafs; 2 MiB for fsgofer's 2 MiB − 4 KiB
    /// message size, the data_length in the recorded Channel response).
    public static func windowSize(maxMessageSize: UInt32) -> Int {
        FlipcallEndpoint.headerSize + ChannelHeader.size + Int(maxMessageSize)
    }

    /// Server side of a Channel RPC: a new window from `allocator`, the server's endpoint on it,
    /// and an FD-channel pair. Returns the channel to serve, the response, and the two FDs to
    /// donate (a duplicate of the memory file, then the client's FD socket), owned.
    public static func makeServerChannel(
        allocator: PacketWindowAllocator, maxMessageSize: UInt32, pollInterval: Duration = .seconds(1)
    ) throws(Errno) -> (channel: Channel, response: ChannelResponse, donate: [OwnedFileDescriptor]) {
        let window = try allocator.allocate(windowSize(maxMessageSize: maxMessageSize))
        let endpoint = try FlipcallEndpoint(side: .server, window: window, pollInterval: pollInterval)
        let (fdChannel, clientSocket) = try FDChannel.makePair()
        let duplicate = fcntl(window.fd.rawValue, F_DUPFD_CLOEXEC, 0)
        guard duplicate >= 0 else { throw Errno(rawValue: errno) }
        return (
            Channel(endpoint: endpoint, fdChannel: fdChannel),
            ChannelResponse(dataOffset: window.offset, dataLength: UInt64(window.length)),
            [OwnedFileDescriptor(FileDescriptor(rawValue: duplicate)), clientSocket]
        )
    }
}

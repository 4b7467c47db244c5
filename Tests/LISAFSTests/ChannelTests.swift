import CLinuxSupport
import Foundation
import Glibc
import LISAFS
import Synchronization
import SystemPackage
import Testing

/// A LISAFS channel between a client `Channel` and a hand-written server loop (`Channel.serve`
/// with a closure), in one process: framing, errors, donated FDs, and a server that misbehaves.
@Suite struct ChannelTests {
    /// A connected client channel and the server channel serving `handler` on a thread.
    final class Pair: @unchecked Sendable {
        let window: FlipcallTests.Window
        let client: Channel
        let server: Channel
        let serving: FlipcallTests.Background
        /// The server's FD channel, for tests that post extra FDs behind the server's back.
        let serverFDs: FDChannel

        init(
            _ handler: @escaping @Sendable (UInt16, [UInt8]) -> (rawMessageID: UInt16, payload: [UInt8], fds: [FileDescriptor])
        ) throws {
            window = try FlipcallTests.Window(length: 65536)
            let (serverFDs, clientSocket) = try FDChannel.makePair()
            self.serverFDs = serverFDs
            let server = Channel(
                endpoint: try FlipcallEndpoint(side: .server, window: window.descriptor), fdChannel: serverFDs)
            self.server = server
            serving = FlipcallTests.Background { server.serve(handler) }
            client = Channel(
                endpoint: try FlipcallEndpoint(side: .client, window: window.descriptor, pollInterval: .milliseconds(20)),
                fdChannel: FDChannel(socket: clientSocket))
            try client.endpoint.connect()
        }

        func end() {
            client.shutdown()
            serving.join()
        }
    }

    static let statx = LISAFSStatx(
        mask: 0x7ff, blksize: 4096, attributes: 0, nlink: 1, uid: 0, gid: 0, mode: 0o100644, ino: 42, size: 7,
        blocks: 8, attributesMask: 0, atime: StatxTimestamp(sec: 1, nsec: 0), btime: StatxTimestamp(sec: 2, nsec: 0),
        ctime: StatxTimestamp(sec: 3, nsec: 0), mtime: StatxTimestamp(sec: 4, nsec: 0), rdevMajor: 0, rdevMinor: 0,
        devMajor: 0, devMinor: 5)

    @Test func aRequestTravelsWithItsHeaderAndTheAnswerComesBack() throws {
        let seen = Mutex<[(UInt16, [UInt8])]>([])
        let pair = try Pair { mid, payload in
            seen.withLock { $0.append((mid, payload)) }
            return (MessageID.fStat.rawValue, (try? FStatResponse(stat: Self.statx).encoded()) ?? [], [])
        }
        defer { pair.end() }
        let answer = try pair.client.call(FStatRequest(fd: 9))
        #expect(answer.response.stat == Self.statx)
        // The server got MID 3 and the socket's payload for the same request (fd u64 = 9).
        let request = try #require(seen.withLock { $0.first })
        #expect(request.0 == MessageID.fStat.rawValue)
        #expect(request.1 == [9, 0, 0, 0, 0, 0, 0, 0])
        // In the window: the answer's channel header (MID 3, no FDs) before its payload.
        #expect(pair.window.datagram(4) == [3, 0, 0, 0])
    }

    @Test func anErrorAnswerThrowsItsErrnoAndKeepsTheChannel() throws {
        let pair = try Pair { _, _ in (0, (try? ErrorResponse(.permissionDenied).encoded()) ?? [], []) }
        defer { pair.end() }
        #expect(throws: Errno.permissionDenied) { try pair.client.call(FStatRequest(fd: 1)) }
        #expect(!pair.client.isBroken)
        #expect(throws: Errno.permissionDenied) { try pair.client.call(FStatRequest(fd: 1)) }
    }

    @Test func anAnswerUnderAnotherMessageIDBreaksTheChannel() throws {
        let pair = try Pair { _, _ in (MessageID.walk.rawValue, [0, 0, 0], []) }
        defer { pair.end() }
        #expect(throws: Errno.ioError) { try pair.client.call(FStatRequest(fd: 1)) }
        #expect(pair.client.isBroken)
        #expect(throws: Errno.ioError) { try pair.client.call(FStatRequest(fd: 1)) }
    }

    @Test func donatedFDsTravelOnTheFDChannel() throws {
        let file = try FlipcallTests.Window()
        let donated = try #require(file.allocator.file.descriptor)
        let pair = try Pair { _, _ in
            (MessageID.openAt.rawValue, (try? OpenAtResponse(openFD: 7).encoded()) ?? [], [donated])
        }
        defer { pair.end() }
        let answer = try pair.client.call(OpenAtRequest(fd: 1, flags: 0))
        #expect(answer.response.openFD == 7)
        let received = try #require(answer.fds.first?.descriptor)
        var mine = stat()
        var theirs = stat()
        #expect(fstat(received.rawValue, &mine) == 0 && fstat(donated.rawValue, &theirs) == 0)
        #expect(mine.st_ino == theirs.st_ino)
    }

    @Test func fdsAServerSentUnannouncedAreNotTakenForALaterAnswer() throws {
        let first = try FlipcallTests.Window()
        let second = try FlipcallTests.Window()
        let rogue = try #require(first.allocator.file.descriptor)
        let honest = try #require(second.allocator.file.descriptor)
        let calls = Atomic<Int>(0)
        let pairBox = Mutex<Pair?>(nil)
        let pair = try Pair { _, _ in
            if calls.add(1, ordering: .relaxed).newValue == 1 {
                // First answer: announces no FD but slips one onto the FD channel.
                try? pairBox.withLock { $0 }?.serverFDs.send(rogue)
                return (MessageID.fStat.rawValue, (try? FStatResponse(stat: Self.statx).encoded()) ?? [], [])
            }
            return (MessageID.openAt.rawValue, (try? OpenAtResponse(openFD: 1).encoded()) ?? [], [honest])
        }
        pairBox.withLock { $0 = pair }
        defer { pair.end() }
        _ = try pair.client.call(FStatRequest(fd: 1))
        let answer = try pair.client.call(OpenAtRequest(fd: 1, flags: 0))
        let received = try #require(answer.fds.first?.descriptor)
        var got = stat()
        var expected = stat()
        #expect(fstat(received.rawValue, &got) == 0 && fstat(honest.rawValue, &expected) == 0)
        #expect(got.st_ino == expected.st_ino)
    }

    @Test func anEmptyDatagramEndsTheServerLoop() throws {
        let pair = try Pair { _, _ in (0, [1, 0, 0, 0], []) }
        try pair.client.endpoint.sendLast(0)
        pair.serving.join()
    }

    @Test func anOversizedRequestIsRefusedBeforeAnythingIsSent() throws {
        let pair = try Pair { _, _ in (0, [1, 0, 0, 0], []) }
        defer { pair.end() }
        let tooLong = String(repeating: "x", count: pair.client.maxPayload)
        #expect(throws: Errno.messageTooLong) {
            try pair.client.call(WalkRequest(dirFD: 1, path: [SizedString(tooLong)]))
        }
        #expect(!pair.client.isBroken)
    }

    /// What a client makes of a server's Channel answer (`Channel.connect`).
    static func answer(window: FlipcallTests.Window, length: UInt64) throws -> RPCResult<ChannelResponse> {
        let memory = fcntl(try #require(window.allocator.file.descriptor).rawValue, F_DUPFD_CLOEXEC, 0)
        let (_, clientSocket) = try FDChannel.makePair()
        return RPCResult(
            response: ChannelResponse(dataOffset: 0, dataLength: length),
            fds: [OwnedFileDescriptor(FileDescriptor(rawValue: memory)), clientSocket])
    }

    @Test func aServerThatNeverAnswersTheHandshakeTimesOut() throws {
        let window = try FlipcallTests.Window()
        let result = try Self.answer(window: window, length: UInt64(window.descriptor.length))
        #expect(throws: Errno.timedOut) {
            try Channel.connect(result, pollInterval: .milliseconds(5), handshakeTimeout: .milliseconds(50))
        }
    }

    @Test func aWindowBeyondTheLimitOrNotSealedIsRefused() throws {
        let window = try FlipcallTests.Window(length: Channel.maxWindowLength + 4096)
        #expect(throws: Errno.ioError) {
            try Channel.connect(try Self.answer(window: window, length: UInt64(Channel.maxWindowLength + 4096)))
        }
        // An unsealed memory file (a server could shrink it under the client's mapping).
        let plain = memfdWithoutSeals(size: 8192)
        let (_, clientSocket) = try FDChannel.makePair()
        let result = RPCResult(
            response: ChannelResponse(dataOffset: 0, dataLength: 8192),
            fds: [OwnedFileDescriptor(FileDescriptor(rawValue: plain)), clientSocket])
        #expect(throws: Errno.ioError) { try Channel.connect(result) }
    }
}

/// A memfd of `size` bytes with no seals (sealing not even allowed).
func memfdWithoutSeals(size: Int) -> Int32 {
    let fd = "unsealed".withCString { Int32(truncatingIfNeeded: vfs_raw_syscall6(319, Int(bitPattern: $0), 1, 0, 0, 0, 0)) }
    _ = ftruncate(fd, off_t(size))
    return fd
}

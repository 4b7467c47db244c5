import Foundation
import Synchronization
import LISAFS
import SystemPackage
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// SIGUSR2 deliveries seen by `signalsInterruptingAReceiveAreRetried`'s handler.
let signalsHandled = Atomic<Int>(0)

/// Size limits, torn frames and dead peers: errors, never hangs or unbounded allocations.
@Suite struct CommunicatorFailureTests {
    @Test func aHeaderAnnouncingMoreThanTheMaximumIsRejected() throws {
        let (a, b) = try makeSocketPair()
        defer { _ = try? b.close() }
        let server = Communicator(socket: a)
        // payload_len 0xffffffff: must be refused before a 4 GiB buffer is allocated.
        try writeRaw(b, FrameHeader(payloadLength: .max, messageID: .walk).encoded())
        #expect(throws: Errno.messageTooLong) { try server.receiveFrame() }
        #expect(server.isBroken)
    }

    @Test func theMaximumCountsTheHeader() throws {
        let (a, b) = try makeSocketPair()
        let client = Communicator(socket: a, maxMessageSize: 64)
        let server = Communicator(socket: b, maxMessageSize: 64)
        try client.sendFrame(rawMessageID: 11, payload: Array(repeating: 1, count: 56))
        #expect(try server.receiveFrame().payload.count == 56)
        #expect(throws: Errno.messageTooLong) {
            try client.sendFrame(rawMessageID: 11, payload: Array(repeating: 1, count: 57))
        }
    }

    @Test func anOversizedSendWritesNothing() throws {
        let (a, b) = try makeSocketPair()
        defer { _ = try? b.close() }
        let client = Communicator(socket: a, maxMessageSize: 4096)
        #expect(throws: Errno.messageTooLong) {
            try client.send(PWriteRequest(fd: 1, offset: 0, data: Array(repeating: 0, count: 4096)))
        }
        client.close()
        // Only EOF is there: not a byte of the refused frame was written.
        var buffer: [UInt8] = [0]
        let count = try buffer.withUnsafeMutableBytes { try b.read(into: $0) }
        #expect(count == 0)
    }

    @Test func aMaximumSizedFrameCrossesTheSocketInPieces() throws {
        // 2 MiB − 4 KiB is far more than the socket buffer: both sides see short transfers.
        let (a, b) = try makeSocketPair()
        let client = Communicator(socket: a)
        let server = Communicator(socket: b)
        let data = (0..<(Int(Communicator.defaultMaxMessageSize) - 28)).map {
            UInt8(truncatingIfNeeded: $0 &* 7)
        }
        let received = Box<[UInt8]?>(nil)
        let serverReceive = Box<ReceivedFrame?>(nil)
        let thread = BackgroundThread {
            serverReceive.value = try? server.receiveFrame()
        }
        try client.send(PWriteRequest(fd: 3, offset: 0, data: data))
        thread.join()
        let frame = try #require(serverReceive.value)
        received.value = try PWriteRequest.decode(frame.payload).data
        #expect(frame.payload.count + FrameHeader.size == Int(Communicator.defaultMaxMessageSize))
        #expect(received.value == data)
    }

    /// Every recorded frame cut at every length and followed by EOF: an error, never a hang or a
    /// short frame passed on as whole.
    @Test(arguments: VectorCorpus.all)
    func everyTruncationOfARecordedFrameOnTheSocketIsAnError(_ vector: Vector) throws {
        let bytes = vector.bytes
        for length in 0..<bytes.count {
            let (a, b) = try makeSocketPair()
            let receiver = Communicator(socket: a)
            try writeRaw(b, Array(bytes.prefix(length)))
            try b.close()
            let expected: Errno = length == 0 ? .connectionReset : .ioError
            #expect(throws: expected, "cut at \(length)") { try receiver.receiveFrame() }
        }
        // The whole frame is received intact.
        let (a, b) = try makeSocketPair()
        let receiver = Communicator(socket: a)
        try writeRaw(b, bytes)
        try b.close()
        let frame = try receiver.receiveFrame()
        #expect(
            frame.header.encoded() + frame.payload == vector.bytesWithZeroPadding.prefix(8)
                + vector.payload)
    }

    @Test func thePeerClosingBetweenFramesIsAConnectionReset() throws {
        let (a, b) = try makeSocketPair()
        let server = Communicator(socket: a)
        try b.close()
        #expect(throws: Errno.connectionReset) { try server.receiveFrame() }
    }

    @Test func thePeerClosingInsideTheHeaderIsAnIOError() throws {
        let (a, b) = try makeSocketPair()
        let server = Communicator(socket: a)
        try writeRaw(b, [8, 0, 0, 0])
        try b.close()
        #expect(throws: Errno.ioError) { try server.receiveFrame() }
    }

    @Test func thePeerClosingInsideThePayloadIsAnIOError() throws {
        let (a, b) = try makeSocketPair()
        let server = Communicator(socket: a)
        try writeRaw(
            b,
            FrameHeader(payloadLength: 100, messageID: .pWrite).encoded()
                + Array(repeating: 0, count: 10))
        try b.close()
        #expect(throws: Errno.ioError) { try server.receiveFrame() }
    }

    @Test func sendingToAClosedPeerFailsWithoutSIGPIPE() throws {
        let (a, b) = try makeSocketPair()
        let client = Communicator(socket: a)
        try b.close()
        #expect(throws: Errno.connectionReset) { try client.send(FStatRequest(fd: 1)) }
        #expect(client.isBroken)
    }

    @Test func aBrokenCommunicatorFailsAtOnce() throws {
        let (a, b) = try makeSocketPair()
        let server = Communicator(socket: a)
        try writeRaw(b, FrameHeader(payloadLength: .max, messageID: .walk).encoded())
        #expect(throws: Errno.messageTooLong) { try server.receiveFrame() }
        // A valid frame follows, but the stream is out of step: nothing more is read.
        try writeRaw(b, FrameHeader(payloadLength: 0, messageID: .mount).encoded())
        #expect(throws: Errno.ioError) { try server.receiveFrame() }
        #expect(throws: Errno.ioError) { try server.send(MountRequest()) }
        try b.close()
    }

    /// A signal interrupting the blocked receive (a handler without SA_RESTART makes recvmsg fail
    /// with EINTR) must not lose the frame or surface EINTR.
    @Test func signalsInterruptingAReceiveAreRetried() throws {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in signalsHandled.add(1, ordering: .relaxed) }
        action.sa_flags = 0
        sigemptyset(&action.sa_mask)
        sigaction(SIGUSR2, &action, nil)
        let (a, b) = try makeSocketPair()
        let server = Communicator(socket: a)
        let client = Communicator(socket: b)
        let threadID = Box<pthread_t?>(nil)
        let outcome = Box<Result<ReceivedFrame, Errno>?>(nil)
        let thread = BackgroundThread {
            // The test runner's threads may start with signals blocked: let this one take it.
            var unblock = sigset_t()
            sigemptyset(&unblock)
            sigaddset(&unblock, SIGUSR2)
            pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
            threadID.value = pthread_self()
            outcome.value = Result { () throws(Errno) in try server.receiveFrame() }
        }
        while threadID.value == nil { usleep(1000) }
        for _ in 0..<20 {
            if let id = threadID.value { pthread_kill(id, SIGUSR2) }
            usleep(5000)
        }
        try client.send(FStatRequest(fd: 5))
        thread.join()
        #expect(signalsHandled.load(ordering: .relaxed) > 0)
        let frame = try #require(try outcome.value?.get())
        #expect(try FStatRequest.decode(frame.payload) == FStatRequest(fd: 5))
    }

    @Test func aNonBlockingSocketStillDeliversWholeFrames() throws {
        let (a, b) = try makeSocketPair()
        _ = fcntl(a.rawValue, F_SETFL, fcntl(a.rawValue, F_GETFL) | O_NONBLOCK)
        let server = Communicator(socket: a)
        let client = Communicator(socket: b)
        let thread = BackgroundThread {
            try? client.send(PReadRequest(fd: 7, offset: 0, count: 64))
        }
        let frame = try server.receiveFrame()
        thread.join()
        #expect(try PReadRequest.decode(frame.payload) == PReadRequest(fd: 7, offset: 0, count: 64))
    }
}

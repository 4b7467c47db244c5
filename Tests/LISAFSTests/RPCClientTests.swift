import Foundation
import LISAFS
import SystemPackage
import Testing

/// The locked client wrapper: Mount handshake, supported-MID list, max message size, shutdown.
@Suite struct RPCClientTests {
    static func mountResponse(maxMessageSize: UInt32, supported: [MessageID]) -> MountResponse {
        MountResponse(
            root: Inode(controlFD: 1, stat: LISAFSStatx(mode: 0o40755)),
            maxMessageSize: maxMessageSize, supported: supported)
    }

    @Test func mountAdoptsASmallerServerMaximum() throws {
        let (a, b) = try makeSocketPair()
        let server = Communicator(socket: b)
        let client = RPCClient(socket: a)
        try server.send(Self.mountResponse(maxMessageSize: 4096, supported: [.fStat]))
        let response = try client.mount()
        #expect(response.root.controlFD == 1)
        #expect(client.maxMessageSize == 4096)
    }

    @Test func mountKeepsTheLocalMaximumWhenTheServerOffersMore() throws {
        let (a, b) = try makeSocketPair()
        let server = Communicator(socket: b)
        let client = RPCClient(socket: a, maxMessageSize: 8192)
        try server.send(Self.mountResponse(maxMessageSize: 1 << 24, supported: [.fStat]))
        _ = try client.mount()
        #expect(client.maxMessageSize == 8192)
    }

    @Test func aServerMaximumSmallerThanAHeaderIsAProtocolError() throws {
        let (a, b) = try makeSocketPair()
        let server = Communicator(socket: b)
        let client = RPCClient(socket: a)
        try server.send(Self.mountResponse(maxMessageSize: 4, supported: [.fStat]))
        #expect(throws: Errno.ioError) { try client.mount() }
        #expect(client.isBroken)
    }

    @Test func anUnadvertisedMessageIsRefusedWithoutBeingSent() throws {
        let (a, b) = try makeSocketPair()
        let server = Communicator(socket: b)
        let client = RPCClient(socket: a)
        try server.send(Self.mountResponse(maxMessageSize: 4096, supported: [.fStat]))
        _ = try client.mount()
        #expect(!client.supports(.flush))
        #expect(throws: Errno.notSupported) { try client.call(FlushRequest(fd: 7)) }
        // The server saw only the Mount request.
        #expect(try server.receiveFrame().header.messageID == .mount)
        client.close()
        #expect(throws: Errno.connectionReset) { try server.receiveFrame() }
    }

    @Test func anAdvertisedMessageRoundTrips() throws {
        let (a, b) = try makeSocketPair()
        let server = Communicator(socket: b)
        let client = RPCClient(socket: a)
        try server.send(Self.mountResponse(maxMessageSize: 4096, supported: [.fStat]))
        try server.send(FStatResponse(stat: LISAFSStatx(mode: 0o100644, size: 14)))
        _ = try client.mount()
        let result = try client.call(FStatRequest(fd: 4))
        #expect(result.response.stat.size == 14)
        _ = try server.receiveFrame()
        let request = try server.receiveFrame()
        #expect(try FStatRequest.decode(request.payload) == FStatRequest(fd: 4))
    }

    @Test func shutdownEndsACallThatIsWaitingForAReply() throws {
        let (a, b) = try makeSocketPair()
        let server = Communicator(socket: b)
        let client = RPCClient(socket: a)
        let outcome = Box<Errno?>(nil)
        let thread = BackgroundThread {
            do throws(Errno) {
                _ = try client.call(FStatRequest(fd: 1))
            } catch {
                outcome.value = error
            }
        }
        // Once the request has arrived the caller is blocked waiting for the reply.
        _ = try server.receiveFrame()
        client.shutdown()
        thread.join()
        #expect(outcome.value == .connectionReset)
        #expect(throws: Errno.ioError) { try client.call(FStatRequest(fd: 1)) }
    }

    @Test func aServerThatDiesMidReplyFailsTheCall() throws {
        let (a, b) = try makeSocketPair()
        let client = RPCClient(socket: a)
        let server = Communicator(socket: b)
        let serverThread = BackgroundThread {
            _ = try? server.receiveFrame()
            try? writeRaw(
                b, FrameHeader(payloadLength: 144, messageID: .fStat).encoded() + [1, 2, 3])
            server.close()
        }
        #expect(throws: Errno.ioError) { try client.call(FStatRequest(fd: 1)) }
        serverThread.join()
    }

    @Test func callsFromManyThreadsAreSerialized() throws {
        let (a, b) = try makeSocketPair()
        let client = RPCClient(socket: a)
        let server = Communicator(socket: b)
        let serverThread = BackgroundThread {
            // Echo each PRead's offset back as the data length: replies match their requests
            // only if no two RPCs interleave on the socket.
            while let frame = try? server.receiveFrame(),
                let request = try? PReadRequest.decode(frame.payload)
            {
                let data = [UInt8](repeating: 0, count: Int(request.offset))
                try? server.send(PReadResponse(data: data))
            }
        }
        let failures = Box(0)
        let callers = (0..<4).map { worker in
            BackgroundThread {
                for index in 0..<50 {
                    let offset = UInt64(worker * 100 + index)
                    let result = try? client.call(PReadRequest(fd: 1, offset: offset, count: 0))
                    if result?.response.data.count != Int(offset) { failures.value += 1 }
                }
            }
        }
        callers.forEach { $0.join() }
        client.close()
        serverThread.join()
        #expect(failures.value == 0)
    }
}

import Foundation
import LISAFS
import SystemPackage
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The socket communicator over a real AF_UNIX SOCK_STREAM socketpair.
@Suite struct CommunicatorTests {
    @Test func aFrameArrivesWithItsHeaderAndPayload() throws {
        let (a, b) = try makeSocketPair()
        let client = Communicator(socket: a)
        let server = Communicator(socket: b)
        let request = WalkRequest(dirFD: 1, path: ["sub", "inner.txt"])
        try client.send(request)
        let frame = try server.receiveFrame()
        #expect(
            frame.header
                == FrameHeader(payloadLength: UInt32(frame.payload.count), messageID: .walk))
        #expect(
            try AnyRequest.decode(rawMessageID: frame.header.rawMessageID, payload: frame.payload)
                == .walk(request))
        #expect(frame.fds.isEmpty)
    }

    @Test func theSentBytesAreExactlyTheRecordedFrame() throws {
        // seq 9 of the vectors: Walk(root, ["sub", "inner.txt"]).
        let recorded = try #require(VectorCorpus.all.first { $0.seq == 9 })
        let (a, b) = try makeSocketPair()
        let client = Communicator(socket: a)
        try client.send(WalkRequest(dirFD: 1, path: ["sub", "inner.txt"]))
        var buffer = [UInt8](repeating: 0, count: recorded.bytes.count)
        let count = try buffer.withUnsafeMutableBytes { try b.read(into: $0) }
        _ = try? b.close()
        #expect(Array(buffer.prefix(count)) == recorded.bytes)
    }

    @Test func anEmptyPayloadFrameIsJustTheHeader() throws {
        let (a, b) = try makeSocketPair()
        let client = Communicator(socket: a)
        let server = Communicator(socket: b)
        try client.send(MountRequest())
        let frame = try server.receiveFrame()
        #expect(frame.header == FrameHeader(payloadLength: 0, messageID: .mount))
        #expect(frame.payload.isEmpty)
    }

    @Test func aDonatedFileDescriptorReachesTheClient() throws {
        let (a, b) = try makeSocketPair()
        let client = Communicator(socket: a)
        let server = Communicator(socket: b)
        let (readEnd, writeEnd) = try makePipe()
        defer { _ = try? readEnd.close() }
        // The server answers before the request is sent: the socket buffers it.
        try server.send(OpenAtResponse(openFD: 7), fds: [writeEnd])
        try writeEnd.close()
        let result = try client.call(OpenAtRequest(fd: 4, flags: UInt32(O_RDWR)))
        #expect(result.response == OpenAtResponse(openFD: 7))
        #expect(result.fds.count == 1)
        let received = try #require(result.fds.first?.take())
        _ = try [UInt8]("via fd".utf8).withUnsafeBytes { try received.write($0) }
        try received.close()
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = try buffer.withUnsafeMutableBytes { try readEnd.read(into: $0) }
        #expect(String(decoding: buffer.prefix(count), as: UTF8.self) == "via fd")
        let request = try server.receiveFrame()
        #expect(request.header.messageID == .openAt)
    }

    @Test func twoDonatedFileDescriptorsArriveInOrder() throws {
        let (a, b) = try makeSocketPair()
        let client = Communicator(socket: a)
        let server = Communicator(socket: b)
        let (read1, write1) = try makePipe()
        let (read2, write2) = try makePipe()
        defer { for fd in [read1, write1, read2, write2] { _ = try? fd.close() } }
        try server.send(
            ChannelResponse(dataOffset: 0, dataLength: 2_097_152), fds: [write1, write2])
        let result = try client.call(ChannelRequest())
        #expect(result.fds.count == 2)
        for (index, owned) in result.fds.enumerated() {
            let fd = try #require(owned.descriptor)
            _ = try [UInt8(index)].withUnsafeBytes { try fd.write($0) }
        }
        var byte: [UInt8] = [0xff]
        _ = try byte.withUnsafeMutableBytes { try read1.read(into: $0) }
        #expect(byte == [0])
        _ = try byte.withUnsafeMutableBytes { try read2.read(into: $0) }
        #expect(byte == [1])
    }

    @Test func fileDescriptorsBeyondTheExpectedCountAreNotLeaked() throws {
        let (a, b) = try makeSocketPair()
        let client = Communicator(socket: a)
        let server = Communicator(socket: b)
        let (readEnd, writeEnd) = try makePipe()
        defer { _ = try? readEnd.close() }
        // Three FDs where an OpenAt reply may carry one.
        try server.send(OpenAtResponse(openFD: 9), fds: [writeEnd, writeEnd, writeEnd])
        let result = try client.call(OpenAtRequest(fd: 4, flags: 0))
        #expect(result.fds.count == 1)
        result.fds.forEach { $0.close() }
        // Every received copy of the write end is closed, so the read end sees EOF.
        try writeEnd.close()
        #expect(try pipeIsAtEOF(readEnd))
    }

    @Test func fileDescriptorsSentWithAnErrorAreClosed() throws {
        let (a, b) = try makeSocketPair()
        let client = Communicator(socket: a)
        let server = Communicator(socket: b)
        let (readEnd, writeEnd) = try makePipe()
        defer { _ = try? readEnd.close() }
        try server.send(ErrorResponse(.permissionDenied), fds: [writeEnd])
        try writeEnd.close()
        #expect(throws: Errno.permissionDenied) { try client.call(OpenAtRequest(fd: 4, flags: 0)) }
        #expect(try pipeIsAtEOF(readEnd))
    }

    @Test func aServerReceivesNoFileDescriptors() throws {
        let (a, b) = try makeSocketPair()
        let server = Communicator(socket: b)
        let (readEnd, writeEnd) = try makePipe()
        defer { _ = try? readEnd.close() }
        let client = Communicator(socket: a)
        try client.send(FStatRequest(fd: 1), fds: [writeEnd])
        try writeEnd.close()
        let frame = try server.receiveFrame(maxFDs: 0)
        #expect(frame.fds.isEmpty)
        #expect(try pipeIsAtEOF(readEnd))
    }

    @Test func anOwnedFileDescriptorIsClosedWhenDropped() throws {
        let (readEnd, writeEnd) = try makePipe()
        defer { _ = try? readEnd.close() }
        do {
            let owned = OwnedFileDescriptor(writeEnd)
            #expect(owned.descriptor == writeEnd)
        }
        #expect(try pipeIsAtEOF(readEnd))
    }

    @Test func takingAnOwnedFileDescriptorKeepsItOpen() throws {
        let (readEnd, writeEnd) = try makePipe()
        defer { _ = try? readEnd.close(); _ = try? writeEnd.close() }
        do {
            let owned = OwnedFileDescriptor(writeEnd)
            #expect(owned.take() == writeEnd)
            #expect(owned.take() == nil)
        }
        #expect(try !pipeIsAtEOF(readEnd))
    }

    @Test func anErrorReplyThrowsItsErrno() throws {
        let (a, b) = try makeSocketPair()
        let client = Communicator(socket: a)
        let server = Communicator(socket: b)
        try server.sendError(.directoryNotEmpty)
        #expect(throws: Errno.directoryNotEmpty) {
            try client.call(UnlinkAtRequest(dirFD: 1, name: "full", flags: 0x200))
        }
        #expect(!client.isBroken)
    }

    @Test func aReplyWithTheWrongMIDBreaksTheConnection() throws {
        let (a, b) = try makeSocketPair()
        let client = Communicator(socket: a)
        let server = Communicator(socket: b)
        try server.send(PWriteResponse(count: 3))
        #expect(throws: Errno.ioError) { try client.call(FStatRequest(fd: 1)) }
        #expect(client.isBroken)
    }

    @Test func anUndecodableReplyIsAnIOError() throws {
        let (a, b) = try makeSocketPair()
        let client = Communicator(socket: a)
        let server = Communicator(socket: b)
        try server.sendFrame(rawMessageID: MessageID.fStat.rawValue, payload: [1, 2, 3])
        #expect(throws: Errno.ioError) { try client.call(FStatRequest(fd: 1)) }
    }
}

import LISAFS
import SystemPackage
import Testing

/// Every recorded frame between gVisor's own client and server (Vectors/, 98 frames) is decoded
/// with the message type its MID and direction select, its decoded values are compared with the
/// recorded per-field decode, and it is re-encoded and compared byte for byte.
@Suite struct GoldenVectorTests {
    static let vectors = VectorCorpus.all

    /// Decodes a recorded frame: header, then the payload by MID and direction.
    static func decode(_ vector: Vector) throws(Errno) -> (
        FrameHeader, Result<AnyRequest, Errno>?, Result<AnyResponse, Errno>?
    ) {
        let header = try FrameHeader.decode(vector.bytes)
        if vector.isRequest {
            let request = Result { () throws(Errno) in
                try AnyRequest.decode(rawMessageID: header.rawMessageID, payload: vector.payload)
            }
            return (header, request, nil)
        }
        let response = Result { () throws(Errno) in
            try AnyResponse.decode(rawMessageID: header.rawMessageID, payload: vector.payload)
        }
        return (header, nil, response)
    }

    @Test func corpusHoldsAll98RecordedFrames() {
        #expect(Self.vectors.count == 98)
        #expect(Self.vectors.map(\.seq) == Array(1...98))
    }

    @Test func corpusCoversEveryRequestMessage() {
        let requestMIDs = Set(Self.vectors.filter(\.isRequest).map(\.mid))
        #expect(requestMIDs == Set(1...33))
    }

    @Test func corpusCoversEveryResponseExceptFlush() {
        // fsgofer answers Flush with Error EOPNOTSUPP, so no Flush response was ever recorded.
        let responseMIDs = Set(Self.vectors.filter { !$0.isRequest }.map(\.mid))
        #expect(responseMIDs == Set(0...33).subtracting([MessageID.flush.rawValue]))
    }

    @Test(arguments: VectorCorpus.all)
    func decodedFieldsMatchTheRecordedDecode(_ vector: Vector) throws {
        let (header, request, response) = try Self.decode(vector)
        var dump = FieldDump()
        dump.header(header)
        if let request { dump.request(try request.get()) }
        if let response { dump.response(try response.get()) }
        let expected = vector.expectedValues
        #expect(Set(dump.values.keys) == Set(expected.keys))
        for (name, value) in expected {
            #expect(dump.values[name] == value, "field \(name)")
        }
    }

    @Test(arguments: VectorCorpus.all)
    func reencodingReproducesTheRecordedBytes(_ vector: Vector) throws {
        let (_, request, response) = try Self.decode(vector)
        let frame: [UInt8]
        if let request {
            frame = try request.get().encodedFrame()
        } else if let response {
            frame = try response.get().encodedFrame()
        } else {
            Issue.record("nothing decoded")
            return
        }
        #expect(frame == vector.bytesWithZeroPadding)
    }

    @Test(arguments: VectorCorpus.all)
    func decodedMessageTravelsUnderTheRecordedMID(_ vector: Vector) throws {
        let (header, request, response) = try Self.decode(vector)
        #expect(header.rawMessageID == vector.mid)
        #expect(Int(header.payloadLength) == vector.payload.count)
        if let request { #expect(try request.get().messageID.rawValue == vector.mid) }
        if let response { #expect(try response.get().messageID.rawValue == vector.mid) }
        #expect(MessageID(rawValue: vector.mid)?.name == vector.name)
    }

    @Test func onlyTheListenRequestCarriesNonZeroPadding() {
        let dirty = Self.vectors.filter { $0.bytes != $0.bytesWithZeroPadding }.map(\.seq)
        #expect(dirty == [83])
    }

    @Test func stalePaddingInTheListenRequestIsIgnored() throws {
        let listen = try #require(Self.vectors.first { $0.seq == 83 })
        // Recorded padding bytes 00100000: left over from the previous BindAt response.
        #expect(Array(listen.bytes[20..<24]) == [0x00, 0x10, 0x00, 0x00])
        let decoded = try ListenRequest.decode(listen.payload)
        #expect(decoded == ListenRequest(fd: 16, backlog: 8))
        let clean = try ListenRequest.decode(Array(listen.bytesWithZeroPadding.dropFirst(8)))
        #expect(decoded == clean)
        #expect(try decoded.encodedFrame() == listen.bytesWithZeroPadding)
    }

    @Test func walkResponseInodesStartAtPayloadOffsetThree() throws {
        let walk = try #require(Self.vectors.first { $0.seq == 10 })
        let response = try WalkResponse.decode(walk.payload)
        #expect(response.status == .success)
        #expect(response.inodes.map(\.controlFD) == [2, 3])
        let firstFD = try #require(walk.fields.first { $0.name == "inodes[0].control_fd" })
        #expect(firstFD.offset - FrameHeader.size == 3)
    }

    @Test func mountResponseAdvertisesEverythingButFlush() throws {
        let mount = try #require(Self.vectors.first { $0.seq == 2 })
        let response = try MountResponse.decode(mount.payload)
        #expect(response.maxMessageSize == Communicator.defaultMaxMessageSize)
        #expect(response.root.controlFD == 1)
        #expect(
            response.supportedMessageIDs == Set(MessageID.allCases).subtracting([.error, .flush]))
        #expect(!response.supports(.flush))
    }

    @Test func errorResponsesCarryLinuxErrnos() throws {
        let errors = try Self.vectors.filter { !$0.isRequest && $0.mid == 0 }
            .map { try ErrorResponse.decode($0.payload).error }
        #expect(errors == [.directoryNotEmpty, .badFileDescriptor, .notSupported])
    }

    @Test func symlinkWalkReturnsTheSymlinksOwnInode() throws {
        let walk = try #require(Self.vectors.first { $0.seq == 16 })
        let response = try WalkResponse.decode(walk.payload)
        #expect(response.status == .componentSymlink)
        #expect(response.inodes.count == 1)
        #expect(response.inodes.first.map { $0.stat.mode & 0o170000 } == 0o120000)
    }
}

import LISAFS
import SystemPackage
import Testing

/// Hostile or broken payloads must produce errors, never traps or huge allocations.
@Suite struct MalformedFrameTests {
    static func decodeAny(_ vector: Vector, payload: [UInt8]) throws(Errno) {
        if vector.isRequest {
            _ = try AnyRequest.decode(rawMessageID: vector.mid, payload: payload)
        } else {
            _ = try AnyResponse.decode(rawMessageID: vector.mid, payload: payload)
        }
    }

    @Test(arguments: VectorCorpus.all)
    func everyTruncationOfARecordedPayloadIsRejected(_ vector: Vector) {
        let payload = vector.payload
        for length in 0..<payload.count {
            #expect(throws: Errno.invalidArgument, "truncated to \(length)") {
                try Self.decodeAny(vector, payload: Array(payload.prefix(length)))
            }
        }
    }

    @Test(arguments: VectorCorpus.all)
    func aTrailingByteIsRejected(_ vector: Vector) {
        #expect(throws: Errno.invalidArgument) {
            try Self.decodeAny(vector, payload: vector.payload + [0])
        }
    }

    /// Opt-in leniency for servers that answer like fsgofer (gVisor's decoders ignore excess
    /// bytes): every recorded request with trailing bytes decodes to the same message.
    @Test(arguments: VectorCorpus.all.filter(\.isRequest))
    func trailingBytesAreIgnoredWhenAskedFor(_ vector: Vector) throws {
        let exact = try AnyRequest.decode(rawMessageID: vector.mid, payload: vector.payload)
        let lenient = try AnyRequest.decode(
            rawMessageID: vector.mid, payload: vector.payload + [0xAA, 0x55],
            ignoringTrailingBytes: true)
        #expect(lenient == exact)
    }

    /// Every recorded count and length field (`*.count`, `*.len`, `num_bytes`) set to its
    /// maximum: the decoder must notice the bytes are not there before allocating for them.
    @Test(
        arguments: VectorCorpus.all.filter { vector in
            vector.fields.contains { Self.isLengthField($0) }
        })
    func inflatedCountsAndLengthsAreRejected(_ vector: Vector) {
        for field in vector.fields where Self.isLengthField(field) {
            var bytes = vector.bytes
            for index in field.offset..<(field.offset + field.size) { bytes[index] = 0xff }
            #expect(throws: Errno.invalidArgument, "\(field.name) inflated") {
                try Self.decodeAny(vector, payload: Array(bytes.dropFirst(FrameHeader.size)))
            }
        }
    }

    static func isLengthField(_ field: Vector.Field) -> Bool {
        !field.name.hasPrefix("header.")
            && (field.name.hasSuffix(".count") || field.name.hasSuffix(".len")
                || field.name == "num_bytes")
    }

    @Test func aHugeStringArrayCountWithNoElementsIsRejected() {
        var writer = WireWriter()
        writer.writeUInt64(1)
        writer.writeUInt16(0xffff)
        #expect(throws: Errno.invalidArgument) { try WalkRequest.decode(writer.bytes) }
    }

    @Test func aHugeInodeCountIsRejectedBeforeAllocating() {
        // 65535 inodes would need ~10 MB; one is present.
        var writer = WireWriter()
        writer.writeUInt8(0)
        writer.writeUInt16(0xffff)
        Inode(controlFD: 1, stat: LISAFSStatx()).encode(to: &writer)
        #expect(throws: Errno.invalidArgument) { try WalkResponse.decode(writer.bytes) }
    }

    @Test func aPReadResponseLengthBeyondIntIsRejected() {
        var writer = WireWriter()
        writer.writeUInt64(.max)
        #expect(throws: Errno.invalidArgument) { try PReadResponse.decode(writer.bytes) }
    }

    @Test func aPWriteLengthBeyondTheDataIsRejected() {
        var writer = WireWriter()
        writer.writeUInt64(0)
        writer.writeUInt64(7)
        writer.writeUInt32(.max)
        writer.writeBytes([1, 2, 3])
        #expect(throws: Errno.invalidArgument) { try PWriteRequest.decode(writer.bytes) }
    }

    @Test func anUnknownWalkStatusIsRejected() {
        var writer = WireWriter()
        writer.writeUInt8(3)
        writer.writeUInt16(0)
        #expect(throws: Errno.invalidArgument) { try WalkResponse.decode(writer.bytes) }
    }

    @Test func anUnknownMessageIDIsNotSupported() {
        #expect(throws: Errno.notSupported) { try AnyRequest.decode(rawMessageID: 34, payload: []) }
        #expect(throws: Errno.notSupported) {
            try AnyResponse.decode(rawMessageID: 0xffff, payload: [])
        }
    }

    @Test func anErrorRequestIsRejected() {
        #expect(throws: Errno.invalidArgument) {
            try AnyRequest.decode(rawMessageID: 0, payload: [9, 0, 0, 0])
        }
    }

    @Test func aShortHeaderIsRejected() {
        for length in 0..<FrameHeader.size {
            #expect(throws: Errno.invalidArgument) {
                try FrameHeader.decode(Array(repeating: 0, count: length))
            }
        }
    }

    @Test func headerPaddingIsIgnoredAndWrittenAsZero() throws {
        let header = try FrameHeader.decode([4, 0, 0, 0, 3, 0, 0xaa, 0xbb])
        #expect(header == FrameHeader(payloadLength: 4, messageID: .fStat))
        #expect(header.encoded() == [4, 0, 0, 0, 3, 0, 0, 0])
    }

    @Test func anOverlongStringCannotBeEncoded() {
        let name = SizedString(bytes: Array(repeating: 0x61, count: 65536))
        #expect(throws: Errno.messageTooLong) {
            try UnlinkAtRequest(dirFD: 1, name: name, flags: 0).encoded()
        }
    }

    @Test func theLongestStringRoundTrips() throws {
        let name = SizedString(bytes: Array(repeating: 0x61, count: 65535))
        let request = FRemoveXattrRequest(fd: 3, name: name)
        #expect(try FRemoveXattrRequest.decode(request.encoded()) == request)
    }

    @Test func tooManyFDsCannotBeEncoded() {
        let fds = (0..<65536).map { FDID(UInt64($0)) }
        #expect(throws: Errno.messageTooLong) { try CloseRequest(fds: fds).encoded() }
    }
}

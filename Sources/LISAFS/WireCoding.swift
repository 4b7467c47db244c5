import SystemPackage

/// A bounded little-endian reader over one message payload.
///
/// LISAFS has no alignment on the wire: fields follow one another with no gaps except the
/// explicit padding fields each message declares (the vectors' Walk response puts every Inode at
/// payload offset 3). Every read checks the remaining byte count first and throws
/// `Errno.invalidArgument` when the payload is too short, so a hostile frame can never make the
/// reader trap. Nothing here allocates in proportion to a count read from the wire before that
/// count has been checked against the bytes that are actually left (`checkCount`).
public struct WireReader: Sendable {
    /// The bytes being decoded.
    public let bytes: [UInt8]
    /// Index of the next byte to read.
    public private(set) var position: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.position = 0
    }

    /// Bytes not yet consumed.
    public var remaining: Int { bytes.count - position }

    /// Throws EINVAL unless `count` more bytes are available.
    @inline(__always)
    public func require(_ count: Int) throws(Errno) {
        guard count >= 0, count <= remaining else { throw Errno.invalidArgument }
    }

    /// Validates an element count read from the wire before anything is allocated for it: the
    /// elements need at least `count * minimumElementSize` bytes, and those must be present.
    public func checkCount(_ count: Int, minimumElementSize: Int) throws(Errno) {
        let (needed, overflow) = count.multipliedReportingOverflow(by: minimumElementSize)
        guard count >= 0, !overflow, needed <= remaining else { throw Errno.invalidArgument }
    }

    public mutating func readUInt8() throws(Errno) -> UInt8 {
        try require(1)
        let value = bytes[position]
        position += 1
        return value
    }

    public mutating func readUInt16() throws(Errno) -> UInt16 {
        try require(2)
        let value = UInt16(bytes[position]) | UInt16(bytes[position + 1]) << 8
        position += 2
        return value
    }

    public mutating func readUInt32() throws(Errno) -> UInt32 {
        try require(4)
        var value: UInt32 = 0
        for index in 0..<4 {
            value |= UInt32(bytes[position + index]) << (8 * UInt32(index))
        }
        position += 4
        return value
    }

    public mutating func readUInt64() throws(Errno) -> UInt64 {
        try require(8)
        var value: UInt64 = 0
        for index in 0..<8 {
            value |= UInt64(bytes[position + index]) << (8 * UInt64(index))
        }
        position += 8
        return value
    }

    public mutating func readInt32() throws(Errno) -> Int32 {
        Int32(bitPattern: try readUInt32())
    }

    public mutating func readInt64() throws(Errno) -> Int64 {
        Int64(bitPattern: try readUInt64())
    }

    /// Skips padding without looking at it: receivers must ignore padding (the vectors' seq 83
    /// Listen request carries stale non-zero padding bytes from gVisor's reused buffer).
    public mutating func skip(_ count: Int) throws(Errno) {
        try require(count)
        position += count
    }

    /// Reads `count` raw bytes (checked against the remaining bytes before copying).
    public mutating func readBytes(_ count: Int) throws(Errno) -> [UInt8] {
        try require(count)
        let value = Array(bytes[position..<(position + count)])
        position += count
        return value
    }

    /// Throws EINVAL if any byte is left over. Every LISAFS message has an exact size determined
    /// by its own fields, so a longer payload is malformed (gVisor's decoders ignore the excess;
    /// we refuse it, see the module overview).
    public func finish() throws(Errno) {
        guard remaining == 0 else { throw Errno.invalidArgument }
    }
}

/// A little-endian writer that appends packed fields to a byte buffer. Padding is written as
/// zeros. Values that do not fit their wire field (a string longer than 65535 bytes, an array
/// with more than 65535 elements) make the encoder throw `Errno.messageTooLong` (EMSGSIZE).
public struct WireWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(max(0, capacity))
    }

    public mutating func writeUInt8(_ value: UInt8) {
        bytes.append(value)
    }

    public mutating func writeUInt16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    public mutating func writeUInt32(_ value: UInt32) {
        for index in 0..<4 {
            bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))))
        }
    }

    public mutating func writeUInt64(_ value: UInt64) {
        for index in 0..<8 {
            bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))))
        }
    }

    public mutating func writeInt32(_ value: Int32) {
        writeUInt32(UInt32(bitPattern: value))
    }

    public mutating func writeInt64(_ value: Int64) {
        writeUInt64(UInt64(bitPattern: value))
    }

    /// Writes `count` zero bytes of padding.
    public mutating func writePadding(_ count: Int) {
        bytes.append(contentsOf: repeatElement(0, count: max(0, count)))
    }

    public mutating func writeBytes(_ value: [UInt8]) {
        bytes.append(contentsOf: value)
    }

    /// Writes a u16 element count, throwing EMSGSIZE if it does not fit.
    public mutating func writeCount16(_ count: Int) throws(Errno) {
        guard let value = UInt16(exactly: count) else { throw Errno.messageTooLong }
        writeUInt16(value)
    }
}

import Foundation
import Glibc
import GoferServer
import LISAFS
import SystemPackage
import Testing

/// Frames a malicious client can send: each gets an Error answer (fsgofer's errno) or, for a
/// frame the transport cannot carry, a closed connection — never a crash, never an
/// allocation the client sized, and the server keeps serving afterwards.
@Suite struct HostileFrameTests {
    static func setUp() throws -> (ScratchTree, GoferHarness, FDID) {
        let tree = try ScratchTree()
        try tree.write("file", "0123456789")
        try tree.mkdir("dir")
        let harness = try GoferHarness(root: tree.path)
        let root = try harness.mount().root.controlFD
        return (tree, harness, root)
    }

    /// The connection still answers a plain FStat of the root.
    static func stillServes(_ harness: GoferHarness, _ root: FDID) throws {
        let stat = try harness.call(FStatRequest(fd: root)).response.stat
        #expect(stat.mode & 0o170000 == 0o040000)
    }

    @Test func anythingBeforeMountIsEINVAL() throws {
        let tree = try ScratchTree()
        let harness = try GoferHarness(root: tree.path)
        var payload = Bytes()
        payload.u64(1)
        #expect(try harness.rawErrno(3, payload.bytes) == .invalidArgument)
        #expect(try harness.rawErrno(99, []) == .invalidArgument)
        #expect(try harness.mount().root.controlFD == 1)
    }

    @Test(arguments: [UInt16(0), 20, 34, 99, 0xFFFF])
    func unknownOrUnsupportedMessagesAreEOPNOTSUPP(mid: UInt16) throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        var payload = Bytes()
        payload.u64(root.rawValue)
        #expect(try harness.rawErrno(mid, payload.bytes) == .notSupported)
        try Self.stillServes(harness, root)
    }

    @Test(arguments: [UInt16(3), 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33])
    func aTruncatedPayloadIsEIO(mid: UInt16) throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        // Three bytes: shorter than any request's first field. (Close/FSync read a u16 count and
        // then find no FDIDs.)
        let answer = try harness.rawErrno(mid, [1, 0, 0])
        #expect(answer == .ioError || answer == .readOnlyFileSystem)
        try Self.stillServes(harness, root)
    }

    /// fsgofer's decoders ignore bytes after the message, so the server answers normally.
    @Test func bytesAfterTheMessageAreIgnored() throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        var payload = Bytes()
        payload.u64(root.rawValue)
        payload.u32(0xDEAD_BEEF)
        let frame = try harness.raw(3, payload.bytes)
        #expect(frame.header.rawMessageID == 3)
        #expect(try FStatResponse.decode(frame.payload).stat.mode & 0o170000 == 0o040000)
    }

    /// A read-only server refuses a mutating message before looking at its payload: a
    /// truncated SetStat or PWrite is EROFS, not EIO.
    @Test func aReadOnlyServerRefusesMutatingMessagesBeforeDecoding() throws {
        let tree = try ScratchTree()
        let harness = try GoferHarness(root: tree.path, options: GoferServerOptions(readOnly: true))
        let root = try harness.mount().root.controlFD
        #expect(try harness.rawErrno(4, [1, 0, 0]) == .readOnlyFileSystem)
        #expect(try harness.rawErrno(11, [1, 0, 0]) == .readOnlyFileSystem)
        // A non-mutating message with the same payload does not decode.
        #expect(try harness.rawErrno(3, [1, 0, 0]) == .ioError)
        try Self.stillServes(harness, root)
    }

    @Test func aHugeStringArrayCountWithoutTheStringsIsEIO() throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        var payload = Bytes()
        payload.u64(root.rawValue)
        payload.u16(0xFFFF)
        payload.string(Array("dir".utf8))
        #expect(try harness.rawErrno(5, payload.bytes) == .ioError)
        #expect(try harness.rawErrno(6, payload.bytes) == .ioError)
        try Self.stillServes(harness, root)
    }

    @Test func aStringLongerThanThePayloadIsEIO() throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        var payload = Bytes()
        payload.u64(root.rawValue)
        payload.u16(1)
        payload.u16(60000)
        payload.bytes += Array("dir".utf8)
        #expect(try harness.rawErrno(5, payload.bytes) == .ioError)
        try Self.stillServes(harness, root)
    }

    @Test func unknownFDIDsAreEBADF() throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        for id: FDID in [0, 999, FDID(UInt64.max)] {
            #expect(throws: Errno.badFileDescriptor) { try harness.call(FStatRequest(fd: id)) }
            #expect(throws: Errno.badFileDescriptor) { try harness.walk(id, ["dir"]) }
            #expect(throws: Errno.badFileDescriptor) { try harness.call(PReadRequest(fd: id, offset: 0, count: 1)) }
            #expect(throws: Errno.badFileDescriptor) { try harness.call(ListenRequest(fd: id, backlog: 1)) }
        }
        try Self.stillServes(harness, root)
    }

    @Test func aControlFDIsNotAnOpenFDAndViceVersa() throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        let file = try #require(harness.walk(root, ["file"]).inodes.first).controlFD
        #expect(throws: Errno.badFileDescriptor) { try harness.call(PReadRequest(fd: file, offset: 0, count: 4)) }
        let open = try harness.call(OpenAtRequest(fd: file, flags: 0)).response.openFD
        #expect(throws: Errno.badFileDescriptor) { try harness.walk(open, ["x"]) }
        #expect(throws: Errno.badFileDescriptor) { try harness.call(OpenAtRequest(fd: open, flags: 0)) }
        // Read-only open FD: writes are EBADF, as fsgofer checks the access mode.
        #expect(throws: Errno.badFileDescriptor) { try harness.call(PWriteRequest(fd: open, offset: 0, data: [1])) }
    }

    @Test func aPReadLargerThanAFrameIsENOBUFS() throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        let file = try #require(harness.walk(root, ["file"]).inodes.first).controlFD
        let open = try harness.call(OpenAtRequest(fd: file, flags: 0)).response.openFD
        #expect(throws: Errno.noBufferSpace) { try harness.call(PReadRequest(fd: open, offset: 0, count: UInt32.max)) }
        #expect(try harness.call(PReadRequest(fd: open, offset: 4, count: 1 << 20)).response.data == Array("456789".utf8))
    }

    @Test func aPWriteClaimingMoreBytesThanItCarriesIsEIO() throws {
        let (tree, harness, root) = try Self.setUp()
        let file = try #require(harness.walk(root, ["file"]).inodes.first).controlFD
        let open = try harness.call(OpenAtRequest(fd: file, flags: 2)).response.openFD
        var payload = Bytes()
        payload.u64(0)
        payload.u64(open.rawValue)
        payload.u32(1_000_000)
        payload.bytes += [0x41, 0x42]
        #expect(try harness.rawErrno(11, payload.bytes) == .ioError)
        #expect(tree.read("file") == "0123456789")
    }

    @Test(arguments: [Int32.min, Int32.max, -1, 0])
    func getdentsCountsAtTheExtremesAreServed(count: Int32) throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        let open = try harness.call(OpenAtRequest(fd: root, flags: 0)).response.openFD
        let dirents = try harness.call(Getdents64Request(dirFD: open, count: count)).response.dirents
        // |count| below one host record (-1, 0): nothing fits, so nothing is returned, as
        // fsgofer (getdents64 says EINVAL for a too-small buffer and the walk stops).
        #expect(dirents.count == (count.magnitude < 280 ? 0 : 2))
        #expect(Set(dirents.map { String(decoding: $0.name.bytes, as: UTF8.self) }).isSubset(of: ["file", "dir"]))
    }

    @Test func anXattrBufferSizeBeyondLinuxLimitsIsClamped() throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        let file = try #require(harness.walk(root, ["file"]).inodes.first).controlFD
        _ = try harness.call(FSetXattrRequest(fd: file, name: "user.k", value: "v", flags: 0))
        #expect(try harness.call(FGetXattrRequest(fd: file, name: "user.k", bufSize: UInt32.max)).response.value == "v")
        #expect(try harness.call(FListXattrRequest(fd: file, size: UInt64.max)).response.xattrs == ["user.k"])
        // A name over XATTR_NAME_MAX: ERANGE, as Linux.
        let long = SizedString(bytes: Array("user.".utf8) + [UInt8](repeating: 0x61, count: 300))
        #expect(throws: Errno.outOfRange) { try harness.call(FGetXattrRequest(fd: file, name: long, bufSize: 10)) }
    }

    @Test func aFrameLargerThanTheLimitClosesTheConnection() throws {
        let (tree, harness, _) = try Self.setUp()
        _ = tree
        // Only the header is sent: it announces 16 MiB, and the server hangs up without
        // waiting for (or allocating) the payload.
        var header = Bytes()
        header.u32(16 << 20)
        header.u16(5)
        header.u16(0)
        let sent = header.bytes.withUnsafeBytes { send(harness.communicator.socket.rawValue, $0.baseAddress, $0.count, 0) }
        #expect(sent == 8)
        var byte: UInt8 = 0
        #expect(recv(harness.communicator.socket.rawValue, &byte, 1, 0) == 0)
    }

    @Test func theFDTableIsBounded() throws {
        let tree = try ScratchTree()
        try tree.mkdir("d")
        let harness = try GoferHarness(root: tree.path, options: GoferServerOptions(maxFDsPerConnection: 3))
        let root = try harness.mount().root.controlFD
        #expect(try harness.walk(root, ["d"]).inodes.count == 1)
        #expect(try harness.walk(root, ["d"]).inodes.count == 1)
        #expect(throws: Errno.tooManyOpenFiles) { try harness.walk(root, ["d"]) }
        _ = try harness.call(CloseRequest(fds: [2]))
        #expect(try harness.walk(root, ["d"]).inodes.map(\.controlFD) == [FDID(4)])
    }

    /// 3000 seeded random frames (every MID but Accept, which blocks by design until a peer
    /// connects; payloads of 0–80 random bytes, FDIDs often valid): each gets an answer, and
    /// the server still serves afterwards.
    @Test func randomFramesAreAnsweredWithoutCrashing() throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        var generator = SplitMix(seed: 0x5EED_0F_60FE4)
        for _ in 0..<3000 {
            var mid = UInt16(generator.next() % 36)
            if mid == 31 { mid = 3 }
            var payload = Bytes()
            if generator.next() % 2 == 0 { payload.u64(generator.next() % 6) }
            let extra = Int(generator.next() % 72)
            for _ in 0..<extra { payload.bytes.append(UInt8(truncatingIfNeeded: generator.next())) }
            let frame = try harness.raw(mid, payload.bytes)
            #expect(frame.header.rawMessageID == mid || frame.header.rawMessageID == 0)
        }
        try Self.stillServes(harness, root)
    }
}

/// A small deterministic generator (SplitMix64) for reproducible hostile input.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

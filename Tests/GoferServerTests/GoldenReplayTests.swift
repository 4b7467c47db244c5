import Foundation
import Glibc
import GoferServer
import LISAFS
import SystemPackage
import Testing

/// The golden-vector exercise replayed against our server: the README's tree on a fresh tmpfs
/// mounted with the recording's options, every recorded request sent byte for byte (seq 83's
/// stale padding included), every answer compared with gVisor's fsgofer's recorded answer
/// field by field, except the fields the recording marks `varies` (inode numbers, devices,
/// host-set times, dirent cookies). FD counts must match too.
@Suite struct GoldenReplayTests {
    struct Vector: Decodable {
        struct Field: Decodable {
            var name: String
            var offset: Int
            var size: Int
            var varies: Bool
        }
        var seq: Int
        var direction: String
        var mid: UInt16
        var name: String
        var hex: String
        var fds: Int
        var fields: [Field]

        var bytes: [UInt8] {
            var result: [UInt8] = []
            var iterator = hex.utf8.makeIterator()
            while let high = iterator.next(), let low = iterator.next() {
                if let byte = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) { result.append(byte) }
            }
            return result
        }
    }

    static func loadVectors() throws -> [Vector] {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let candidates = [
            here.appendingPathComponent("../LISAFSTests/Vectors/vectors.json").standardized.path,
            "/work/shared/lisafs-vectors/vectors.json",
        ]
        guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }),
            let data = FileManager.default.contents(atPath: path)
        else { throw Errno.noSuchFileOrDirectory }
        return try JSONDecoder().decode([Vector].self, from: data)
    }

    /// The README's setup: tmpfs size=8m,nr_inodes=256,mode=0755; hello.txt, sub/inner.txt,
    /// full/keep, lnk -> hello.txt, in the recording's creation order (inode numbers 2..7);
    /// every atime/mtime 1700000000.
    static func makeTree() throws -> ScratchTree {
        let tree = try ScratchTree(mountTmpfs: "size=8m,nr_inodes=256,mode=0755")
        try tree.mkdir("sub")
        try tree.mkdir("full")
        try tree.write("hello.txt", "hello, lisafs\n")
        try tree.write("sub/inner.txt", "inner\n")
        try tree.write("full/keep", "k")
        try tree.symlink("lnk", to: "hello.txt")
        for entry in ["sub/inner.txt", "full/keep", "hello.txt", "lnk", "sub", "full", ""] {
            try tree.setTimes(entry, seconds: 1_700_000_000)
        }
        return tree
    }

    /// Differences between a recorded response and ours, outside `varies` fields.
    static func differences(_ recorded: Vector, _ ours: [UInt8], fds: Int) -> [String] {
        var problems: [String] = []
        let expected = recorded.bytes
        if ours.count != expected.count { problems.append("length \(ours.count) != \(expected.count)") }
        if fds != recorded.fds { problems.append("fds \(fds) != \(recorded.fds)") }
        for field in recorded.fields where !field.varies {
            let range = field.offset..<(field.offset + field.size)
            guard range.upperBound <= ours.count else {
                problems.append("\(field.name) missing")
                continue
            }
            if Array(ours[range]) != Array(expected[range]) {
                problems.append("\(field.name): \(Array(ours[range])) != \(Array(expected[range]))")
            }
        }
        return problems
    }

    @Test func everyAnswerMatchesFsgoferOutsideTheVaryingFields() throws {
        let vectors = try Self.loadVectors()
        #expect(vectors.count == 98)
        let tree = try Self.makeTree()
        let harness = try GoferHarness(root: tree.path)
        var compared = 0
        for (request, recorded) in zip(vectors, vectors.dropFirst()) where request.direction == "request" {
            let payload = Array(request.bytes.dropFirst(8))
            try harness.communicator.sendFrame(rawMessageID: request.mid, payload: payload)
            let frame = try harness.communicator.receiveFrame(maxFDs: 4)
            var ours = FrameHeader(payloadLength: frame.header.payloadLength, rawMessageID: frame.header.rawMessageID)
                .encoded()
            ours += frame.payload
            let problems = Self.differences(recorded, ours, fds: frame.fds.count)
            #expect(problems.isEmpty, "seq \(recorded.seq) \(recorded.name) (step \(request.name)): \(problems)")
            compared += 1
        }
        #expect(compared == 49)
    }

    /// The comparison itself can fail: one changed non-varying byte (Mount's max_message_size)
    /// is reported.
    @Test func theComparisonReportsAChangedField() throws {
        let vectors = try Self.loadVectors()
        let mountResponse = try #require(vectors.first { $0.seq == 2 })
        var changed = mountResponse.bytes
        changed[160] ^= 0xff
        #expect(Self.differences(mountResponse, changed, fds: 0) == ["max_message_size: \(Array(changed[160..<164])) != \(Array(mountResponse.bytes[160..<164]))"])
        #expect(Self.differences(mountResponse, mountResponse.bytes, fds: 0).isEmpty)
    }
}

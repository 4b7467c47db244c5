import DifferentialHarness
import Glibc
import Testing

/// readv, writev, preadv, pwritev, preadv2, pwritev2: the iovec rules (zero-length entries,
/// more than IOV_MAX entries, a zero total), offsets, streams, and the RWF_* flags, in
/// Linux's order of checks. The VFS side decodes the iovecs through its dispatcher.
@Suite(.enabled(if: Diff.available, "needs root and /dev/shm"))
struct VectoredIODifferentialTests {
    static let hipri: Int32 = 0x1
    static let dsync: Int32 = 0x2
    static let sync: Int32 = 0x4
    static let nowait: Int32 = 0x8
    static let append: Int32 = 0x10
    static let noAppend: Int32 = 0x20
    static let atomic: Int32 = 0x40
    static let dontCache: Int32 = 0x80
    static let noSignal: Int32 = 0x100

    static let abc = Array("abc".utf8)
    static let defgh = Array("defgh".utf8)

    /// "hello world" in f (fd#0, offset at the end).
    var file: [Operation] { [.create("f"), .write(slot: 0, data: Array("hello world".utf8))] }

    @Test func writevGathersInOrder() throws {
        try Diff.agree(
            [.create("f"), .writev(slot: 0, chunks: [Self.abc, [], Self.defgh], call: .plain)]
                + [.pread(slot: 0, count: 64, offset: 0), .fstat(slot: 0)])
    }

    @Test func readvScattersAndStopsAtTheEnd() throws {
        try Diff.agree(
            file + [
                .lseek(slot: 0, offset: 0, whence: SEEK_SET),
                .readv(slot: 0, lengths: [3, 0, 4, 100], call: .plain),
                .readv(slot: 0, lengths: [5], call: .plain),
                .lseek(slot: 0, offset: 0, whence: SEEK_CUR),
            ])
    }

    @Test func onlyZeroLengthVectorsTransferNothing() throws {
        try Diff.agree(
            file + [
                .readv(slot: 0, lengths: [0, 0], call: .plain),
                .writev(slot: 0, chunks: [[], []], call: .plain),
            ])
    }

    @Test func noVectorsAtAllIsZero() throws {
        try Diff.last(file + [.writev(slot: 0, chunks: [], call: .plain)], is: .value(0))
    }

    @Test func moreThanIOVMaxVectorsIsEINVAL() throws {
        try Diff.last(
            file + [.readv(slot: 0, lengths: Array(repeating: 0, count: 1025), call: .plain)],
            is: Diff.fails(EINVAL))
    }

    @Test func exactlyIOVMaxVectorsWork() throws {
        try Diff.agree(
            file + [.pwritev(slot: 0, chunks: Array(repeating: [0x41], count: 1024), offset: 3)]
                + [.fstat(slot: 0)])
    }

    @Test func aWriteOnlyDescriptorIsEBADFBeforeTheVectorCount() throws {
        try Diff.last(
            [
                .open("f", flags: O_CREAT | Diff.wronly, mode: 0o644, slot: 0),
                .readv(slot: 0, lengths: Array(repeating: 1, count: 1025), call: .plain),
            ],
            is: Diff.fails(EBADF))
    }

    @Test func aClosedSlotIsEBADF() throws {
        try Diff.last([.writev(slot: 3, chunks: [Self.abc], call: .plain)], is: Diff.fails(EBADF))
    }

    @Test func aPathOnlyDescriptorIsEBADF() throws {
        try Diff.last(
            file + [
                .open("f", flags: Diff.pathOnly, mode: 0, slot: 1),
                .readv(slot: 1, lengths: [4], call: .plain),
            ],
            is: Diff.fails(EBADF))
    }

    @Test func readvOfADirectoryIsEISDIR() throws {
        try Diff.last(
            [
                .mkdir("d", mode: 0o755), .open("d", flags: Diff.rdonly, mode: 0, slot: 1),
                .readv(slot: 1, lengths: [8], call: .plain),
            ],
            is: Diff.fails(EISDIR))
    }

    @Test func preadvLeavesTheOffsetAlone() throws {
        try Diff.agree(
            file + [
                .readv(slot: 0, lengths: [2, 3], call: .positioned(offset: 4)),
                .lseek(slot: 0, offset: 0, whence: SEEK_CUR),
                .readv(slot: 0, lengths: [2], call: .positioned(offset: 100)),
            ])
    }

    @Test func aNegativeOffsetIsEINVALEvenOnABadDescriptor() throws {
        try Diff.last(
            [.readv(slot: 4, lengths: [1], call: .positioned(offset: -1))], is: Diff.fails(EINVAL))
    }

    @Test func pwritevPastTheEndLeavesAHole() throws {
        try Diff.agree(
            file + [
                .writev(slot: 0, chunks: [Self.abc], call: .positioned(offset: 8192)),
                .fstat(slot: 0),
            ]
                + [.pread(slot: 0, count: 20, offset: 8185)])
    }

    @Test func pwritevOnAnAppendDescriptorAppends() throws {
        try Diff.agree(
            file + [
                .open("f", flags: Diff.wronly | O_APPEND, mode: 0, slot: 1),
                .writev(slot: 1, chunks: [Self.abc], call: .positioned(offset: 0)),
                .pread(slot: 0, count: 64, offset: 0),
            ])
    }

    @Test func positionedCallsOnAPipeAreESPIPE() throws {
        try Diff.agree([
            .pipe2(flags: O_NONBLOCK, read: 1, write: 2),
            .writev(slot: 2, chunks: [Self.abc], call: .positioned(offset: 0)),
            .writev(slot: 2, chunks: [Self.abc], call: .flagged(offset: -1, flags: 0)),
            .readv(slot: 1, lengths: [1], call: .positioned(offset: 0)),
            .readv(slot: 1, lengths: [2, 2], call: .flagged(offset: -1, flags: 0)),
        ])
    }

    @Test func preadv2AtMinusOneUsesTheFileOffset() throws {
        try Diff.agree(
            file + [
                .lseek(slot: 0, offset: 6, whence: SEEK_SET),
                .readv(slot: 0, lengths: [3], call: .flagged(offset: -1, flags: 0)),
                .lseek(slot: 0, offset: 0, whence: SEEK_CUR),
                .readv(slot: 0, lengths: [3], call: .flagged(offset: -2, flags: 0)),
            ])
    }

    @Test func harmlessFlagsAreAccepted() throws {
        try Diff.agree(
            file + [
                .readv(slot: 0, lengths: [3], call: .flagged(offset: 0, flags: Self.hipri)),
                .writev(slot: 0, chunks: [Self.abc], call: .flagged(offset: 0, flags: Self.dsync)),
                .writev(slot: 0, chunks: [Self.abc], call: .flagged(offset: 1, flags: Self.sync)),
                .writev(
                    slot: 0, chunks: [Self.abc], call: .flagged(offset: 2, flags: Self.noSignal)),
                .pread(slot: 0, count: 64, offset: 0),
            ])
    }

    @Test func unknownFlagsAreEOPNOTSUPP() throws {
        try Diff.last(
            file + [.readv(slot: 0, lengths: [3], call: .flagged(offset: 0, flags: 0x200))],
            is: Diff.fails(EOPNOTSUPP))
    }

    @Test func flagsAreNotCheckedForAZeroTotal() throws {
        try Diff.last(
            file + [.readv(slot: 0, lengths: [0], call: .flagged(offset: 0, flags: 0x200))],
            is: .bytes([]))
    }

    @Test func nowaitAtomicAndDontcacheAreEOPNOTSUPPOnTmpfs() throws {
        try Diff.agree(
            file + [
                .readv(slot: 0, lengths: [3], call: .flagged(offset: 0, flags: Self.nowait)),
                .writev(slot: 0, chunks: [Self.abc], call: .flagged(offset: 0, flags: Self.atomic)),
                .readv(slot: 0, lengths: [3], call: .flagged(offset: 0, flags: Self.atomic)),
                .writev(
                    slot: 0, chunks: [Self.abc], call: .flagged(offset: 0, flags: Self.dontCache)),
            ])
    }

    @Test func nowaitOnAnEmptyPipeIsEAGAIN() throws {
        try Diff.agree([
            .pipe2(flags: O_NONBLOCK, read: 1, write: 2),
            .readv(slot: 1, lengths: [3], call: .flagged(offset: -1, flags: Self.nowait)),
            .writev(slot: 2, chunks: [Self.abc], call: .flagged(offset: -1, flags: Self.nowait)),
            .readv(slot: 1, lengths: [8], call: .flagged(offset: -1, flags: Self.nowait)),
        ])
    }

    @Test func rwfAppendWritesAtTheEnd() throws {
        try Diff.agree(
            file + [
                .lseek(slot: 0, offset: 0, whence: SEEK_SET),
                .writev(slot: 0, chunks: [Self.abc], call: .flagged(offset: 0, flags: Self.append)),
                .lseek(slot: 0, offset: 0, whence: SEEK_CUR),
                .writev(
                    slot: 0, chunks: [Self.defgh], call: .flagged(offset: -1, flags: Self.append)),
                .lseek(slot: 0, offset: 0, whence: SEEK_CUR),
                .pread(slot: 0, count: 64, offset: 0),
            ])
    }

    @Test func rwfNoAppendOverridesOAppend() throws {
        try Diff.agree(
            file + [
                .open("f", flags: Diff.rdwr | O_APPEND, mode: 0, slot: 1),
                .writev(
                    slot: 1, chunks: [Self.abc], call: .flagged(offset: 2, flags: Self.noAppend)),
                .writev(
                    slot: 1, chunks: [Self.defgh], call: .flagged(offset: -1, flags: Self.noAppend)),
                .lseek(slot: 1, offset: 0, whence: SEEK_CUR),
                .pread(slot: 0, count: 64, offset: 0),
            ])
    }

    @Test func appendWithNoAppendIsEINVAL() throws {
        try Diff.last(
            file + [
                .writev(
                    slot: 0, chunks: [Self.abc],
                    call: .flagged(offset: 0, flags: Self.append | Self.noAppend))
            ],
            is: Diff.fails(EINVAL))
    }

    @Test func aUserCannotWriteAReadOnlyOpen() throws {
        try Diff.agree(
            Diff.asUser(
                [.create("f", mode: 0o644)],
                then: [
                    .open("f", flags: Diff.rdonly, mode: 0, slot: 1),
                    .writev(slot: 1, chunks: [Self.abc], call: .plain),
                    .readv(slot: 1, lengths: [1, 1], call: .flagged(offset: 0, flags: Self.hipri)),
                ]),
            RunConfiguration(identity: .root, rootMode: 0o777))
    }
}

extension Operation {
    static func pwritev(slot: Int, chunks: [[UInt8]], offset: Int64) -> Operation {
        .writev(slot: slot, chunks: chunks, call: .positioned(offset: offset))
    }
}

import DifferentialHarness
import Glibc
import Testing

/// FIFOs opened without blocking: who counts as a reader or writer, and what reads see.
@Suite(.enabled(if: Diff.available, "needs root and /dev/shm"))
struct FifoDifferentialTests {
    @Test func readingAnEmptyFifoOpenedReadWriteIsEAGAIN() throws {
        try Diff.last(
            [
                .mknod("p", mode: S_IFIFO | 0o644), .open("p", flags: Diff.rdwr, mode: 0, slot: 0),
                .read(slot: 0, count: 8),
            ],
            is: Diff.fails(EAGAIN))
    }

    @Test func aFailedWriterOpenLeavesNoWriterBehind() throws {
        try Diff.last(
            [
                .mknod("p", mode: S_IFIFO | 0o644),
                .open("p", flags: Diff.wronly, mode: 0, slot: 1),
                .open("p", flags: Diff.rdonly, mode: 0, slot: 0), .read(slot: 0, count: 8),
            ],
            is: .bytes([]))
    }

    @Test func aReaderSeesDataThenEAGAINWhileAWriterIsOpen() throws {
        try Diff.agree([
            .mknod("p", mode: S_IFIFO | 0o644), .open("p", flags: Diff.rdonly, mode: 0, slot: 0),
            .open("p", flags: Diff.wronly, mode: 0, slot: 1), .write(slot: 1, data: [1, 2, 3]),
            .read(slot: 0, count: 2), .read(slot: 0, count: 8), .read(slot: 0, count: 8),
            .close(slot: 1), .read(slot: 0, count: 8),
        ])
    }

    @Test func writingWithoutReadersIsEPIPE() throws {
        try Diff.last(
            [
                .mknod("p", mode: S_IFIFO | 0o644), .open("p", flags: Diff.rdwr, mode: 0, slot: 0),
                .open("p", flags: Diff.wronly, mode: 0, slot: 1), .close(slot: 0),
                .write(slot: 1, data: [1]),
            ],
            is: Diff.fails(EPIPE))
    }

    @Test func writesStampTheFifosTimes() throws {
        try Diff.agree([
            .mknod("p", mode: S_IFIFO | 0o644), .open("p", flags: Diff.rdwr, mode: 0, slot: 0),
            .stat("p"), .write(slot: 0, data: [1]), .stat("p"), .read(slot: 0, count: 1),
            .stat("p"),
        ])
    }

    @Test func failedWriterOpensDoNotConfuseALaterReader() throws {
        try Diff.agree([
            .symlink(target: "c", "d"), .mknod("c", mode: S_IFIFO | 0o700),
            .open("c", flags: Diff.wronly, mode: 0, slot: 2),
            .open("d", flags: Diff.rdwr | O_CREAT, mode: 0o755, slot: 5),
            .open("c", flags: Diff.wronly, mode: 0, slot: 4), .read(slot: 5, count: 64),
        ])
    }

    @Test func pipeSizeAndAsyncFlagOfAFifo() throws {
        // F_GETPIPE_SZ (1032) and F_SETFL with O_ASYNC (0o20000) on a FIFO descriptor.
        try Diff.agree([
            .mknod("p", mode: S_IFIFO | 0o644), .open("p", flags: Diff.rdwr, mode: 0, slot: 0),
            .fcntl(slot: 0, command: 1032, argument: 0),
            .fcntl(slot: 0, command: F_SETFL, argument: O_NONBLOCK | 0o20000),
            .fcntl(slot: 0, command: F_GETFL, argument: 0),
        ])
    }
}

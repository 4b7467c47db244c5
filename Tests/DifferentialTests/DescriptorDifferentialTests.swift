import DifferentialHarness
import Glibc
import Testing

/// Descriptor calls: data, offsets, flags, directories through descriptors, and their EBADF,
/// EINVAL and ESPIPE cases, as root, each checked against Linux.
@Suite(.enabled(if: Diff.available, "needs root and /dev/shm"))
struct DescriptorDifferentialTests {
    @Test func readingAWriteOnlyDescriptorIsEBADF() throws {
        try Diff.last(
            [
                .open("f", flags: O_CREAT | Diff.wronly, mode: 0o644, slot: 0),
                .read(slot: 0, count: 4),
            ],
            is: Diff.fails(EBADF))
    }

    @Test func writingAReadOnlyDescriptorIsEBADF() throws {
        try Diff.last(
            [
                .create("f"), .open("f", flags: Diff.rdonly, mode: 0, slot: 1),
                .write(slot: 1, data: [1]),
            ],
            is: Diff.fails(EBADF))
    }

    @Test func aClosedSlotIsEBADF() throws {
        try Diff.last([.create("f"), .close(slot: 0), .fstat(slot: 0)], is: Diff.fails(EBADF))
    }

    @Test func readingAPathOnlyDescriptorIsEBADF() throws {
        try Diff.last(
            [
                .create("f"), .open("f", flags: Diff.pathOnly, mode: 0, slot: 1),
                .read(slot: 1, count: 1),
            ],
            is: Diff.fails(EBADF))
    }

    @Test func fchmodOfAPathOnlyDescriptorIsEBADF() throws {
        try Diff.last(
            [
                .create("f"), .open("f", flags: Diff.pathOnly, mode: 0, slot: 1),
                .fchmod(slot: 1, mode: 0o600),
            ],
            is: Diff.fails(EBADF))
    }

    @Test func fstatOfAPathOnlyDescriptorWorks() throws {
        try Diff.agree([
            .create("f"), .open("f", flags: Diff.pathOnly, mode: 0, slot: 1), .fstat(slot: 1),
        ])
    }

    @Test func ftruncateOfAReadOnlyDescriptorIsEINVAL() throws {
        try Diff.last(
            [
                .create("f"), .open("f", flags: Diff.rdonly, mode: 0, slot: 1),
                .ftruncate(slot: 1, length: 0),
            ],
            is: Diff.fails(EINVAL))
    }

    @Test func readingADirectoryIsEISDIR() throws {
        try Diff.last(
            [
                .mkdir("d", mode: 0o755), .open("d", flags: Diff.rdonly, mode: 0, slot: 0),
                .read(slot: 0, count: 8),
            ],
            is: Diff.fails(EISDIR))
    }

    @Test func getdentsOfAFileIsENOTDIR() throws {
        try Diff.last([.create("f"), .getdents(slot: 0)], is: Diff.fails(ENOTDIR))
    }

    @Test func getdentsListsEveryEntryWithItsType() throws {
        let report = try Diff.agree([
            .mkdir("d", mode: 0o755), .create("d/f"), .mkdir("d/sub", mode: 0o755),
            .symlink(target: "f", "d/l"), .mknod("d/p", mode: S_IFIFO | 0o644),
            .open("d", flags: Diff.rdonly | O_DIRECTORY, mode: 0, slot: 1), .getdents(slot: 1),
            .getdents(slot: 1), .lseek(slot: 1, offset: 0, whence: SEEK_SET), .getdents(slot: 1),
        ])
        #expect(
            report.steps[6].kernel
                == .entries([
                    EntryRecord(name: ".", type: 4), EntryRecord(name: "..", type: 4),
                    EntryRecord(name: "f", type: 8), EntryRecord(name: "l", type: 10),
                    EntryRecord(name: "p", type: 1), EntryRecord(name: "sub", type: 4),
                ]))
        #expect(report.steps[7].kernel == .entries([]))
    }

    @Test func entriesCreatedAfterReadingToTheEndShowUpOnTheNextGetdents() throws {
        try Diff.agree([
            .mkdir("d", mode: 0o755), .open("d", flags: Diff.rdonly, mode: 0, slot: 1),
            .getdents(slot: 1), .create("d/late"), .getdents(slot: 1),
        ])
    }

    @Test func lseekOnAFifoIsESPIPE() throws {
        try Diff.last(
            [
                .mknod("p", mode: S_IFIFO | 0o644),
                .open("p", flags: Diff.rdonly, mode: 0, slot: 0),
                .lseek(slot: 0, offset: 0, whence: SEEK_SET),
            ],
            is: Diff.fails(ESPIPE))
    }

    @Test func anUnknownWhenceIsEINVAL() throws {
        try Diff.last(
            [.create("f"), .lseek(slot: 0, offset: 0, whence: 7)], is: Diff.fails(EINVAL))
    }

    @Test func preadAtANegativeOffsetIsEINVAL() throws {
        try Diff.last(
            [.create("f"), .pread(slot: 0, count: 1, offset: -1)], is: Diff.fails(EINVAL))
    }

    @Test func seekDataAndHoleFollowPages() throws {
        try Diff.agree([
            .create("f"), .pwrite(slot: 0, data: [1, 2, 3], offset: 8195),
            .lseek(slot: 0, offset: 0, whence: Diff.seekData),
            .lseek(slot: 0, offset: 0, whence: Diff.seekHole),
            .lseek(slot: 0, offset: 8196, whence: Diff.seekHole),
            .lseek(slot: 0, offset: 9000, whence: Diff.seekData),
            .fstat(slot: 0),
        ])
    }

    @Test func appendWritesGoToTheEnd() throws {
        try Diff.agree([
            .create("f"), .write(slot: 0, data: Array("hello".utf8)),
            .open("f", flags: Diff.wronly | O_APPEND, mode: 0, slot: 1),
            .lseek(slot: 1, offset: 0, whence: SEEK_SET), .write(slot: 1, data: Array("!".utf8)),
            .pwrite(slot: 1, data: Array("?".utf8), offset: 0),
            .pread(slot: 0, count: 64, offset: 0),
        ])
    }

    @Test func sparseWritesAllocateOnlyTheirPages() throws {
        try Diff.agree([
            .create("f"), .pwrite(slot: 0, data: [7], offset: 70_000), .fstat(slot: 0),
            .ftruncate(slot: 0, length: 5000), .fstat(slot: 0), .ftruncate(slot: 0, length: 0),
            .fstat(slot: 0),
        ])
    }

    @Test func fallocatePunchHoleAndKeepSize() throws {
        try Diff.agree([
            .create("f"), .fallocate(slot: 0, mode: 0, offset: 0, length: 10_000), .fstat(slot: 0),
            .fallocate(slot: 0, mode: 3, offset: 4096, length: 4096), .fstat(slot: 0),
            .fallocate(slot: 0, mode: 1, offset: 20_000, length: 100), .fstat(slot: 0),
        ])
    }

    @Test func fallocateZeroRangeIsEOPNOTSUPPOnTmpfs() throws {
        try Diff.last(
            [.create("f"), .fallocate(slot: 0, mode: 0x10, offset: 0, length: 10)],
            is: Diff.fails(EOPNOTSUPP))
    }

    @Test func statusFlagsAndCloseOnExec() throws {
        try Diff.agree([
            .open("f", flags: Diff.create | O_CLOEXEC, mode: 0o644, slot: 0),
            .fcntl(slot: 0, command: F_GETFL, argument: 0),
            .fcntl(slot: 0, command: F_GETFD, argument: 0),
            .fcntl(slot: 0, command: F_SETFL, argument: O_APPEND | O_NONBLOCK | Diff.direct),
            .fcntl(slot: 0, command: F_GETFL, argument: 0), .dup(slot: 0, into: 1),
            .fcntl(slot: 1, command: F_GETFD, argument: 0),
            .fcntl(slot: 1, command: F_SETFD, argument: 1),
            .fcntl(slot: 1, command: F_GETFD, argument: 0),
        ])
    }

    @Test func dupSharesTheOffsetAndDup2ReplacesTheTarget() throws {
        try Diff.agree([
            .create("f"), .write(slot: 0, data: Array("abcdef".utf8)), .dup(slot: 0, into: 1),
            .lseek(slot: 1, offset: 2, whence: SEEK_SET), .read(slot: 0, count: 2),
            .create("g", slot: 2), .dup2(slot: 0, onto: 2), .read(slot: 2, count: 10),
            .dup2(slot: 0, onto: 5), .fstat(slot: 5), .close(slot: 0), .read(slot: 1, count: 1),
        ])
    }

    @Test func descriptorsOutliveTheirName() throws {
        try Diff.agree([
            .create("f"), .write(slot: 0, data: [1, 2, 3]), .unlink("f", flags: 0), .fstat(slot: 0),
            .pread(slot: 0, count: 8, offset: 0), .mkdir("d", mode: 0o755),
            .open("d", flags: Diff.rdonly, mode: 0, slot: 1), .rmdir("d"), .getdents(slot: 1),
            .stat(Location("x", base: 1), flags: 0), .mkdir(Location("x", base: 1), mode: 0o755),
        ])
    }

    @Test func fchdirThenRelativeWork() throws {
        try Diff.agree([
            .mkdir("d", mode: 0o755), .open("d", flags: Diff.rdonly, mode: 0, slot: 1),
            .fchdir(slot: 1), .create("here"), .chdir(".."), .stat("d/here"), .umask(0o077),
            .mkdir("m", mode: 0o777), .stat("m"),
        ])
    }

    @Test func temporaryFilesHaveNoName() throws {
        try Diff.agree([
            .mkdir("d", mode: 0o755),
            .open("d", flags: Diff.temporaryFile | O_RDWR | O_NONBLOCK, mode: 0o600, slot: 0),
            .write(slot: 0, data: [1]), .fstat(slot: 0),
            .open("d", flags: Diff.temporaryFile | O_RDONLY | O_NONBLOCK, mode: 0o600, slot: 1),
        ])
    }
}

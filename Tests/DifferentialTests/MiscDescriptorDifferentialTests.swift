import DifferentialHarness
import Glibc
import Testing

/// pipe2, memfd_create, close_range, dup3 and mknod of device nodes, each against Linux.
@Suite(.enabled(if: Diff.available, "needs root and /dev/shm"))
struct MiscDescriptorDifferentialTests {
    let mixed = RunConfiguration(identity: .root, rootMode: 0o777)

    // MARK: - pipe2

    @Test func aPipeCarriesData() throws {
        let report = try Diff.agree([
            .pipe2(flags: O_NONBLOCK, read: 1, write: 2), .write(slot: 2, data: Array("ping".utf8)),
            .read(slot: 1, count: 2), .read(slot: 1, count: 10), .read(slot: 1, count: 10),
            .fstat(slot: 1), .fcntl(slot: 1, command: F_GETFL, argument: 0),
            .fcntl(slot: 2, command: F_GETFL, argument: 0),
            .fcntl(slot: 2, command: F_GETFD, argument: 0),
        ])
        #expect(report.steps[0].kernel == .descriptors([3, 4]))
    }

    @Test func pipe2FlagsReachBothEnds() throws {
        try Diff.agree([
            .pipe2(flags: O_NONBLOCK | O_CLOEXEC | Diff.direct, read: 1, write: 2),
            .fcntl(slot: 1, command: F_GETFD, argument: 0),
            .fcntl(slot: 2, command: F_GETFD, argument: 0),
            .fcntl(slot: 1, command: F_GETFL, argument: 0),
            .fcntl(slot: 2, command: F_GETFL, argument: 0),
        ])
    }

    @Test func unknownPipe2FlagsAreEINVAL() throws {
        try Diff.agree([
            .pipe2(flags: O_RDWR, read: 1, write: 2), .pipe2(flags: O_APPEND, read: 1, write: 2),
            .pipe2(flags: O_NONBLOCK | O_CREAT, read: 1, write: 2),
        ])
    }

    @Test func notificationPipesAreENOPKG() throws {
        try Diff.last([.pipe2(flags: O_EXCL, read: 1, write: 2)], is: Diff.fails(65))
    }

    @Test func writingAPipeWithoutReadersIsEPIPE() throws {
        try Diff.agree([
            .pipe2(flags: O_NONBLOCK, read: 1, write: 2), .close(slot: 1),
            .write(slot: 2, data: [1]), .readv(slot: 2, lengths: [1], call: .plain),
        ])
    }

    @Test func pipesAreNotSeekable() throws {
        try Diff.agree([
            .pipe2(flags: O_NONBLOCK, read: 1, write: 2),
            .lseek(slot: 1, offset: 0, whence: SEEK_CUR),
            .pread(slot: 1, count: 1, offset: 0), .pwrite(slot: 2, data: [1], offset: 0),
            .ftruncate(slot: 2, length: 0),
        ])
    }

    @Test func fchmodAndFchownOfAPipeMoveItsCtime() throws {
        try Diff.agree([
            .pipe2(flags: O_NONBLOCK, read: 1, write: 2), .fstat(slot: 1),
            .fchmod(slot: 2, mode: 0o640),
            .fstat(slot: 1), .fchown(slot: 1, uid: 1000, gid: UInt32.max), .fstat(slot: 2),
        ])
    }

    @Test func statxOfAPipeReportsItsTimesWhateverTheMask() throws {
        // pipefs has no multigrain timestamps: Linux 6.18 gives mask 0x17ff for mask 0.
        try Diff.agree([
            .pipe2(flags: O_NONBLOCK, read: 1, write: 2),
            .statx(Location("", base: 1), flags: Diff.emptyPath, mask: 0),
        ])
    }

    @Test func aUserOwnsItsPipes() throws {
        try Diff.agree(
            Diff.asUser([], then: [.pipe2(flags: O_NONBLOCK, read: 1, write: 2), .fstat(slot: 1)]),
            mixed)
    }

    // MARK: - memfd_create

    @Test func aMemfdIsAnUnnamedReadWriteFile() throws {
        try Diff.agree([
            .memfd(name: "m", repeat: 1, flags: 0, slot: 1),
            .write(slot: 1, data: Array("memory".utf8)),
            .pread(slot: 1, count: 64, offset: 0), .fstat(slot: 1),
            .fcntl(slot: 1, command: F_GETFL, argument: 0),
            .fcntl(slot: 1, command: F_GETFD, argument: 0),
            .ftruncate(slot: 1, length: 10_000), .fstat(slot: 1),
        ])
    }

    @Test func aMemfdsAtimeMovesAtEveryRead() throws {
        // The internal shm mount has no MNT_RELATIME: Linux 6.18 moves the atime each time.
        try Diff.agree([
            .memfd(name: "m", repeat: 1, flags: 0, slot: 1), .write(slot: 1, data: [1, 2, 3]),
            .fstat(slot: 1), .pread(slot: 1, count: 3, offset: 0), .fstat(slot: 1),
            .pread(slot: 1, count: 3, offset: 0), .fstat(slot: 1), .read(slot: 1, count: 8),
            .fstat(slot: 1),
        ])
    }

    @Test func memfdCloexecAndNoexecSeal() throws {
        try Diff.agree([
            .memfd(name: "m", repeat: 1, flags: 1, slot: 1),
            .fcntl(slot: 1, command: F_GETFD, argument: 0),
            .memfd(name: "m", repeat: 1, flags: 8, slot: 2), .fstat(slot: 2),
            .memfd(name: "m", repeat: 1, flags: 0x10, slot: 3), .fstat(slot: 3),
            .memfd(name: "m", repeat: 1, flags: 2, slot: 4), .fstat(slot: 4),
        ])
    }

    @Test func aMemfdRefusesODirect() throws {
        // Never opened through shmem's ->open, a memfd lacks FMODE_CAN_ODIRECT: Linux 6.18
        // gives EINVAL, where a tmpfs file opened by name takes O_DIRECT.
        try Diff.agree([
            .memfd(name: "m", repeat: 1, flags: 0, slot: 1),
            .fcntl(slot: 1, command: F_SETFL, argument: O_NONBLOCK | Diff.direct),
            .create("f", slot: 2),
            .fcntl(slot: 2, command: F_SETFL, argument: O_NONBLOCK | Diff.direct),
        ])
    }

    @Test func memfdFlagErrors() throws {
        try Diff.agree([
            .memfd(name: "m", repeat: 1, flags: 0x20, slot: 1),
            .memfd(name: "m", repeat: 1, flags: 0x18, slot: 1),
            .memfd(name: "m", repeat: 1, flags: 1 << 26, slot: 1),
        ])
    }

    @Test func memfdNamesUpTo249Bytes() throws {
        try Diff.agree([
            .memfd(name: "n", repeat: 249, flags: 0, slot: 1),
            .memfd(name: "n", repeat: 250, flags: 0, slot: 2),
            .memfd(name: "n", repeat: 0, flags: 0, slot: 3),
        ])
    }

    @Test func aUsersMemfdIsItsOwn() throws {
        try Diff.agree(
            Diff.asUser(
                [], then: [.memfd(name: "u", repeat: 1, flags: 0, slot: 1), .fstat(slot: 1)]),
            mixed)
    }

    // MARK: - close_range

    /// Five descriptors, 3 to 7, in slots 0 to 4.
    var five: [Operation] {
        [.create("f", slot: 0)] + (1..<5).map { .open("f", flags: Diff.rdonly, mode: 0, slot: $0) }
    }

    @Test func closeRangeClosesTheRange() throws {
        try Diff.agree(
            five + [
                .closeRange(first: 4, last: 5, flags: 0), .fstat(slot: 0), .fstat(slot: 1),
                .fstat(slot: 2), .fstat(slot: 3), .open("f", flags: Diff.rdonly, mode: 0, slot: 5),
            ])
    }

    @Test func closeRangeToTheTop() throws {
        try Diff.agree(
            five + [
                .closeRange(first: 6, last: UInt32.max, flags: 0), .fstat(slot: 3), .fstat(slot: 2),
            ])
    }

    @Test func closeRangeCloexecOnlyMarks() throws {
        try Diff.agree(
            five + [
                .closeRange(first: 4, last: 6, flags: 4),
                .fcntl(slot: 0, command: F_GETFD, argument: 0),
                .fcntl(slot: 1, command: F_GETFD, argument: 0),
                .fcntl(slot: 3, command: F_GETFD, argument: 0),
                .fcntl(slot: 4, command: F_GETFD, argument: 0),
                .closeRange(first: 0, last: 2, flags: 4),
            ])
    }

    @Test func closeRangeUnshareAndEmptyRanges() throws {
        try Diff.agree(
            five + [
                .closeRange(first: 7, last: 7, flags: 2), .fstat(slot: 4),
                .closeRange(first: 100, last: 200, flags: 0), .fstat(slot: 3),
            ])
    }

    @Test func closeRangeErrors() throws {
        try Diff.agree(
            five + [
                .closeRange(first: 6, last: 5, flags: 0), .closeRange(first: 3, last: 4, flags: 1),
                .closeRange(first: 3, last: 4, flags: 8), .fstat(slot: 0),
            ])
    }

    // MARK: - dup3

    @Test func dup3OntoItselfIsEINVAL() throws {
        try Diff.last([.create("f"), .dup3(slot: 0, onto: 0, flags: 0)], is: Diff.fails(EINVAL))
    }

    @Test func dup3TakesOnlyCloexec() throws {
        try Diff.agree([
            .create("f"), .dup3(slot: 0, onto: 1, flags: O_CLOEXEC),
            .fcntl(slot: 1, command: F_GETFD, argument: 0),
            .dup3(slot: 0, onto: 2, flags: O_NONBLOCK),
            .dup3(slot: 0, onto: 2, flags: 0), .fcntl(slot: 2, command: F_GETFD, argument: 0),
        ])
    }

    @Test func dup3ReplacesAnOpenDescriptorAndSharesTheOffset() throws {
        try Diff.agree([
            .create("f"), .write(slot: 0, data: Array("abcdef".utf8)), .create("g", slot: 1),
            .dup3(slot: 0, onto: 1, flags: 0), .lseek(slot: 1, offset: 1, whence: SEEK_SET),
            .read(slot: 0, count: 2), .fstat(slot: 1),
        ])
    }

    @Test func dup3OfAClosedDescriptorIsEBADF() throws {
        try Diff.agree([
            .create("f"), .dup3(slot: 3, onto: 0, flags: 0), .dup3(slot: 3, onto: 3, flags: 0),
            .fstat(slot: 0),
        ])
    }

    // MARK: - device nodes

    @Test func rootMakesCharacterAndBlockDevices() throws {
        try Diff.agree([
            .mknodDevice("c", mode: S_IFCHR | 0o640, device: 1 << 8 | 3),
            .mknodDevice("b", mode: S_IFBLK | 0o600, device: 8 << 8 | 1),
            .mknodDevice("big", mode: S_IFCHR | 0o600, device: 0xABC << 8 | 0x12 | 0x345 << 20),
            .lstat("c"), .lstat("b"), .lstat("big"),
            .mknodDevice("c", mode: S_IFCHR | 0o640, device: 0),
        ])
    }

    @Test func theUmaskAppliesToDeviceNodes() throws {
        try Diff.agree([
            .umask(0o027), .mknodDevice("c", mode: S_IFCHR | 0o777, device: 5 << 8 | 1),
            .lstat("c"),
        ])
    }

    @Test func aUserCannotMakeADeviceNode() throws {
        try Diff.agree(
            Diff.asUser(
                [.mkdir("ro", mode: 0o755)],
                then: [
                    .mknodDevice("c", mode: S_IFCHR | 0o600, device: 1 << 8 | 3),
                    .mknodDevice("b", mode: S_IFBLK | 0o600, device: 0),
                    .mknodDevice("ro/c", mode: S_IFCHR | 0o600, device: 1 << 8 | 3),
                    .mknodDevice("missing/c", mode: S_IFCHR | 0o600, device: 1),
                    .mknod("fifo", mode: S_IFIFO | 0o600), .lstat("fifo"),
                ]),
            mixed)
    }

    @Test func deviceNodesCanBeRenamedLinkedAndRemoved() throws {
        try Diff.agree([
            .mknodDevice("c", mode: S_IFCHR | 0o600, device: 1 << 8 | 5),
            .link("c", "c2", flags: 0), .rename("c", "d", flags: 0), .lstat("c2"),
            .chmod("d", mode: 0o644, flags: 0), .lstat("c2"), .unlink("d", flags: 0), .lstat("c2"),
        ])
    }
}

import DifferentialHarness
import Glibc
import Testing

/// Documented path errors of the *at calls, as root, each checked against Linux.
@Suite(.enabled(if: Diff.available, "needs root and /dev/shm"))
struct PathErrorDifferentialTests {
    // MARK: ENOENT

    @Test func statOfAMissingNameIsENOENT() throws {
        try Diff.last([.stat("nope")], is: Diff.fails(ENOENT))
    }

    @Test func emptyPathWithoutAtEmptyPathIsENOENT() throws {
        try Diff.last([.stat(Location(""), flags: 0)], is: Diff.fails(ENOENT))
    }

    @Test func mkdirUnderAMissingParentIsENOENT() throws {
        try Diff.last([.mkdir("x/y", mode: 0o755)], is: Diff.fails(ENOENT))
    }

    @Test func openThroughADanglingSymlinkWithoutCreateIsENOENT() throws {
        try Diff.last(
            [.symlink(target: "missing", "s"), .open("s", flags: Diff.rdonly, mode: 0, slot: 0)],
            is: Diff.fails(ENOENT))
    }

    @Test func createThroughADanglingSymlinkCreatesItsTarget() throws {
        let report = try Diff.agree([
            .symlink(target: "target", "s"), .create("s"), .lstat("target"),
        ])
        #expect(report.steps[1].kernel == .descriptor(3))
    }

    @Test func exclusiveCreateThroughADanglingSymlinkIsEEXIST() throws {
        try Diff.last(
            [
                .symlink(target: "target", "s"),
                .open("s", flags: Diff.create | O_EXCL, mode: 0o644, slot: 0),
            ], is: Diff.fails(EEXIST))
    }

    @Test func renameOfAMissingSourceIsENOENT() throws {
        try Diff.last([.rename("a", "b", flags: 0)], is: Diff.fails(ENOENT))
    }

    @Test func chdirIntoARemovedDirectoryThenCreatingIsENOENT() throws {
        try Diff.last(
            [.mkdir("d", mode: 0o755), .chdir("d"), .rmdir("../d"), .create("f")],
            is: Diff.fails(ENOENT))
    }

    // MARK: EEXIST

    @Test func mkdirOverAnExistingNameIsEEXIST() throws {
        try Diff.last([.create("f"), .mkdir("f", mode: 0o755)], is: Diff.fails(EEXIST))
    }

    @Test func mkdirOverADanglingSymlinkIsEEXIST() throws {
        try Diff.last(
            [.symlink(target: "nowhere", "s"), .mkdir("s", mode: 0o755)], is: Diff.fails(EEXIST))
    }

    @Test func linkOntoAnExistingNameIsEEXIST() throws {
        try Diff.last(
            [.create("a"), .create("b", slot: 1), .link("a", "b", flags: 0)],
            is: Diff.fails(EEXIST))
    }

    @Test func renameNoReplaceOntoAnExistingNameIsEEXIST() throws {
        try Diff.last(
            [.create("a"), .mkdir("b", mode: 0o755), .rename("a", "b", flags: 1)],
            is: Diff.fails(EEXIST))
    }

    // MARK: ENOTDIR

    @Test func aFileInTheMiddleOfAPathIsENOTDIR() throws {
        try Diff.last([.create("f"), .stat("f/x")], is: Diff.fails(ENOTDIR))
    }

    @Test func aTrailingSlashOnAFileIsENOTDIR() throws {
        try Diff.last([.create("f"), .stat("f/")], is: Diff.fails(ENOTDIR))
    }

    @Test func renamingADirectoryOverAFileIsENOTDIR() throws {
        try Diff.last(
            [.mkdir("d", mode: 0o755), .create("f"), .rename("d", "f", flags: 0)],
            is: Diff.fails(ENOTDIR))
    }

    @Test func rmdirOfAFileIsENOTDIR() throws {
        try Diff.last([.create("f"), .rmdir("f")], is: Diff.fails(ENOTDIR))
    }

    @Test func openDirectoryFlagOnAFileIsENOTDIR() throws {
        try Diff.last(
            [.create("f"), .open("f", flags: Diff.rdonly | O_DIRECTORY, mode: 0, slot: 1)],
            is: Diff.fails(ENOTDIR))
    }

    @Test func aFileDescriptorAsDirfdIsENOTDIR() throws {
        try Diff.last(
            [.create("f"), .stat(Location("x", base: 0), flags: 0)], is: Diff.fails(ENOTDIR))
    }

    // MARK: EISDIR

    @Test func openingADirectoryForWritingIsEISDIR() throws {
        try Diff.last(
            [.mkdir("d", mode: 0o755), .open("d", flags: Diff.wronly, mode: 0, slot: 0)],
            is: Diff.fails(EISDIR))
    }

    @Test func unlinkOfADirectoryIsEISDIR() throws {
        try Diff.last([.mkdir("d", mode: 0o755), .unlink("d", flags: 0)], is: Diff.fails(EISDIR))
    }

    @Test func renamingAFileOverADirectoryIsEISDIR() throws {
        try Diff.last(
            [.mkdir("d", mode: 0o755), .create("f"), .rename("f", "d", flags: 0)],
            is: Diff.fails(EISDIR))
    }

    @Test func creatingWithATrailingSlashIsEISDIR() throws {
        try Diff.last([.create("new/")], is: Diff.fails(EISDIR))
    }

    @Test func truncateOfADirectoryIsEISDIR() throws {
        try Diff.last(
            [.mkdir("d", mode: 0o755), .truncate("d", length: 0)], is: Diff.fails(EISDIR))
    }

    // MARK: ENOTEMPTY, EINVAL, EBUSY

    @Test func rmdirOfANonEmptyDirectoryIsENOTEMPTY() throws {
        try Diff.last(
            [.mkdir("d", mode: 0o755), .create("d/f"), .rmdir("d")], is: Diff.fails(ENOTEMPTY))
    }

    @Test func renamingOverANonEmptyDirectoryIsENOTEMPTY() throws {
        try Diff.last(
            [
                .mkdir("a", mode: 0o755), .mkdir("b", mode: 0o755), .mkdir("b/c", mode: 0o755),
                .rename("a", "b", flags: 0),
            ], is: Diff.fails(ENOTEMPTY))
    }

    @Test func renamingADirectoryIntoItsOwnSubtreeIsEINVAL() throws {
        try Diff.last(
            [
                .mkdir("a", mode: 0o755), .mkdir("a/b", mode: 0o755),
                .rename("a", "a/b/c", flags: 0),
            ],
            is: Diff.fails(EINVAL))
    }

    @Test func rmdirOfDotIsEINVAL() throws {
        try Diff.last([.mkdir("d", mode: 0o755), .rmdir("d/.")], is: Diff.fails(EINVAL))
    }

    @Test func rmdirOfDotDotIsENOTEMPTY() throws {
        try Diff.last([.mkdir("d", mode: 0o755), .rmdir("d/..")], is: Diff.fails(ENOTEMPTY))
    }

    @Test func renameExchangeWithNoReplaceIsEINVAL() throws {
        try Diff.last(
            [.create("a"), .create("b", slot: 1), .rename("a", "b", flags: 3)],
            is: Diff.fails(EINVAL))
    }

    @Test func renameOfDotIsEBUSY() throws {
        try Diff.last(
            [.mkdir("d", mode: 0o755), .rename("d/.", "e", flags: 0)], is: Diff.fails(EBUSY))
    }

    @Test func readlinkOfARegularFileIsEINVAL() throws {
        try Diff.last([.create("f"), .readlink("f", size: 64)], is: Diff.fails(EINVAL))
    }

    @Test func unknownUnlinkatFlagsAreEINVAL() throws {
        try Diff.last([.create("f"), .unlink("f", flags: 1)], is: Diff.fails(EINVAL))
    }

    // MARK: ELOOP, ENAMETOOLONG

    @Test func aSelfReferentialSymlinkIsELOOP() throws {
        try Diff.last([.symlink(target: "s", "s"), .stat("s")], is: Diff.fails(ELOOP))
    }

    @Test func noFollowOnASymlinkIsELOOP() throws {
        try Diff.last(
            [
                .create("f"), .symlink(target: "f", "s"),
                .open("s", flags: Diff.rdonly | O_NOFOLLOW, mode: 0, slot: 1),
            ],
            is: Diff.fails(ELOOP))
    }

    @Test func fortyOneChainedSymlinksAreELOOP() throws {
        var operations: [Operation] = [.create("l0")]
        for index in 1...41 {
            operations.append(.symlink(target: "l\(index - 1)", Location("l\(index)")))
        }
        let report = try Diff.agree(operations + [.stat("l40"), .stat("l41")])
        #expect(report.steps[report.steps.count - 2].kernel.isFailure == false)
        #expect(report.steps.last?.kernel == Diff.fails(ELOOP))
    }

    @Test func aNameOf256BytesIsENAMETOOLONG() throws {
        try Diff.last(
            [.mkdir(Location(String(repeating: "n", count: 256)), mode: 0o755)],
            is: Diff.fails(ENAMETOOLONG))
    }

    // MARK: Links and special files

    @Test func hardLinkToADirectoryIsEPERM() throws {
        try Diff.last([.mkdir("d", mode: 0o755), .link("d", "e", flags: 0)], is: Diff.fails(EPERM))
    }

    @Test func linkFollowsASymlinkOnlyWithAtSymlinkFollow() throws {
        try Diff.agree([
            .create("f"), .symlink(target: "f", "s"), .link("s", "plain", flags: 0),
            .link("s", "followed", flags: AT_SYMLINK_FOLLOW), .lstat("plain"), .lstat("followed"),
            .stat("f"),
        ])
    }

    @Test func openingAFifoForWritingWithoutReaderIsENXIO() throws {
        try Diff.last(
            [.mknod("p", mode: S_IFIFO | 0o644), .open("p", flags: Diff.wronly, mode: 0, slot: 0)],
            is: Diff.fails(ENXIO))
    }

    @Test func openingASocketNodeIsENXIO() throws {
        try Diff.last(
            [
                .mknod("sock", mode: S_IFSOCK | 0o644),
                .open("sock", flags: Diff.rdonly, mode: 0, slot: 0),
            ],
            is: Diff.fails(ENXIO))
    }

    @Test func chmodWithoutFollowingASymlinkIsEOPNOTSUPP() throws {
        try Diff.last(
            [
                .create("f"), .symlink(target: "f", "s"),
                .chmod("s", mode: 0o600, flags: Diff.nofollow),
            ],
            is: Diff.fails(EOPNOTSUPP))
    }

    @Test func renameExchangeSwapsAFileAndADirectory() throws {
        try Diff.agree([
            .create("f"), .write(slot: 0, data: Array("data".utf8)), .mkdir("d", mode: 0o700),
            .create("d/inner", slot: 1), .rename("f", "d", flags: 2), .stat("f"), .stat("d"),
            .stat("f/inner"),
        ])
    }

    @Test func renameWhiteoutLeavesACharacterDeviceBehind() throws {
        try Diff.agree([.create("a"), .rename("a", "b", flags: 4), .lstat("a"), .lstat("b")])
    }

    @Test func absoluteSymlinksResolveFromTheRoot() throws {
        try Diff.agree([
            .mkdir("d", mode: 0o755), .create("d/f"), .symlink(target: "/d/f", "d/abs"),
            .symlink(target: "../../../d", "d/up"), .stat("d/abs"), .stat("d/up/f"), .chdir("d"),
            .stat("/../d/../d/f"),
        ])
    }
}

import DifferentialHarness
import Glibc
import Testing

/// Behaviours the random sequences found VFSKit getting wrong, each reduced by the shrinker
/// and checked against Linux (6.18 on tmpfs), kept so that they stay fixed.
@Suite(.enabled(if: Diff.available, "needs root and /dev/shm"))
struct RegressionDifferentialTests {
    // MARK: Read-only superblocks

    /// Seed 500392 (root then uid 1001): a tmpfs mounted MS_RDONLY has a read-only superblock,
    /// which Linux checks (`sb_permission`) before the permission bits: EROFS, not EACCES.
    @Test func accessForWriteOnAReadOnlySuperblockIsEROFSBeforeEACCES() throws {
        try Diff.last(
            [
                .mkdir("b", mode: 0o644),
                .mount(
                    source: "none", target: "b", fstype: "tmpfs", flags: UInt64(MS_RDONLY),
                    data: "mode=0700"),
                .become(Diff.other),
                .access("b", mode: R_OK | W_OK, flags: 0),
            ],
            is: Diff.fails(EROFS))
    }

    /// The same order in `may_open`, after a plain remount made the superblock read-only.
    @Test func openForWriteAfterAReadOnlyRemountIsEROFSBeforeEACCES() throws {
        try Diff.last(
            [
                .mkdir("m", mode: 0o755),
                .mount(source: "none", target: "m", fstype: "tmpfs", flags: 0, data: "mode=0755"),
                .mknod("m/f", mode: 0o100644),
                .mount(
                    source: "none", target: "m", fstype: nil,
                    flags: UInt64(MS_REMOUNT | MS_RDONLY), data: nil),
                .become(Diff.other),
                .open("m/f", flags: Diff.wronly, mode: 0, slot: 6),
            ],
            is: Diff.fails(EROFS))
    }

    /// A read-only bind mount leaves the superblock writable: the permission bits come first.
    @Test func accessForWriteOnAReadOnlyBindMountIsEACCESFirst() throws {
        try Diff.last(
            [
                .mkdir("b", mode: 0o700), .mkdir("v", mode: 0o755),
                .mount(source: "b", target: "v", fstype: nil, flags: UInt64(MS_BIND), data: nil),
                .mount(
                    source: nil, target: "v", fstype: nil,
                    flags: UInt64(MS_REMOUNT | MS_BIND | MS_RDONLY), data: nil),
                .become(Diff.other),
                .access("v", mode: W_OK, flags: 0),
            ],
            is: Diff.fails(EACCES))
    }

    // MARK: Order of checks

    @Test func renameLooksTheOldNameUpBeforeTheNewDirfd() throws {
        // Linux: ENOENT from the old path, not EBADF from the closed new dirfd.
        try Diff.last(
            [.rename("c/c/a", Location("d/c", base: 1), flags: 0)], is: Diff.fails(ENOENT))
    }

    @Test func renameLooksTheOldNameUpBeforeAnEmptyNewName() throws {
        try Diff.last([.create("c"), .rename("c/d/b", "", flags: 0)], is: Diff.fails(ENOTDIR))
    }

    @Test func renameFindsAMissingSourceBeforeATooLongTarget() throws {
        try Diff.last(
            [.rename("b", Location(String(repeating: "n", count: 256)), flags: 0)],
            is: Diff.fails(ENOENT))
    }

    @Test func openFlagsAreCheckedBeforeTheDirfd() throws {
        try Diff.last(
            [
                .open(
                    Location("c", base: 1),
                    flags: O_WRONLY | O_CREAT | O_EXCL | O_DIRECTORY | O_NONBLOCK, mode: 0o600,
                    slot: 1)
            ],
            is: Diff.fails(EINVAL))
    }

    @Test func pathOnlyDropsTemporaryFileAndCreate() throws {
        try Diff.last(
            [
                .create("c", slot: 5),
                .open(
                    "c/.",
                    flags: O_RDWR | Diff.temporaryFile | Diff.pathOnly | O_CREAT | O_EXCL
                        | O_NONBLOCK,
                    mode: 0o70, slot: 5),
            ],
            is: Diff.fails(ENOTDIR))
    }

    @Test func temporaryFileWithNoFollowDoesNotFollowTheSymlink() throws {
        try Diff.last(
            [
                .symlink(target: "..", "b"),
                .open(
                    "b", flags: O_RDWR | Diff.temporaryFile | O_NONBLOCK | O_NOFOLLOW, mode: 0o700,
                    slot: 5),
            ],
            is: Diff.fails(ENOTDIR))
    }

    @Test func exclusiveCreateOfDotSlashIsEEXIST() throws {
        try Diff.last(
            [.open("./", flags: Diff.create | O_EXCL, mode: 0o644, slot: 0)], is: Diff.fails(EEXIST)
        )
    }

    @Test func lseekOfAPathOnlyDescriptorIsEBADFBeforeABadWhence() throws {
        try Diff.last(
            [
                .mkdir("d", mode: 0o755), .open("d", flags: Diff.pathOnly, mode: 0, slot: 1),
                .lseek(slot: 1, offset: 0, whence: 7),
            ],
            is: Diff.fails(EBADF))
    }

    @Test func aNegativeOffsetIsEINVALBeforeTheDescriptorIsLookedAt() throws {
        try Diff.last([.pread(slot: 3, count: 8, offset: -1)], is: Diff.fails(EINVAL))
        try Diff.last([.pwrite(slot: 3, data: [1], offset: -1)], is: Diff.fails(EINVAL))
    }

    @Test func pwriteOnAReadOnlyFifoIsESPIPE() throws {
        try Diff.last(
            [
                .mknod("p", mode: S_IFIFO | 0o755),
                .open("p", flags: Diff.rdonly, mode: 0, slot: 0),
                .pwrite(slot: 0, data: [1, 2], offset: 8195),
            ],
            is: Diff.fails(ESPIPE))
    }

    @Test func aTooLongNameInARemovedDirectoryIsENOENT() throws {
        let long = String(repeating: "n", count: 256)
        try Diff.last(
            [.mkdir("d", mode: 0o755), .chdir("d"), .rmdir("../d"), .rmdir("\(long)/b")],
            is: Diff.fails(ENOENT))
    }

    // MARK: Data and times

    @Test func fallocatingAPreallocatedPageAgainMakesItData() throws {
        try Diff.agree([
            .create("f"), .write(slot: 0, data: Array("xyzxy".utf8)),
            .fallocate(slot: 0, mode: 0, offset: 4096, length: 10_000),
            .fallocate(slot: 0, mode: 1, offset: 0, length: 10_000),
            .lseek(slot: 0, offset: 0, whence: Diff.seekHole),
            .lseek(slot: 0, offset: 5000, whence: Diff.seekData),
        ])
    }

    @Test func noAccessTimeDescriptorsLeaveAtimeAlone() throws {
        try Diff.agree([
            .create("f"), .open("f", flags: Diff.rdonly | Diff.noAccessTime, mode: 0, slot: 1),
            .fstat(slot: 1), .pread(slot: 1, count: 3, offset: 0), .fstat(slot: 0),
            .mkdir("d", mode: 0o755), .open("d", flags: Diff.rdonly, mode: 0, slot: 2),
            .fcntl(slot: 2, command: F_SETFL, argument: O_NONBLOCK | Diff.noAccessTime),
            .fstat(slot: 2),
            .getdents(slot: 2), .fstat(slot: 2),
        ])
    }

    @Test func followingASymlinkInAPathTouchesItsAtime() throws {
        try Diff.agree([
            .symlink(target: "c", "a"), .lstat("a"), .readlink("a/d", size: 2), .lstat("a"),
        ])
    }

    @Test func openCreateThroughAFinalSymlinkTouchesItsAtime() throws {
        // Linux 6.18: open(O_CREAT) of an existing file through a final symlink follows the
        // link (pick_link), which moves its atime as any follow does.
        try Diff.agree([
            .create("f"), .close(slot: 0), .symlink(target: "f", "l"), .lstat("l"),
            .open("l", flags: O_RDONLY | O_CREAT | O_NONBLOCK, mode: 0o644, slot: 1), .lstat("l"),
        ])
    }

    @Test func linkingIntoADirectoryStampsIt() throws {
        try Diff.agree([
            .symlink(target: "c", "b"), .mkdir("a/", mode: 0o700),
            .open("a", flags: Diff.rdonly | O_DIRECTORY, mode: 0, slot: 2), .fstat(slot: 2),
            .link("b", "a/d", flags: 0), .stat("a"),
        ])
    }

    @Test func truncateToTheSameSizeStripsSetIDWithoutStampingCtime() throws {
        try Diff.agree(
            [.create("a", mode: 0o6777), .stat("a"), .truncate("./a", length: 0), .stat("a")],
            .user)
    }

    @Test func fallocateByAnotherIdentityStripsSetGroupID() throws {
        try Diff.agree(
            [
                .open("c", flags: O_WRONLY | O_CREAT | O_NONBLOCK, mode: 0o2775, slot: 0),
                .open("c", flags: Diff.wronly, mode: 0, slot: 5), .become(Diff.other),
                .fallocate(slot: 5, mode: 3, offset: 0, length: 10_000), .stat("c"),
            ], RunConfiguration(identity: .root, rootMode: 0o777))
    }

    // MARK: Directories

    @Test func readingADirectoryToTheEndLeavesTheOffsetAtINT32MAX() throws {
        try Diff.agree([
            .mkdir("c", mode: 0o755), .open("c", flags: Diff.rdonly, mode: 0, slot: 2),
            .getdents(slot: 2), .lseek(slot: 2, offset: 0, whence: SEEK_CUR),
            .lseek(slot: 2, offset: 8195, whence: SEEK_CUR), .getdents(slot: 2),
        ])
    }

    @Test func aDirectoryPositionListsOnlyOlderEntries() throws {
        try Diff.agree([
            .mkdir("d", mode: 0o755), .create("d/a"), .create("d/b", slot: 1),
            .create("d/c", slot: 2), .open("d", flags: Diff.rdonly, mode: 0, slot: 3),
            .lseek(slot: 3, offset: 4, whence: SEEK_SET), .getdents(slot: 3),
            .lseek(slot: 3, offset: 2, whence: SEEK_SET), .getdents(slot: 3),
            .lseek(slot: 3, offset: 1, whence: SEEK_SET), .getdents(slot: 3),
        ])
    }
}

/// More shrunk sequences from the soaks.
@Suite(.enabled(if: Diff.available, "needs root and /dev/shm"))
struct MoreRegressionDifferentialTests {
    @Test func aTooLongFinalNameInARemovedDirectoryIsENOENT() throws {
        let long = String(repeating: "n", count: 256)
        try Diff.agree([
            .mkdir("c", mode: 0o1777), .open("c", flags: Diff.rdonly, mode: 0, slot: 4),
            .rmdir("c/"), .fchdir(slot: 4), .symlink(target: "d", Location(long)),
            .unlink(Location(long + "/"), flags: 0), .mkdir(Location(long), mode: 0o755),
            .create(long), .rename(Location(long), Location(long), flags: 0),
        ])
    }

    @Test func aFifoForgetsItsDataWhenTheLastDescriptorCloses() throws {
        try Diff.agree([
            .mknod("a", mode: S_IFIFO | 0o644), .open("a", flags: Diff.rdwr, mode: 0, slot: 5),
            .write(slot: 5, data: Array("y".utf8)), .close(slot: 5),
            .open("a", flags: Diff.rdwr, mode: 0, slot: 0), .read(slot: 0, count: 5000),
        ])
    }

    @Test func fifoReadsThroughANoAccessTimeDescriptorLeaveAtimeAlone() throws {
        try Diff.agree([
            .mknod("a", mode: S_IFIFO | 0o755),
            .open("a", flags: Diff.rdwr | Diff.noAccessTime, mode: 0, slot: 4),
            .dup(slot: 4, into: 3),
            .write(slot: 3, data: Array("xy".utf8)), .fstat(slot: 3), .read(slot: 4, count: 5000),
            .stat(Location("", base: 4), flags: Diff.emptyPath),
        ])
    }

    @Test func aDirectoryPositionAfterRenameExchangeListsWhatLinuxLists() throws {
        // Linux 6.18 swaps the two entries' offsets and moves both to the head of the
        // directory's child list; reading from a position then lists ["d"] only.
        try Diff.agree([
            .open(".", flags: Diff.rdonly, mode: 0, slot: 4), .create("b", slot: 5),
            .mkdir("d", mode: 0o777), .lseek(slot: 4, offset: 4095, whence: SEEK_CUR),
            .rename("d", "../b", flags: 2), .getdents(slot: 4),
        ])
    }

    @Test func aDirectoryPositionAfterRenameOverAnEntryListsWhatLinuxLists() throws {
        // Linux 6.18: the moved entry takes over the replaced one's offset but goes to the
        // head of the child list; reading from a position lists ["d"] only.
        try Diff.agree([
            .mkdir("b", mode: 0o755), .open("b", flags: Diff.rdonly, mode: 0, slot: 5),
            .chdir("b"), .symlink(target: "b", "a"),
            .lseek(slot: 5, offset: 70_000, whence: SEEK_CUR),
            .mknod("c", mode: S_IFIFO | 0o755), .mkdir("d", mode: 0o700),
            .rename("c", "a", flags: 0),
            .getdents(slot: 5),
        ])
    }

    @Test func directoryPositionsFollowLinksRenamesExchangesAndWhiteouts() throws {
        var operations: [Operation] = [
            .mkdir("d", mode: 0o755), .mkdir("e", mode: 0o755), .create("d/a"),
            .create("d/b", slot: 1), .create("d/c", slot: 2), .mkdir("d/s", mode: 0o755),
            .create("e/z", slot: 3), .rename("d/a", "d/x", flags: 0),
            .rename("d/b", "d/c", flags: 2), .rename("d/c", "d/x", flags: 0),
            .rename("d/s", "e/z", flags: 2), .link("e/s", "d/hard", flags: 0),
            .rename("d/x", "e/moved", flags: 4), .unlink("d/b", flags: 0),
            .open("d", flags: Diff.rdonly, mode: 0, slot: 4),
        ]
        for position: Int64 in [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 20, 2_147_483_647] {
            operations += [.lseek(slot: 4, offset: position, whence: SEEK_SET), .getdents(slot: 4)]
        }
        try Diff.agree(operations)
    }
}

import DifferentialHarness
import Glibc
import Testing

/// Minimal sequences from gofer-root soaks (`VFSKIT_DIFF_ROOT=gofer`, seeds 900001–900600)
/// that diverged, each run on a gofer mount against Linux. The seed is in each test's name.
@Suite(.enabled(if: Diff.available, "needs root and /dev/shm"))
struct GoferSoakRegressionTests {
    /// Seed 900054: renaming an ancestor of the target's directory is EINVAL (do_renameat2's
    /// "trap"), found before the permission check that would say EACCES.
    @Test func seed900054RenamingAnAncestorIsEINVALBeforePermissions() throws {
        try GoferRoot.agree([
            .mkdir("./d", mode: 0o755), .become(Diff.user),
            .rename(Location("../d/"), Location("d/c/"), flags: 0),
        ])
    }

    /// Seed 900090: the same through a working directory inside the source.
    @Test func seed900090RenamingTheWorkingDirectorysParentOntoItsChild() throws {
        try GoferRoot.agree([
            .mkdir("/a", mode: 0o755), .rename(Location("a"), Location("/d"), flags: 1), .chdir("d"),
            .become(Diff.user), .rename(Location("../d"), Location("d"), flags: 0),
        ])
    }

    /// Seed 900083: a directory renamed onto a symlink inside itself is EINVAL (the trap comes
    /// before the directory-onto-non-directory ENOTDIR).
    @Test func seed900083RenamingADirectoryOntoASymlinkInsideItIsEINVAL() throws {
        try GoferRoot.agree([
            .mkdir("./c", mode: 0o1777), .symlink(target: "d", Location("c/c")),
            .rename(Location("c"), Location("c/c"), flags: 0),
        ])
    }

    /// Seed 900027: chown(-1, -1) changes nothing but still stamps ctime.
    @Test func seed900027ChownToNoOwnerStillStampsCtime() throws {
        try GoferRoot.agree([
            .symlink(target: "c", Location("../d")),
            .open(Location("c"), flags: O_WRONLY | O_CREAT | O_NONBLOCK, mode: 0o700, slot: 5), .fstat(slot: 5),
            .chown(Location("d"), uid: UInt32.max, gid: UInt32.max, flags: 0), .stat(Location("../c"), flags: 0),
        ])
    }

    /// Seeds 900216 and 900288: RENAME_WHITEOUT's whiteout belongs to the caller, not to the
    /// gofer that made it.
    @Test func seed900288AWhiteoutIsTheCallers() throws {
        try GoferRoot.agree([
            .mkdir("c", mode: 0o644), .become(Diff.user),
            .rename(Location("c"), Location("a"), flags: 4), .stat(Location("/./../c"), flags: 0),
        ])
    }

    /// Seed 900124: the same for a file renamed by another user in a sticky-free directory.
    @Test func seed900124AWhiteoutLeftByAnotherUser() throws {
        try GoferRoot.agree([
            .open(Location("a"), flags: O_WRONLY | O_CREAT | O_NONBLOCK, mode: 0o70, slot: 4),
            .become(Diff.other), .rename(Location("a"), Location("c"), flags: 4),
        ])
    }

    /// Seed 900442: a directory replaced by a rename must be empty, synthetic entries included
    /// (the host directory is empty; Linux says ENOTEMPTY).
    @Test func seed900442ADirectoryHoldingASyntheticFifoIsNotEmpty() throws {
        try GoferRoot.agree([
            .mkdir("c/", mode: 0o755), .mkdir("d", mode: 0o755), .mknod(Location("d/c"), mode: S_IFIFO | 0o644),
            .rename(Location("c"), Location("d/"), flags: 0),
        ])
    }

    /// Seed 900525: RENAME_WHITEOUT of a synthetic socket leaves a whiteout in its place.
    @Test func seed900525ASyntheticSourceLeavesAWhiteout() throws {
        try GoferRoot.agree([
            .mknod(Location("../b"), mode: S_IFSOCK | 0o755), .rename(Location("b"), Location("./c"), flags: 4),
            .rename(Location("b/"), Location("d"), flags: 1), .stat(Location("b"), flags: 0x100),
        ])
    }

    /// Seed 900584: a host file renamed with RENAME_WHITEOUT over a synthetic FIFO leaves the
    /// host's whiteout.
    @Test func seed900584AHostSourceOntoASyntheticTargetLeavesAWhiteout() throws {
        try GoferRoot.agree([
            .open(Location("/c"), flags: O_RDWR | O_CREAT | O_NONBLOCK, mode: 0o755, slot: 3),
            .mknod(Location("d"), mode: S_IFIFO | 0o777), .rename(Location("c"), Location("d"), flags: 4),
            .stat(Location("c/a"), flags: 0x100), .stat(Location("c"), flags: 0x100),
        ])
    }

    /// Seed 960039 (1000-operation soak): lseek past a directory's end marker, then getdents64:
    /// Linux's tmpfs looks the position up like any other and lists again.
    @Test func seed960039APositionBeyondTheEndMarkerListsAgain() throws {
        try GoferRoot.agree([
            .mkdir("d", mode: 0o1777), .open("d", flags: O_RDONLY | O_NONBLOCK, mode: 0o755, slot: 2),
            .open(Location("d/c"), flags: O_RDONLY | O_CREAT | O_NONBLOCK, mode: 0o644, slot: 0),
            .getdents(slot: 2), .lseek(slot: 2, offset: 7, whence: SEEK_CUR), .getdents(slot: 2),
        ])
    }
}

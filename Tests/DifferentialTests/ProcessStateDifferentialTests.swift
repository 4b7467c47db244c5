import DifferentialHarness
import Glibc
import Testing

/// getcwd, chdir, fchdir, chroot and umask: the working directory's path (ERANGE for a small
/// buffer, ENOENT once it is removed), the errors of changing it, chroot's EPERM for a user,
/// and the umask's effect on every creating call. Each against Linux; chroot steps always
/// leave the working directory inside the new root.
@Suite(.enabled(if: Diff.available, "needs root and /dev/shm"))
struct ProcessStateDifferentialTests {
    let mixed = RunConfiguration(identity: .root, rootMode: 0o777)

    // MARK: - getcwd

    @Test func getcwdAtTheTopIsSlash() throws {
        try Diff.last([.getcwd(size: 64)], is: .bytes([0x2F, 0]))
    }

    @Test func getcwdFollowsChdir() throws {
        try Diff.agree([
            .mkdir("a", mode: 0o755), .mkdir("a/b", mode: 0o755), .chdir("a/b"), .getcwd(size: 64),
            .chdir(".."), .getcwd(size: 64), .chdir("/a/b/../.."), .getcwd(size: 64),
        ])
    }

    @Test func getcwdNeedsRoomForTheNul() throws {
        try Diff.agree([
            .mkdir("abc", mode: 0o755), .chdir("abc"), .getcwd(size: 4), .getcwd(size: 5),
            .getcwd(size: 0), .getcwd(size: 1),
        ])
    }

    @Test func getcwdOfARemovedDirectoryIsENOENT() throws {
        try Diff.last(
            [.mkdir("gone", mode: 0o755), .chdir("gone"), .rmdir("/gone"), .getcwd(size: 64)],
            is: Diff.fails(ENOENT))
    }

    @Test func aRemovedWorkingDirectoryStillResolvesDotButNotNewNames() throws {
        try Diff.agree([
            .mkdir("gone", mode: 0o755), .chdir("gone"), .rmdir("/gone"), .stat("."),
            .create("x"), .mkdir("y", mode: 0o755), .chdir(".."), .getcwd(size: 64),
        ])
    }

    @Test func getcwdAfterTheDirectoryIsRenamed() throws {
        try Diff.agree([
            .mkdir("old", mode: 0o755), .chdir("old"), .rename("/old", "/new", flags: 0),
            .getcwd(size: 64),
        ])
    }

    @Test func getcwdWorksWithoutSearchPermissionAbove() throws {
        try Diff.agree(
            Diff.asUser(
                [
                    .mkdir("a", mode: 0o755), .mkdir("a/b", mode: 0o777),
                    .chmod("a", mode: 0o711, flags: 0),
                ],
                then: [.chdir("a/b"), .getcwd(size: 64), .chmod("/a", mode: 0o700, flags: 0)]),
            mixed)
    }

    // MARK: - chdir, fchdir

    @Test func chdirErrors() throws {
        try Diff.agree([
            .create("f"), .chdir("f"), .chdir("missing"), .chdir("f/"), .chdir(""),
            .symlink(target: "loop", "loop"), .chdir("loop"),
            .chdir(String(repeating: "n", count: 256)),
        ])
    }

    @Test func chdirThroughASymlink() throws {
        try Diff.agree([
            .mkdir("real", mode: 0o755), .symlink(target: "real", "link"), .chdir("link"),
            .getcwd(size: 64), .create("here"), .stat("/real/here"),
        ])
    }

    @Test func chdirNeedsSearchPermission() throws {
        try Diff.agree(
            Diff.asUser(
                [.mkdir("r", mode: 0o644), .mkdir("x", mode: 0o711), .mkdir("x/in", mode: 0o755)],
                then: [
                    .chdir("r"), .chdir("x"), .getcwd(size: 64), .chdir("/x/in"), .getcwd(size: 64),
                ]),
            mixed)
    }

    @Test func fchdirErrors() throws {
        try Diff.agree([
            .create("f"), .fchdir(slot: 0), .fchdir(slot: 4),
            .mkdir("d", mode: 0o755), .open("d", flags: Diff.pathOnly, mode: 0, slot: 1),
            .fchdir(slot: 1), .getcwd(size: 64),
        ])
    }

    @Test func fchdirNeedsSearchPermission() throws {
        try Diff.agree(
            Diff.asUser(
                [.mkdir("d", mode: 0o744), .open("d", flags: Diff.rdonly, mode: 0, slot: 1)],
                then: [.fchdir(slot: 1), .getcwd(size: 64)]),
            mixed)
    }

    // MARK: - chroot

    @Test func aUserCannotChroot() throws {
        try Diff.agree(
            Diff.asUser(
                [.mkdir("d", mode: 0o755), .mkdir("x", mode: 0o700)],
                then: [
                    .chroot("d"), .chroot("missing"), .chroot("x/y"), .chroot("/"),
                    .getcwd(size: 64),
                ]),
            mixed)
    }

    @Test func chrootErrorsAsRoot() throws {
        try Diff.agree([.create("f"), .chroot("f"), .chroot("missing"), .chroot("f/")])
    }

    @Test func chrootIntoTheWorkingDirectory() throws {
        try Diff.agree([
            .mkdir("jail", mode: 0o755), .create("jail/inside"), .create("outside"),
            .symlink(target: "/outside", "jail/abs"), .chdir("jail"), .chroot("."),
            .getcwd(size: 64), .stat("/inside"), .stat("/outside"), .stat("../../outside"),
            .stat("abs"), .chdir(".."), .getcwd(size: 64),
        ])
    }

    @Test func chrootThenChdirSlash() throws {
        try Diff.agree([
            .mkdir("jail", mode: 0o755), .mkdir("jail/d", mode: 0o755), .chroot("jail"),
            .chdir("/"), .getcwd(size: 64), .stat("d"), .mkdir("/new", mode: 0o700),
        ])
    }

    // MARK: - umask

    @Test func umaskReturnsTheOldMaskAndKeepsPermissionBits() throws {
        try Diff.agree([.umask(0o077), .umask(0o7777), .umask(0o022)])
    }

    @Test func theUmaskAppliesToEveryCreatingCall() throws {
        try Diff.agree([
            .umask(0o027), .mkdir("d", mode: 0o777), .create("f", mode: 0o666),
            .mknod("p", mode: S_IFIFO | 0o666), .mknod("r", mode: S_IFREG | 0o777),
            .openat2(
                Location("g"),
                how: OpenHow(flags: UInt64(UInt32(bitPattern: Diff.create)), mode: 0o777),
                slot: 1),
            .symlink(target: "f", "l"), .stat("d"), .stat("f"), .stat("p"), .stat("r"), .stat("g"),
            .lstat("l"),
        ])
    }

    @Test func theUmaskDoesNotApplyToChmod() throws {
        try Diff.agree([
            .umask(0o777), .create("f", mode: 0o777), .stat("f"),
            .chmod("f", mode: 0o777, flags: 0), .stat("f"),
        ])
    }

    @Test func aUsersUmask() throws {
        try Diff.agree(
            Diff.asUser(
                [], then: [.umask(0), .create("f", mode: 0o666), .stat("f"), .umask(0o022)]),
            mixed)
    }
}

import DifferentialHarness
import Glibc
import Testing

/// openat2(2): the stricter flag and mode rules, every RESOLVE_* flag, and `struct open_how`'s
/// size rules (copy_struct_from_user), each checked against Linux.
@Suite(.enabled(if: Diff.available, "needs root and /dev/shm"))
struct Openat2DifferentialTests {
    static let noXDev: UInt64 = 0x01
    static let noMagicLinks: UInt64 = 0x02
    static let noSymlinks: UInt64 = 0x04
    static let beneath: UInt64 = 0x08
    static let inRoot: UInt64 = 0x10
    static let cached: UInt64 = 0x20

    static let rdonly = UInt64(UInt32(bitPattern: Diff.rdonly))
    static let create = UInt64(UInt32(bitPattern: Diff.create))

    func open2(
        _ path: String, base: Int? = nil, flags: UInt64 = rdonly, mode: UInt64 = 0,
        resolve: UInt64 = 0, size: Int = 24, trailing: UInt8 = 0, slot: Int = 1
    ) -> Operation {
        .openat2(
            Location(path, base: base),
            how: OpenHow(
                flags: flags, mode: mode, resolve: resolve, size: size, trailing: trailing),
            slot: slot)
    }

    /// A tree with a directory `d` (fd#1), a file, and symlinks of every kind.
    var tree: [Operation] {
        [
            .mkdir("d", mode: 0o755), .create("d/f"), .mkdir("d/sub", mode: 0o755),
            .symlink(target: "f", "d/rel"), .symlink(target: "/d/f", "d/abs"),
            .symlink(target: "../d/f", "d/up"), .symlink(target: "sub", "d/dirlink"),
            .open("d", flags: Diff.rdonly | O_DIRECTORY, mode: 0, slot: 1),
        ]
    }

    // MARK: - open_how

    @Test func aPlainOpenWorksAndF_GETFLShowsLargefile() throws {
        try Diff.agree([
            .create("f"), open2("f", slot: 2), .fcntl(slot: 2, command: F_GETFL, argument: 0),
        ])
    }

    @Test func unknownFlagBitsAreEINVAL() throws {
        try Diff.last(
            [.create("f"), open2("f", flags: Self.rdonly | 0o40000000000)], is: Diff.fails(EINVAL))
    }

    @Test func flagsPastThirtyTwoBitsAreEINVAL() throws {
        try Diff.last(
            [.create("f"), open2("f", flags: Self.rdonly | 1 << 32)], is: Diff.fails(EINVAL))
    }

    @Test func aModeWithoutCreatingIsEINVAL() throws {
        try Diff.last([.create("f"), open2("f", mode: 0o644)], is: Diff.fails(EINVAL))
    }

    @Test func modeBitsPast07777AreEINVAL() throws {
        try Diff.last([open2("g", flags: Self.create, mode: 0o10644)], is: Diff.fails(EINVAL))
    }

    @Test func creatingAppliesTheUmask() throws {
        try Diff.agree([open2("g", flags: Self.create, mode: 0o4777), .stat("g")])
    }

    @Test func pathOnlyWithOtherFlagsIsEINVAL() throws {
        try Diff.last(
            [.create("f"), open2("f", flags: UInt64(Diff.pathOnly) | UInt64(O_NONBLOCK))],
            is: Diff.fails(EINVAL))
    }

    @Test func pathOnlyWithDirectoryAndCloexecWorks() throws {
        try Diff.agree(
            tree + [
                open2(
                    "d", flags: UInt64(Diff.pathOnly | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW),
                    slot: 2),
                .fcntl(slot: 2, command: F_GETFD, argument: 0),
            ])
    }

    @Test func aStructShorterThanVersionZeroIsEINVAL() throws {
        try Diff.last([.create("f"), open2("f", size: 16)], is: Diff.fails(EINVAL))
    }

    @Test func aLongerStructWithZeroTailWorks() throws {
        try Diff.agree([.create("f"), open2("f", size: 32), open2("f", size: 4096, slot: 2)])
    }

    @Test func aLongerStructWithANonZeroTailIsE2BIG() throws {
        try Diff.last([.create("f"), open2("f", size: 40, trailing: 1)], is: Diff.fails(E2BIG))
    }

    @Test func aStructLargerThanAPageIsE2BIG() throws {
        try Diff.last([.create("f"), open2("f", size: 4097)], is: Diff.fails(E2BIG))
    }

    @Test func theSizeIsCheckedBeforeThePath() throws {
        try Diff.last([open2("missing", size: 8)], is: Diff.fails(EINVAL))
    }

    // MARK: - RESOLVE_*

    @Test func unknownResolveBitsAreEINVAL() throws {
        try Diff.last([.create("f"), open2("f", resolve: 0x40)], is: Diff.fails(EINVAL))
    }

    @Test func beneathWithInRootIsEINVAL() throws {
        try Diff.last(
            [.create("f"), open2("f", resolve: Self.beneath | Self.inRoot)], is: Diff.fails(EINVAL))
    }

    @Test func noSymlinksRefusesAnySymlinkOnTheWay() throws {
        try Diff.agree(
            tree + [
                open2("rel", base: 1, resolve: Self.noSymlinks, slot: 2),
                open2("dirlink/", base: 1, resolve: Self.noSymlinks, slot: 2),
                open2("f", base: 1, resolve: Self.noSymlinks, slot: 2),
                open2(
                    "rel", base: 1, flags: Self.rdonly | UInt64(O_NOFOLLOW),
                    resolve: Self.noSymlinks, slot: 3),
                open2(
                    "rel", base: 1, flags: UInt64(Diff.pathOnly | O_NOFOLLOW),
                    resolve: Self.noSymlinks, slot: 3),
            ])
    }

    @Test func noMagicLinksLeavesOrdinarySymlinksAlone() throws {
        try Diff.agree(
            tree + [
                open2("rel", base: 1, resolve: Self.noMagicLinks, slot: 2),
                open2("abs", base: 1, resolve: Self.noMagicLinks, slot: 3),
            ])
    }

    @Test func beneathRefusesAbsolutePathsAndClimbing() throws {
        try Diff.agree(
            tree + [
                open2("f", base: 1, resolve: Self.beneath, slot: 2),
                open2("sub/../f", base: 1, resolve: Self.beneath, slot: 3),
                open2("../d/f", base: 1, resolve: Self.beneath, slot: 4),
                open2("/d/f", base: 1, resolve: Self.beneath, slot: 4),
                open2("abs", base: 1, resolve: Self.beneath, slot: 4),
                open2("up", base: 1, resolve: Self.beneath, slot: 4),
                open2("rel", base: 1, resolve: Self.beneath, slot: 5),
            ])
    }

    @Test func beneathRefusesAnAbsolutePathBeforeLookingAtTheDescriptor() throws {
        try Diff.last(
            [.create("f"), open2("/f", base: 0, resolve: Self.beneath)], is: Diff.fails(EXDEV))
    }

    @Test func beneathRefusesAFinalDotDotEvenWhenCreating() throws {
        // handle_dots runs before do_open's EISDIR: Linux 6.18 gives EXDEV.
        try Diff.agree([
            open2("..", flags: Self.create, mode: 0o644, resolve: Self.beneath),
            open2("..", flags: Self.create | UInt64(O_EXCL), mode: 0o644, resolve: Self.beneath),
            .mkdir("d", mode: 0o755),
            open2("d/..", flags: Self.create, mode: 0o644, resolve: Self.beneath),
        ])
    }

    @Test func beneathFromTheWorkingDirectory() throws {
        try Diff.agree(
            tree + [
                .chdir("d"), open2("f", resolve: Self.beneath, slot: 2),
                open2("..", resolve: Self.beneath, slot: 3),
            ])
    }

    @Test func inRootTreatsTheDirectoryAsRoot() throws {
        try Diff.agree(
            tree + [
                .create("d/d/f", slot: 5), .mkdir("d/d", mode: 0o755), .create("d/d/f", slot: 5),
                open2("abs", base: 1, resolve: Self.inRoot, slot: 2),
                open2("/f", base: 1, resolve: Self.inRoot, slot: 3),
                open2("../../f", base: 1, resolve: Self.inRoot, slot: 4),
                .fstat(slot: 2), .fstat(slot: 3), .fstat(slot: 4),
            ])
    }

    @Test func noXDevRefusesCrossingIntoAMount() throws {
        try Diff.agree(
            tree + [
                .mkdir("d/m", mode: 0o755),
                .mount(source: "none", target: "d/m", fstype: "tmpfs", flags: 0, data: nil),
                .create("d/m/inside", slot: 5),
                open2("m/inside", base: 1, resolve: Self.noXDev, slot: 2),
                open2("m", base: 1, resolve: Self.noXDev, slot: 2),
                open2("f", base: 1, resolve: Self.noXDev, slot: 3),
                open2("d/m/..", resolve: Self.noXDev, slot: 4),
            ])
    }

    @Test func noXDevRefusesCreatingOnAMountPoint() throws {
        try Diff.agree([
            .mkdir("m", mode: 0o755),
            .mount(source: "none", target: "m", fstype: "tmpfs", flags: 0, data: nil),
            open2("m", flags: Self.create, mode: 0o600, resolve: Self.noXDev),
            open2("m", flags: Self.create | UInt64(O_EXCL), mode: 0o600, resolve: Self.noXDev),
            open2("m/..", flags: Self.create, mode: 0o600, resolve: Self.noXDev),
        ])
    }

    @Test func noXDevAndAnAbsoluteSymlinkDependOnWhetherTheRootIsKnownYet() throws {
        // nd_jump_root compares mounts with nd->root, which a relative walk only sets at its
        // first "..": Linux 6.18 gives EXDEV for "d/abs" but opens "/d/abs" and "../d/abs".
        try Diff.agree(
            tree + [
                open2("d/abs", resolve: Self.noXDev, slot: 2),
                open2("abs", base: 1, resolve: Self.noXDev, slot: 2),
                open2("/d/abs", resolve: Self.noXDev, slot: 3),
                open2("../d/abs", resolve: Self.noXDev, slot: 4),
                open2("sub/../abs", base: 1, resolve: Self.noXDev, slot: 5),
            ])
    }

    @Test func cachedWithCreatingFlagsIsEAGAIN() throws {
        try Diff.last(
            [
                .create("f"),
                open2(
                    "f", flags: Self.rdonly | UInt64(O_TRUNC) | UInt64(O_WRONLY),
                    resolve: Self.cached),
            ],
            is: Diff.fails(EAGAIN))
    }

    @Test func cachedOpensWhatIsAlreadyKnown() throws {
        try Diff.agree([.create("f"), .stat("f"), open2("f", resolve: Self.cached)])
    }

    @Test func aModeWithDirectoryButNotCreatingIsEINVAL() throws {
        // O_DIRECTORY is half of O_TMPFILE, but creates nothing: Linux 6.18 gives EINVAL.
        try Diff.last(
            [
                .mkdir("d", mode: 0o755),
                open2("d", flags: Self.rdonly | UInt64(O_DIRECTORY), mode: 0o755),
            ],
            is: Diff.fails(EINVAL))
    }

    @Test func createDirectoryIsEINVAL() throws {
        try Diff.last(
            [open2("n", flags: Self.create | UInt64(O_DIRECTORY), mode: 0o644)],
            is: Diff.fails(EINVAL))
    }

    @Test func permissionChecksApplyAsAUser() throws {
        try Diff.agree(
            Diff.asUser(
                [.mkdir("d", mode: 0o711), .create("d/f", mode: 0o600), .mkdir("p", mode: 0o700)],
                then: [
                    open2("d/f"), open2("p/x", flags: Self.create, mode: 0o600),
                    open2("mine", flags: Self.create, mode: 0o640, slot: 2), .fstat(slot: 2),
                ]),
            RunConfiguration(identity: .root, rootMode: 0o777))
    }
}

import DifferentialHarness
import Glibc
import Testing

/// mount(2) and umount2(2) with tmpfs and bind mounts inside the scratch tree. The kernel
/// child has a private mount namespace of its own (unshared before its chroot), so its mounts
/// never reach the host and end with it. The scratch root is a plain directory on both sides
/// (not a mount root). Mount propagation is not modelled (every mount acts as private).
@Suite(.enabled(if: Diff.available, "needs root and /dev/shm"))
struct MountDifferentialTests {
    static let readOnly: UInt64 = 1
    static let noSUID: UInt64 = 2
    static let remount: UInt64 = 32
    static let bind: UInt64 = 4096
    static let recursive: UInt64 = 16384
    static let privatePropagation: UInt64 = 1 << 18
    static let force: Int32 = 1
    static let detach: Int32 = 2
    static let expire: Int32 = 4
    static let noFollow: Int32 = 8

    let mixed = RunConfiguration(identity: .root, rootMode: 0o777)

    func tmpfs(_ target: String, flags: UInt64 = 0, data: String? = nil) -> Operation {
        .mount(source: "none", target: target, fstype: "tmpfs", flags: flags, data: data)
    }

    @Test func aTmpfsMountShowsItsOwnRoot() throws {
        try Diff.agree([
            .mkdir("m", mode: 0o700), .create("m/hidden"), tmpfs("m"), .stat("m"),
            .stat("m/hidden"), .create("m/inside"),
            .open("m", flags: Diff.rdonly, mode: 0, slot: 1),
            .getdents(slot: 1),
        ])
    }

    @Test func mountOptionsSetTheRoot() throws {
        try Diff.agree([
            .mkdir("m", mode: 0o755), tmpfs("m", data: "mode=0750,uid=1000,gid=2000"), .stat("m"),
        ])
    }

    @Test func aBadOptionIsEINVAL() throws {
        try Diff.agree([
            .mkdir("m", mode: 0o755), tmpfs("m", data: "size=abc"), tmpfs("m", data: "bogus=1"),
            tmpfs("m", data: "uid=4294967295"),
        ])
    }

    @Test func unknownAndMissingTypes() throws {
        try Diff.agree([
            .mkdir("m", mode: 0o755),
            .mount(source: "none", target: "m", fstype: "nosuchfs", flags: 0, data: nil),
            .mount(source: "none", target: "m", fstype: nil, flags: 0, data: nil),
        ])
    }

    @Test func theTargetIsLookedUpFirst() throws {
        try Diff.agree([
            tmpfs("missing"), .create("f"), tmpfs("f"), tmpfs("f/"),
            .umount("missing", flags: 0),
        ])
    }

    @Test func filesOnAMountCannotBeRenamedOrLinkedOut() throws {
        try Diff.agree([
            .mkdir("m", mode: 0o755), tmpfs("m"), .create("m/f"),
            .rename("m/f", "g", flags: 0), .link("m/f", "g", flags: 0), .rename("m", "n", flags: 0),
            .rmdir("m"), .unlink("m", flags: 0),
        ])
    }

    @Test func umountIsEBUSYWhileSomethingIsOpenInside() throws {
        try Diff.agree([
            .mkdir("m", mode: 0o755), tmpfs("m"), .create("m/f", slot: 0),
            .umount("m", flags: 0), .close(slot: 0), .umount("m", flags: 0), .stat("m/f"),
        ])
    }

    @Test func umountIsEBUSYWhileTheWorkingDirectoryIsInside() throws {
        try Diff.agree([
            .mkdir("m", mode: 0o755), tmpfs("m"), .mkdir("m/d", mode: 0o755), .chdir("m/d"),
            .umount("/m", flags: 0), .chdir("/"), .umount("/m", flags: 0),
        ])
    }

    @Test func detachLetsOpenFilesKeepWorking() throws {
        try Diff.agree([
            .mkdir("m", mode: 0o755), tmpfs("m"), .create("m/f", slot: 0),
            .umount("m", flags: Self.detach), .write(slot: 0, data: [1, 2, 3]), .fstat(slot: 0),
            .stat("m/f"), .create("m/f", slot: 1),
        ])
    }

    @Test func expireTakesTwoCalls() throws {
        try Diff.agree([
            .mkdir("m", mode: 0o755), tmpfs("m"), .umount("m", flags: Self.expire),
            .umount("m", flags: Self.expire), .stat("m"),
            tmpfs("m"), .umount("m", flags: Self.expire | Self.detach),
        ])
    }

    @Test func umountFlagErrors() throws {
        try Diff.agree([
            .mkdir("m", mode: 0o755), tmpfs("m"), .umount("m", flags: 0x10),
            .symlink(target: "m", "l"), .umount("l", flags: Self.noFollow),
            .umount("m/.", flags: Self.noFollow), .umount("l", flags: Self.force),
        ])
    }

    @Test func onlyMountRootsCanBeUnmounted() throws {
        try Diff.agree([
            .mkdir("d", mode: 0o755), .umount("d", flags: 0), .umount("/", flags: 0),
            .umount(".", flags: Self.detach),
        ])
    }

    @Test func dotDotEntersAMountOnTopOfItsResult() throws {
        // handle_dots steps into `..`'s result like any component: with a tmpfs mounted on the
        // root (the working directory staying below it), Linux 6.18 makes "../d" in the tmpfs.
        try Diff.agree([
            .mkdir("d", mode: 0o700), tmpfs("."), .mkdir("../d", mode: 0o755), .stat("../d"),
            .stat("d"), .mkdir("sub", mode: 0o755), .chdir("sub"), .stat(".."),
        ])
    }

    @Test func dotDotFromBelowAMountPointEntersTheMount() throws {
        try Diff.agree([
            .mkdir("x", mode: 0o755), .mkdir("x/y", mode: 0o755), .chdir("x/y"),
            tmpfs("/x"), .create("../inside", slot: 0), .stat("/x/inside"), .getcwd(size: 64),
        ])
    }

    @Test func mountsStack() throws {
        try Diff.agree([
            .mkdir("m", mode: 0o755), tmpfs("m"), .create("m/first"), tmpfs("m"),
            .stat("m/first"), .umount("m", flags: 0), .stat("m/first"), .umount("m", flags: 0),
        ])
    }

    @Test func aBusyParentCannotGoBeforeItsChild() throws {
        try Diff.agree([
            .mkdir("m", mode: 0o755), tmpfs("m"), .mkdir("m/n", mode: 0o755), tmpfs("m/n"),
            .umount("m", flags: 0), .umount("m/n", flags: 0), .umount("m", flags: 0),
        ])
    }

    @Test func bindMountsShowTheSourceTree() throws {
        try Diff.agree([
            .mkdir("d", mode: 0o755), .create("d/f"), .mkdir("m", mode: 0o755),
            .mount(source: "d", target: "m", fstype: nil, flags: Self.bind, data: nil),
            .stat("m/f"), .create("m/g"), .stat("d/g"), .rename("m/g", "d/h", flags: 0),
            .umount("m", flags: 0), .stat("m/f"),
        ])
    }

    @Test func bindMountErrors() throws {
        try Diff.agree([
            .mkdir("m", mode: 0o755), .create("f"),
            .mount(source: "missing", target: "m", fstype: nil, flags: Self.bind, data: nil),
            .mount(source: "", target: "m", fstype: nil, flags: Self.bind, data: nil),
            .mount(source: "f", target: "m", fstype: nil, flags: Self.bind, data: nil),
            .mount(source: "m", target: "f", fstype: nil, flags: Self.bind, data: nil),
        ])
    }

    @Test func aReadOnlyRemountRefusesWrites() throws {
        try Diff.agree([
            .mkdir("m", mode: 0o755), tmpfs("m"), .create("m/f", slot: 0),
            .mount(
                source: nil, target: "m", fstype: nil, flags: Self.remount | Self.readOnly,
                data: nil),
            .close(slot: 0),
            .mount(
                source: nil, target: "m", fstype: nil, flags: Self.remount | Self.readOnly,
                data: nil),
            .create("m/g", slot: 1), .mkdir("m/d", mode: 0o755),
            .open("m/f", flags: Diff.rdonly, mode: 0, slot: 2),
            .chmod("m/f", mode: 0o600, flags: 0),
            .mount(source: nil, target: "m", fstype: nil, flags: Self.remount, data: nil),
            .create("m/g", slot: 1),
        ])
    }

    @Test func remountNeedsAMountRoot() throws {
        try Diff.agree([
            .mkdir("d", mode: 0o755),
            .mount(
                source: nil, target: "d", fstype: nil, flags: Self.remount | Self.readOnly,
                data: nil),
            .mount(source: nil, target: "/", fstype: nil, flags: Self.remount, data: nil),
        ])
    }

    @Test func propagationChangesNeedAMountRoot() throws {
        try Diff.agree([
            .mkdir("m", mode: 0o755), tmpfs("m"),
            .mount(
                source: nil, target: "m", fstype: nil, flags: Self.privatePropagation, data: nil),
            .mount(
                source: nil, target: "m", fstype: nil,
                flags: Self.privatePropagation | Self.recursive, data: nil),
            .mount(
                source: nil, target: ".", fstype: nil, flags: Self.privatePropagation, data: nil),
        ])
    }

    @Test func aReadOnlyMountFromTheStart() throws {
        try Diff.agree([
            .mkdir("m", mode: 0o755), tmpfs("m", flags: Self.readOnly), .create("m/f"),
            .stat("m"), .umount("m", flags: 0),
        ])
    }

    @Test func aUserCannotMountOrUnmount() throws {
        try Diff.agree(
            Diff.asUser(
                [
                    .mkdir("m", mode: 0o777), .mkdir("n", mode: 0o777), tmpfs("n"),
                    .mkdir("x", mode: 0o700),
                ],
                then: [
                    tmpfs("m"), .umount("n", flags: 0), .umount("m", flags: 0),
                    tmpfs("missing"), tmpfs("x/y"), .umount("x/y", flags: 0),
                    .umount("n", flags: 0x10), .create("n/mine"), .stat("n/mine"),
                ]),
            mixed)
    }
}

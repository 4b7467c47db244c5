import DifferentialHarness
import Glibc
import Testing

/// EACCES and EPERM as an unprivileged user (uid 1000, gid 1000, groups 2000 and 2001) in a
/// tree root builds first with various modes and owners; sticky and set-group-ID
/// directories; what writes and chown/chmod do to set-ID bits. Each checked against Linux,
/// whose child really runs with those credentials (setgroups + setresgid + setresuid).
@Suite(.enabled(if: Diff.available, "needs root and /dev/shm"))
struct PermissionDifferentialTests {
    /// The run starts as root in a 0777 root directory; steps switch with `become`.
    let mixed = RunConfiguration(identity: .root, rootMode: 0o777)

    @Test func creatingInARootOwned0755DirectoryIsEACCES() throws {
        try Diff.last(
            Diff.asUser([.mkdir("d", mode: 0o755)], then: [.create("d/f")]),
            is: Diff.fails(EACCES), mixed)
    }

    @Test func searchingA0700DirectoryIsEACCES() throws {
        try Diff.last(
            Diff.asUser([.mkdir("d", mode: 0o700), .create("d/f")], then: [.stat("d/f")]),
            is: Diff.fails(EACCES), mixed)
    }

    @Test func readingA0600RootFileIsEACCES() throws {
        try Diff.last(
            Diff.asUser(
                [.create("f", mode: 0o600)],
                then: [.open("f", flags: Diff.rdonly, mode: 0, slot: 1)]),
            is: Diff.fails(EACCES), mixed)
    }

    @Test func aSupplementaryGroupGrantsGroupPermission() throws {
        try Diff.agree(
            Diff.asUser(
                [.mkdir("g", mode: 0o070), .chown("g", uid: 0, gid: 2001, flags: 0)],
                then: [.create("g/f"), .stat("g/f"), .access("g", mode: 7, flags: 0)]),
            mixed)
    }

    @Test func theGroupClassDeniesEvenWhenOthersMayAccess() throws {
        try Diff.last(
            Diff.asUser(
                [.mkdir("g", mode: 0o707), .chown("g", uid: 0, gid: 2000, flags: 0)],
                then: [.create("g/f")]),
            is: Diff.fails(EACCES), mixed)
    }

    @Test func theOwnerClassDeniesEvenWhenTheGroupMayAccess() throws {
        try Diff.last(
            Diff.asUser(
                [.create("f", mode: 0o077), .chown("f", uid: 1000, gid: 1000, flags: 0)],
                then: [.open("f", flags: Diff.rdonly, mode: 0, slot: 1)]),
            is: Diff.fails(EACCES), mixed)
    }

    @Test func chmodOfAnotherUsersFileIsEPERM() throws {
        try Diff.last(
            Diff.asUser([.create("f", mode: 0o666)], then: [.chmod("f", mode: 0o777, flags: 0)]),
            is: Diff.fails(EPERM), mixed)
    }

    @Test func chownToAnotherUserIsEPERM() throws {
        try Diff.last(
            Diff.asUser(
                [], then: [.create("f"), .chown("f", uid: 1001, gid: UInt32.max, flags: 0)]),
            is: Diff.fails(EPERM), mixed)
    }

    @Test func chownToAGroupOutsideTheUsersGroupsIsEPERM() throws {
        try Diff.last(
            Diff.asUser([], then: [.create("f"), .chown("f", uid: UInt32.max, gid: 0, flags: 0)]),
            is: Diff.fails(EPERM), mixed)
    }

    @Test func chownToASupplementaryGroupWorksAndClearsSetUID() throws {
        try Diff.agree(
            Diff.asUser(
                [],
                then: [
                    .create("f", mode: 0o6755), .fchmod(slot: 0, mode: 0o6755), .stat("f"),
                    .chown("f", uid: UInt32.max, gid: 2000, flags: 0), .stat("f"),
                ]),
            mixed)
    }

    @Test func explicitTimesOnAWritableFileOfAnotherUserAreEPERM() throws {
        try Diff.last(
            Diff.asUser(
                [.create("f", mode: 0o666)],
                then: [.utimens("f", access: .fixed(seconds: 5), modification: .omit, flags: 0)]),
            is: Diff.fails(EPERM), mixed)
    }

    @Test func touchingAWritableFileOfAnotherUserIsAllowed() throws {
        try Diff.last(
            Diff.asUser(
                [.create("f"), .fchmod(slot: 0, mode: 0o666)],
                then: [.utimens("f", access: .now, modification: .now, flags: 0)]),
            is: .done, mixed)
    }

    @Test func touchingAnUnwritableFileOfAnotherUserIsEACCES() throws {
        try Diff.last(
            Diff.asUser(
                [.create("f", mode: 0o644)],
                then: [.utimens("f", access: .now, modification: .now, flags: 0)]),
            is: Diff.fails(EACCES), mixed)
    }

    @Test func stickyDirectoryProtectsOtherUsersFiles() throws {
        try Diff.agree(
            Diff.asUser(
                [.mkdir("t", mode: 0o1777), .create("t/roots", mode: 0o666)],
                then: [
                    .unlink("t/roots", flags: 0), .rename("t/roots", "t/x", flags: 0),
                    .create("t/mine", slot: 1), .rename("t/mine", "t/roots", flags: 0),
                    .unlink("t/mine", flags: 0), .stat("t/roots"),
                ]),
            mixed)
    }

    @Test func stickyDirectoryOwnedByTheUserAllowsRemoval() throws {
        try Diff.last(
            Diff.asUser(
                [
                    .mkdir("t", mode: 0o1777), .chown("t", uid: 1000, gid: 1000, flags: 0),
                    .create("t/roots"),
                ],
                then: [.unlink("t/roots", flags: 0)]),
            is: .done, mixed)
    }

    @Test func setGroupIDDirectoriesPassTheirGroupOn() throws {
        try Diff.agree(
            Diff.asUser(
                [
                    .mkdir("s", mode: 0o2777), .chown("s", uid: 0, gid: 2001, flags: 0),
                    .chmod("s", mode: 0o2777, flags: 0),
                ],
                then: [
                    .create("s/f", mode: 0o2755), .mkdir("s/sub", mode: 0o755), .stat("s/f"),
                    .stat("s/sub"),
                ]),
            mixed)
    }

    @Test func setGroupIDIsDroppedByChmodOutsideTheGroup() throws {
        try Diff.agree(
            Diff.asUser(
                [.create("f", mode: 0o644), .chown("f", uid: 1000, gid: 0, flags: 0)],
                then: [.chmod("f", mode: 0o2755, flags: 0), .stat("f")]),
            mixed)
    }

    @Test func aWriteByANonOwnerClearsSetUIDAndGroupExecutableSetGID() throws {
        try Diff.agree(
            Diff.asUser(
                [.create("f", mode: 0o6777), .fchmod(slot: 0, mode: 0o6777), .close(slot: 0)],
                then: [
                    .open("f", flags: Diff.wronly, mode: 0, slot: 1), .write(slot: 1, data: [1]),
                    .stat("f"),
                ]),
            mixed)
    }

    @Test func movingADirectoryToAnotherParentNeedsWriteOnIt() throws {
        try Diff.last(
            Diff.asUser(
                [.mkdir("a", mode: 0o777), .mkdir("b", mode: 0o777), .mkdir("a/d", mode: 0o555)],
                then: [.rename("a/d", "b/d", flags: 0)]),
            is: Diff.fails(EACCES), mixed)
    }

    @Test func noAccessTimeOnAnotherUsersFileIsEPERM() throws {
        try Diff.last(
            Diff.asUser(
                [.create("f", mode: 0o644)],
                then: [.open("f", flags: Diff.rdonly | Diff.noAccessTime, mode: 0, slot: 1)]),
            is: Diff.fails(EPERM), mixed)
    }

    @Test func hardLinkingAnotherUsersUnreadableFileIsEPERM() throws {
        // fs.protected_hardlinks = 1 on the host and in VFSKit's default.
        try Diff.last(
            Diff.asUser([.create("f", mode: 0o600)], then: [.link("f", "mine", flags: 0)]),
            is: Diff.fails(EPERM), mixed)
    }

    @Test func accessUsesTheRealIDsAndAtEaccessTheEffectiveOnes() throws {
        try Diff.agree(
            Diff.asUser(
                [.create("f", mode: 0o640), .chown("f", uid: 0, gid: 2000, flags: 0)],
                then: [
                    .access("f", mode: 4, flags: 0), .access("f", mode: 2, flags: 0),
                    .access("f", mode: 4, flags: 0x200), .access("f", mode: 0, flags: 0),
                ]),
            mixed)
    }

    @Test func userExtendedAttributesNeedWritePermissionAndARegularFileOrDirectory() throws {
        try Diff.agree(
            Diff.asUser(
                [
                    .create("f", mode: 0o644), .symlink(target: "f", "s"),
                    .setxattr("f", name: "user.a", value: [1], flags: 0, follow: true),
                ],
                then: [
                    .getxattr("f", name: "user.a", size: 64, follow: true),
                    .setxattr("f", name: "user.b", value: [2], flags: 0, follow: true),
                    .setxattr("s", name: "user.b", value: [2], flags: 0, follow: false),
                    .getxattr("f", name: "trusted.t", size: 64, follow: true),
                    .listxattr("f", size: 256, follow: true),
                ]),
            mixed)
    }

    @Test func anUnprivilegedRunFromTheStart() throws {
        try Diff.agree(
            [
                .mkdir("d", mode: 0o750), .create("d/f", mode: 0o640),
                .write(slot: 0, data: [1, 2]),
                .stat("d/f"), .chmod("d", mode: 0o000, flags: 0), .stat("d/f"), .getdents(slot: 0),
                .chmod("d", mode: 0o750, flags: 0), .rename("d/f", "g", flags: 0), .stat("g"),
            ], .user)
    }
}

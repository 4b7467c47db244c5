import DifferentialHarness
import Glibc
import Testing

/// statx(2): which fields come back for which mask (tmpfs has multigrain timestamps, so
/// mtime and ctime only when asked; btime only when asked), the mask's and flags' EINVAL
/// cases (checked before the path), AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH, mount roots and
/// device nodes; as root and as an unprivileged user. Compared: `StatxRecord`.
@Suite(.enabled(if: Diff.available, "needs root and /dev/shm"))
struct StatxDifferentialTests {
    static let basicStats: UInt32 = 0x7FF
    static let birthTime: UInt32 = 0x800
    static let mountIDUnique: UInt32 = 0x4000
    static let reserved: UInt32 = 0x8000_0000
    static let forceSync: Int32 = 0x2000
    static let dontSync: Int32 = 0x4000

    func statx(_ path: String, flags: Int32 = 0, mask: UInt32, base: Int? = nil) -> Operation {
        .statx(Location(path, base: base), flags: flags, mask: mask)
    }

    func mask(of report: RunReport) -> UInt32? {
        if case .statx(let record) = report.steps.last?.kernel { return record.mask }
        return nil
    }

    @Test func maskZeroLeavesOutMtimeAndCtime() throws {
        // Linux 6.18 on tmpfs gives 0x173f: basic stats without STATX_MTIME/CTIME, plus MNT_ID.
        let report = try Diff.agree([.create("f"), statx("f", mask: 0)])
        #expect(mask(of: report) == 0x173F)
    }

    @Test func basicStatsBringMtimeAndCtime() throws {
        let report = try Diff.agree([
            .create("f"), .write(slot: 0, data: [1, 2]), statx("f", mask: Self.basicStats),
        ])
        #expect(mask(of: report) == 0x17FF)
    }

    @Test func askingForMtimeAloneBringsBoth() throws {
        let report = try Diff.agree([.create("f"), statx("f", mask: 0x40)])
        #expect(mask(of: report) == 0x17FF)
    }

    @Test func birthTimeComesOnlyWhenAsked() throws {
        let report = try Diff.agree([
            .create("f"), statx("f", mask: Self.birthTime),
            statx("f", mask: Self.basicStats | Self.birthTime),
        ])
        #expect(mask(of: report) == 0x1FFF)
        if case .statx(let first) = report.steps[1].kernel {
            #expect(first.mask == 0x1F3F && first.hasBirthTime && !first.hasModificationTime)
        }
    }

    @Test func uniqueMountIDReplacesTheOldOne() throws {
        let report = try Diff.agree([
            .create("f"), statx("f", mask: Self.basicStats | Self.mountIDUnique),
        ])
        #expect(mask(of: report) == 0x47FF)
    }

    @Test func everyKnownBitButTheReservedOne() throws {
        // Linux 6.18 on tmpfs: 0x7fffffff gives 0x4fff.
        let report = try Diff.agree([.create("f"), statx("f", mask: 0x7FFF_FFFF)])
        #expect(mask(of: report) == 0x4FFF)
    }

    @Test func theReservedMaskBitIsEINVALBeforeTheLookup() throws {
        try Diff.last([statx("missing", mask: Self.reserved)], is: Diff.fails(EINVAL))
    }

    @Test func forceSyncWithDontSyncIsEINVAL() throws {
        try Diff.last(
            [statx("missing", flags: Self.forceSync | Self.dontSync, mask: Self.basicStats)],
            is: Diff.fails(EINVAL))
    }

    @Test func eitherSyncFlagAloneIsAccepted() throws {
        try Diff.agree([
            .create("f"), statx("f", flags: Self.forceSync, mask: Self.basicStats),
            statx("f", flags: Self.dontSync, mask: Self.basicStats),
        ])
    }

    @Test func anUnknownFlagIsEINVAL() throws {
        try Diff.last(
            [.create("f"), statx("f", flags: 0x10000, mask: Self.basicStats)],
            is: Diff.fails(EINVAL))
    }

    @Test func aMissingFileIsENOENT() throws {
        try Diff.last([statx("missing", mask: Self.basicStats)], is: Diff.fails(ENOENT))
    }

    @Test func anEmptyPathWithoutAtEmptyPathIsENOENT() throws {
        try Diff.last(
            [.create("f"), statx("", mask: Self.basicStats, base: 0)], is: Diff.fails(ENOENT))
    }

    @Test func atEmptyPathStatsTheDescriptor() throws {
        try Diff.agree([
            .create("f"), .write(slot: 0, data: Array(repeating: 7, count: 5000)),
            .open("f", flags: Diff.pathOnly, mode: 0, slot: 1),
            statx("", flags: Diff.emptyPath, mask: Self.basicStats, base: 1),
            statx("", flags: Diff.emptyPath, mask: Self.basicStats),
        ])
    }

    @Test func noFollowStatsTheSymlinkItself() throws {
        try Diff.agree([
            .create("f"), .symlink(target: "f", "l"),
            statx("l", flags: Diff.nofollow, mask: Self.basicStats),
            statx("l", mask: Self.basicStats),
            .symlink(target: "l2", "l2"), statx("l2", mask: Self.basicStats),
        ])
    }

    @Test func aTrailingSlashOnAFileIsENOTDIR() throws {
        try Diff.last([.create("f"), statx("f/", mask: Self.basicStats)], is: Diff.fails(ENOTDIR))
    }

    @Test func directoriesCountTheirSubdirectories() throws {
        try Diff.agree([
            .mkdir("d", mode: 0o755), .mkdir("d/e", mode: 0o700), .mkdir("d/g", mode: 0o700),
            statx("d", mask: Self.basicStats), statx("/", mask: Self.basicStats),
        ])
    }

    @Test func aFifoAndASocket() throws {
        try Diff.agree([
            .mknod("p", mode: S_IFIFO | 0o640), .mknod("s", mode: S_IFSOCK | 0o600),
            statx("p", mask: Self.basicStats), statx("s", mask: Self.basicStats),
        ])
    }

    @Test func aMountRootCarriesTheAttribute() throws {
        let report = try Diff.agree([
            .mkdir("m", mode: 0o755),
            .mount(source: "none", target: "m", fstype: "tmpfs", flags: 0, data: "mode=0750"),
            statx("m", mask: Self.basicStats), statx(".", mask: Self.basicStats),
        ])
        if case .statx(let record) = report.steps[2].kernel {
            #expect(record.attributes & 0x2000 != 0)
        }
    }

    @Test func aDeviceNodeReportsItsNumbers() throws {
        try Diff.agree([
            .mknodDevice("c", mode: S_IFCHR | 0o600, device: 1 << 8 | 3),
            .mknodDevice("b", mode: S_IFBLK | 0o600, device: 7 << 8 | 200),
            statx("c", mask: Self.basicStats), statx("b", mask: Self.basicStats),
        ])
    }

    @Test func searchPermissionIsNeededOnTheWay() throws {
        try Diff.last(
            Diff.asUser(
                [.mkdir("d", mode: 0o700), .create("d/f")],
                then: [statx("d/f", mask: Self.basicStats)]),
            is: Diff.fails(EACCES), RunConfiguration(identity: .root, rootMode: 0o777))
    }

    @Test func anUnprivilegedUserSeesOwnersAndModes() throws {
        try Diff.agree(
            Diff.asUser(
                [.create("f", mode: 0o640), .chown("f", uid: 0, gid: 2000, flags: 0)],
                then: [
                    statx("f", mask: Self.basicStats | Self.birthTime), .create("mine"),
                    statx("mine", mask: 0),
                ]),
            RunConfiguration(identity: .root, rootMode: 0o777))
    }
}

import DifferentialHarness
import Foundation
import GoferBackend
import GoferServer
import SystemPackage
import Testing
import VFSCore

/// Differential runs with the VFS side on a gofer mount (`VFSRoot.gofer`, in
/// DifferentialHarness/VFSRoot+Gofer.swift), compared with Linux running the same sequence in
/// its own fresh /dev/shm directory. Every other differential test runs against the gofer too
/// with `VFSKIT_DIFF_ROOT=gofer` (or `gofer-shared`) in the environment.
enum GoferRoot {
    static func agree(
        _ operations: [DifferentialHarness.Operation], _ configuration: RunConfiguration = .root,
        caching: GoferCachingMode = .exclusive, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        try Diff.agree(
            operations, configuration, on: VFSRoot.gofer(caching: caching),
            backend: "the gofer backend",
            sourceLocation: sourceLocation)
    }
}

@Suite(.enabled(if: Diff.available, "needs root and /dev/shm"))
struct GoferDifferentialTests {
    @Test func createWriteReadAndStat() throws {
        try GoferRoot.agree(BackendSequences.createWriteReadAndStat)
    }

    @Test func namespaceOperations() throws {
        try GoferRoot.agree(BackendSequences.namespaceOperations)
    }

    @Test func permissionsAsAnUnprivilegedUser() throws {
        try GoferRoot.agree(BackendSequences.permissionsAsAnUnprivilegedUser, .user)
    }

    @Test func symlinksClimbingOutOfTheRootStayInside() throws {
        try GoferRoot.agree([
            .symlink(target: "/", Location("up")), .symlink(target: "../../..", Location("dots")),
            .mkdir("up/inside", mode: 0o755), .stat("dots/inside"), .stat("../../../inside"),
            .open(Location("dots/../x"), flags: Diff.create, mode: 0o600, slot: 0), .stat("x"),
        ])
    }

    @Test func directoriesListAndRenameAcrossThem() throws {
        try GoferRoot.agree([
            .mkdir("a", mode: 0o755), .mkdir("b", mode: 0o755), .create("a/x"), .close(slot: 0),
            .create("a/y"), .close(slot: 0),
            .open(Location("a"), flags: Diff.rdonly, mode: 0, slot: 1), .getdents(slot: 1),
            .rename(Location("a/x"), Location("b/x"), flags: 0),
            .rename(Location("a/y"), Location("b/x"), flags: 1),
            .rename(Location("a"), Location("b"), flags: 0),
            .rename(Location("a"), Location("b/sub"), flags: 0), .stat("b/sub/y"),
        ])
    }

    @Test func truncateChmodAndTimes() throws {
        try GoferRoot.agree([
            .create("f", mode: 0o644), .write(slot: 0, data: Array("0123456789".utf8)),
            .ftruncate(slot: 0, length: 4), .fstat(slot: 0),
            .chmod(Location("f"), mode: 0o600, flags: 0), .stat("f"), .close(slot: 0),
        ])
    }

    @Test func sharedCachingAgreesToo() throws {
        try GoferRoot.agree(
            [.mkdir("d", mode: 0o755), .create("d/f"), .close(slot: 0),
             .rename(Location("d"), Location("e"), flags: 0), .stat("e/f"), .stat("d/f")],
            caching: .shared)
    }

    @Test func fifosAreSyntheticButBehaveAsLinuxs() throws {
        // The gofer makes regular files only; mknod of a FIFO keeps a synthetic one in memory
        // (as gVisor does), listed, statted, chmodded, renamed and removed like a real one.
        try GoferRoot.agree([
            .mkdir("d", mode: 0o755), .mknod(Location("d/p"), mode: 0o10644), .stat("d/p"),
            .stat("d"), .chmod(Location("d/p"), mode: 0o600, flags: 0), .stat("d/p"),
            .open(Location("d"), flags: Diff.rdonly, mode: 0, slot: 1), .getdents(slot: 1),
            .mkdir("d/p", mode: 0o755), .rmdir("d"),
            .rename(Location("d/p"), Location("q"), flags: 0), .stat("q"), .stat("d"),
            .unlink(Location("q"), flags: 0), .stat("q"), .rmdir("d"),
        ])
    }

    @Test func aSyntheticFifoCarriesDataBetweenItsEnds() throws {
        try GoferRoot.agree([
            .mknod(Location("p"), mode: 0o10666),
            .open(Location("p"), flags: Diff.rdonly, mode: 0, slot: 0),
            .open(Location("p"), flags: Diff.wronly, mode: 0, slot: 1),
            .write(slot: 1, data: Array("through".utf8)), .read(slot: 0, count: 16),
            .stat("p"), .close(slot: 1), .close(slot: 0),
        ])
    }

    @Test func aLinkedSyntheticFifoIsOneInodeWithTwoNames() throws {
        // link(2) of a synthetic FIFO adds a name in memory, as tmpfs adds one to the inode:
        // nlink, the FIFO's ctime, the directory's times and the pipe are Linux's.
        try GoferRoot.agree([
            .mkdir("d", mode: 0o755), .mknod(Location("p"), mode: 0o10666), .stat("p"),
            .stat("d"), .link(Location("p"), Location("d/q"), flags: 0), .stat("p"), .stat("d/q"),
            .stat("d"),
            .open(Location("p"), flags: Diff.rdonly, mode: 0, slot: 0),
            .open(Location("d/q"), flags: Diff.wronly, mode: 0, slot: 1),
            .write(slot: 1, data: Array("both".utf8)), .read(slot: 0, count: 8),
            .unlink(Location("p"), flags: 0), .stat("d/q"), .stat("d"),
            .rename(Location("d/q"), Location("r"), flags: 0), .stat("r"), .close(slot: 1),
            .close(slot: 0),
        ])
    }

    @Test func aDirectoryOpenedWithNoAccessTimeIsReadWithoutStampingIt() throws {
        // O_NOATIME rides on the directory's OpenAt: the gofer's Getdents64 leave atime as
        // Linux's getdents does; a plain descriptor's read moves it (relatime).
        try GoferRoot.agree([
            .mkdir("d", mode: 0o755), .create("d/f"), .close(slot: 0), .stat("d"),
            .open("d", flags: Diff.rdonly | Diff.noAccessTime, mode: 0, slot: 1),
            .getdents(slot: 1), .fstat(slot: 1),
            .open("d", flags: Diff.rdonly, mode: 0, slot: 2), .getdents(slot: 2), .fstat(slot: 2),
        ])
    }

    /// Longer runs on demand: VFSKIT_GOFER_SOAK_SEEDS=first-last (skipped without it);
    /// VFSKIT_GOFER_CACHING=shared|writethrough and VFSKIT_GOFER_WALK=per-component choose
    /// the client's mode.
    @Test(
        .enabled(
            if: ProcessInfo.processInfo.environment["VFSKIT_GOFER_SOAK_SEEDS"] != nil,
            "set VFSKIT_GOFER_SOAK_SEEDS=first-last to run the gofer soak"))
    func soak() throws {
        let range = ProcessInfo.processInfo.environment["VFSKIT_GOFER_SOAK_SEEDS"] ?? ""
        let bounds = range.split(separator: "-").compactMap { UInt64($0) }
        guard bounds.count == 2, bounds[0] <= bounds[1] else {
            Issue.record("VFSKIT_GOFER_SOAK_SEEDS must be first-last, got \(range)")
            return
        }
        for seed in bounds[0]...bounds[1] {
            for configuration in [RunConfiguration.root, .user] {
                var generator = SequenceGenerator(seed: seed)
                let operations = generator.sequence(count: 150)
                let environment = ProcessInfo.processInfo.environment
                let caching: GoferCachingMode =
                    switch environment["VFSKIT_GOFER_CACHING"] {
                    case "shared": .shared
                    case "writethrough": .writethrough
                    default: .exclusive
                    }
                let report = try Differential.run(
                    operations, configuration: configuration,
                    vfsRoot: VFSRoot.gofer(
                        caching: caching,
                        perComponentWalk: environment["VFSKIT_GOFER_WALK"] == "per-component"))
                if !report.isClean {
                    Issue.record("seed \(seed) \(configuration.identity) diverges:\n\(report.render())")
                }
            }
        }
    }

    @Test func temporaryFilesAgreeWithLinux() throws {
        // O_TMPFILE through our gofer's OpenCreateAt extension: an unnamed file, written and
        // read, named later with linkat(AT_EMPTY_PATH); with O_EXCL it can never be named.
        try GoferRoot.agree([
            .mkdir("d", mode: 0o755),
            .open("d", flags: Diff.temporaryFile | O_RDWR | O_NONBLOCK, mode: 0o640, slot: 0),
            .write(slot: 0, data: Array("unnamed".utf8)), .fstat(slot: 0),
            .link(Location("", base: 0), Location("d/named"), flags: Diff.emptyPath),
            .stat("d/named"), .fstat(slot: 0), .pread(slot: 0, count: 16, offset: 0),
            .open("d", flags: Diff.temporaryFile | O_RDWR | O_EXCL | O_NONBLOCK, mode: 0o600, slot: 2),
            .link(Location("", base: 2), Location("d/never"), flags: Diff.emptyPath),
            .open("d", flags: Diff.temporaryFile | O_RDONLY | O_NONBLOCK, mode: 0o600, slot: 3),
        ])
    }

    @Test func temporaryFilesAsAUserFollowTheDirectorysPermissions() throws {
        try GoferRoot.agree(
            Diff.asUser(
                [.mkdir("open", mode: 0o777), .mkdir("shut", mode: 0o555)],
                then: [
                    .open("open", flags: Diff.temporaryFile | O_WRONLY | O_NONBLOCK, mode: 0o600, slot: 0),
                    .fstat(slot: 0),
                    .open("shut", flags: Diff.temporaryFile | O_WRONLY | O_NONBLOCK, mode: 0o600, slot: 1),
                ]))
    }

    @Test func deviceNodesAreADocumentedDeviationThatEndsTheComparison() throws {
        // Linux 6.18 on tmpfs makes the node as root; the gofer answers EPERM
        // (`KnownDeviation.gofer`), and the run stops comparing there.
        let report = try Differential.run(
            [
                .mkdir("d", mode: 0o755), .mknodDevice("d/c", mode: S_IFCHR | 0o640, device: 1 << 8 | 3),
                .stat("d/c"),
            ], vfsRoot: VFSRoot.gofer())
        #expect(report.isClean, "\(report.render())")
        #expect(report.documentedDeviations.map(\.name) == ["device node"])
        #expect(report.comparisonEnded == 1)
    }

    @Test func aDeviationIsOnlyExcusedWithItsDocumentedValue() throws {
        let make = DifferentialHarness.Operation.mknodDevice(Location("d"), mode: S_IFCHR | 0o600, device: 259)
        func divergence(_ vfs: String) -> Divergence {
            Divergence(step: 0, operation: make, field: "result", kernel: "0", vfs: vfs)
        }
        let table = KnownDeviation.gofer
        #expect(table.contains { $0.documents(divergence("-1 EPERM"), after: []) })
        #expect(!table.contains { $0.documents(divergence("-1 EACCES"), after: []) })
        // Not a device node: nothing documents it.
        let plain = Divergence(
            step: 0, operation: .mknod(Location("d"), mode: S_IFIFO | 0o600),
            field: "result", kernel: "0", vfs: "-1 EPERM")
        #expect(!table.contains { $0.documents(plain, after: []) })
        // O_TMPFILE is no longer a deviation of our gofer.
        let temporary = Divergence(
            step: 0, operation: .open(Location("d"), flags: Diff.temporaryFile | O_RDWR, mode: 0o600, slot: 0),
            field: "result", kernel: "fd 3", vfs: "-1 EOPNOTSUPP")
        #expect(!table.contains { $0.documents(temporary, after: []) })
    }

    /// A bounded random run: a few seeds as root and as a user, each against a fresh gofer
    /// and a fresh kernel directory.
    @Test(arguments: [11, 12, 13, 14] as [UInt64])
    func randomSequencesAgree(seed: UInt64) throws {
        for configuration in [RunConfiguration.root, .user] {
            var generator = SequenceGenerator(seed: seed)
            let operations = generator.sequence(count: 80)
            let report = try Differential.run(
                operations, configuration: configuration, vfsRoot: VFSRoot.gofer())
            if !report.isClean {
                Issue.record("seed \(seed) \(configuration.identity) diverges:\n\(report.render())")
            }
        }
    }
}

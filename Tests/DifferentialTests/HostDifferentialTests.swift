import DifferentialHarness
import HostBackend
import Testing
import VFSCore

/// Differential runs with the VFS side on a host directory (`VFSRoot.host`), compared with
/// Linux running the same sequence in its own fresh /dev/shm directory. What the comparison
/// leaves out is what it leaves out for tmpfs (inode numbers, st_dev, absolute times);
/// nothing more is skipped for the host backend.
///
/// Every other differential test runs against the host backend too with
/// `VFSKIT_DIFF_ROOT=host` (or `host-shared`) in the environment.
enum HostRoot {
    static func agree(
        _ operations: [DifferentialHarness.Operation], _ configuration: RunConfiguration = .root,
        caching: HostCachingMode = .exclusive, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        try Diff.agree(
            operations, configuration, on: VFSRoot.host(caching: caching),
            backend: "the host backend",
            sourceLocation: sourceLocation)
    }
}

@Suite(.enabled(if: Diff.available, "needs root and /dev/shm"))
struct HostDifferentialTests {
    @Test func createWriteReadAndStat() throws {
        try HostRoot.agree(BackendSequences.createWriteReadAndStat)
    }

    @Test func namespaceOperations() throws {
        try HostRoot.agree(BackendSequences.namespaceOperations)
    }

    @Test func permissionsAsAnUnprivilegedUser() throws {
        try HostRoot.agree(BackendSequences.permissionsAsAnUnprivilegedUser, .user)
    }

    @Test func symlinksClimbingOutOfTheRootStayInside() throws {
        try HostRoot.agree([
            .symlink(target: "/", Location("up")), .symlink(target: "../../..", Location("dots")),
            .mkdir("up/inside", mode: 0o755), .stat("dots/inside"), .stat("../../../inside"),
            .open(Location("dots/../x"), flags: Diff.create, mode: 0o600, slot: 0), .stat("x"),
        ])
    }

    @Test func sharedCachingAgreesToo() throws {
        try HostRoot.agree(
            [
                .mkdir("d", mode: 0o755), .create("d/f"), .close(slot: 0),
                .rename(Location("d"), Location("e"), flags: 0), .stat("e/f"), .stat("d/f"),
            ],
            caching: .shared)
    }

    /// A bounded random run: a few seeds as root and as a user, each against a fresh host
    /// directory and a fresh kernel directory (the first divergence, if any, is reported
    /// with the whole transcript).
    @Test(arguments: [11, 12, 13, 14] as [UInt64])
    func randomSequencesAgree(seed: UInt64) throws {
        for configuration in [RunConfiguration.root, .user] {
            var generator = SequenceGenerator(seed: seed)
            let operations = generator.sequence(count: 80)
            let report = try Differential.run(
                operations, configuration: configuration, vfsRoot: VFSRoot.host())
            if !report.isClean {
                Issue.record("seed \(seed) \(configuration.identity) diverges:\n\(report.render())")
            }
        }
    }
}

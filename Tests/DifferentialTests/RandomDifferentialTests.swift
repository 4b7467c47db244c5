// Seeded random differential runs: `SequenceGenerator(seed:)` sequences run on Linux and on
// VFSKit; a divergence fails the test with the seed and the shrunk sequence.
//
// A longer soak is one command (seeds as "first-last"; optional operations per seed and
// identity "root", "user" or "mixed"):
//
//     VFSKIT_SOAK_SEEDS=1-2000 VFSKIT_SOAK_OPS=250 VFSKIT_SOAK_AS=user \
//         swift test --scratch-path .build --filter RandomDifferentialTests/soak
//
// Without VFSKIT_SOAK_SEEDS the soak test is skipped.
import DifferentialHarness
import Foundation
import Testing

@Suite(.enabled(if: Diff.available, "needs root and /dev/shm"))
struct RandomDifferentialTests {
    static let operationsPerSeed = 250

    static func check(seed: UInt64, _ configuration: RunConfiguration, identities: [Identity] = [])
        throws
    {
        let result = try DifferentialHarness.soak(
            seeds: seed...seed, operationsPerSeed: operationsPerSeed,
            configuration: configuration, identities: identities)
        for failure in result.failures {
            Issue.record("\(failure)")
        }
    }

    @Test(arguments: 1...40 as ClosedRange<UInt64>)
    func rootSequencesAgree(seed: UInt64) throws {
        try Self.check(seed: seed, .root)
    }

    @Test(arguments: 1001...1020 as ClosedRange<UInt64>)
    func unprivilegedSequencesAgree(seed: UInt64) throws {
        try Self.check(seed: seed, .user)
    }

    @Test(arguments: 2001...2010 as ClosedRange<UInt64>)
    func sequencesSwitchingIdentitiesAgree(seed: UInt64) throws {
        try Self.check(
            seed: seed, RunConfiguration(identity: .root, rootMode: 0o777),
            identities: [.root, Diff.user, Diff.other])
    }

    /// The soak: VFSKIT_SOAK_SEEDS=first-last (see the file header). Skipped, not passed,
    /// when the variable is not set.
    @Test(
        .enabled(
            if: ProcessInfo.processInfo.environment["VFSKIT_SOAK_SEEDS"] != nil,
            "set VFSKIT_SOAK_SEEDS=first-last to run the soak"))
    func soak() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let range = environment["VFSKIT_SOAK_SEEDS"] else { return }
        let bounds = range.split(separator: "-").compactMap { UInt64($0) }
        guard bounds.count == 2, bounds[0] <= bounds[1] else {
            Issue.record("VFSKIT_SOAK_SEEDS must be first-last, got \(range)")
            return
        }
        let operations =
            environment["VFSKIT_SOAK_OPS"].flatMap { Int($0) } ?? Self.operationsPerSeed
        let configuration: RunConfiguration
        var identities: [Identity] = []
        switch environment["VFSKIT_SOAK_AS"] ?? "root" {
        case "user": configuration = .user
        case "mixed":
            configuration = RunConfiguration(identity: .root, rootMode: 0o777)
            identities = [.root, Diff.user, Diff.other]
        default: configuration = .root
        }
        let result = try DifferentialHarness.soak(
            seeds: bounds[0]...bounds[1], operationsPerSeed: operations,
            configuration: configuration, identities: identities
        ) { failure in
            print("DIVERGENCE \(failure)")
        }
        print(
            "soak: seeds \(result.seeds), \(result.operationsRun) operations, \(result.failures.count) divergent seed(s)"
        )
        for failure in result.failures { Issue.record("\(failure)") }
    }
}

/// Reduces a diverging sequence to a small one that still diverges the same way: delta
/// debugging (remove chunks, halving their size down to single operations), each candidate
/// re-run from scratch on both sides. "The same way" is the first divergence's `signature`
/// (syscall, field, kinds of outcome), so the shrinker does not wander off to another bug.
public struct Shrinker {
    public let configuration: RunConfiguration
    /// The most candidate runs to try.
    public var budget: Int
    public private(set) var runs = 0

    public init(configuration: RunConfiguration, budget: Int = 600) {
        self.configuration = configuration
        self.budget = budget
    }

    /// The signature a run's first divergence has, or nil when it is clean.
    static func firstSignature(_ report: RunReport) -> String? {
        report.divergences.first?.signature
    }

    /// A minimal sequence whose first divergence has the same signature as `operations`',
    /// and the report of its run. Throws only for harness failures.
    public mutating func shrink(_ operations: [Operation]) throws -> (
        operations: [Operation], report: RunReport
    ) {
        let original = try Differential.run(operations, configuration: configuration)
        guard let target = Shrinker.firstSignature(original) else { return (operations, original) }
        var current = operations
        var best = original
        // Everything after the first divergent step is irrelevant to it.
        if let step = original.divergences.first?.step, step + 1 < current.count {
            let cut = Array(current[...step])
            runs += 1
            if let report = try Shrinker.attempt(cut, target, configuration) {
                current = cut
                best = report
            }
        }
        var runs = self.runs
        let budget = self.budget
        var lastReport = best
        current = try Shrinker.minimize(current, budget: budget - runs) { candidate in
            runs += 1
            guard let report = try Shrinker.attempt(candidate, target, configuration) else {
                return false
            }
            lastReport = report
            return true
        }
        self.runs = runs
        best = lastReport
        return (current, best)
    }

    /// Delta debugging over any list: removes chunks (halving their size down to single
    /// items) while `stillFails` holds, calling it at most `budget` times. `stillFails` is
    /// called only on strictly smaller lists; the last list it accepted is the result.
    public static func minimize<T>(
        _ items: [T], budget: Int, stillFails: ([T]) throws -> Bool
    ) rethrows -> [T] {
        var current = items
        var calls = 0
        var pieces = 2
        while current.count >= 2 && calls < budget {
            let size = (current.count + pieces - 1) / pieces
            var reduced = false
            var start = 0
            while start < current.count && calls < budget {
                var candidate = current
                candidate.removeSubrange(start..<min(start + size, current.count))
                calls += 1
                if try stillFails(candidate) {
                    current = candidate
                    reduced = true
                    continue  // the same chunk size, at the same place
                }
                start += size
            }
            if reduced {
                pieces = max(pieces - 1, 2)
            } else {
                if size <= 1 { break }
                pieces = min(pieces * 2, current.count)
            }
        }
        if current.count == 1 && calls < budget, try stillFails([]) { return [] }
        return current
    }

    private static func attempt(
        _ candidate: [Operation], _ target: String, _ configuration: RunConfiguration
    ) throws -> RunReport? {
        let treeSignature = !target.contains(" ")
        let report = try Differential.run(
            candidate, configuration: configuration, compareTrees: treeSignature,
            stopAtFirst: !treeSignature)
        return Shrinker.firstSignature(report) == target ? report : nil
    }
}

/// One seed of a soak that diverged.
public struct SoakFailure: Sendable, CustomStringConvertible {
    public var seed: UInt64
    public var configuration: RunConfiguration
    /// The first divergence of the full run.
    public var divergence: Divergence
    /// The shrunk sequence (the full one if shrinking was off).
    public var operations: [Operation]
    /// The shrunk run's transcript.
    public var transcript: String
    /// False when re-running the sequence to shrink it showed no divergence: a timing
    /// artifact of the comparison rather than a behaviour.
    public var reproduced = true

    public var description: String {
        """
        seed \(seed) (\(configuration.identity)): \(divergence.signature)\(reproduced ? "" : " (did NOT reproduce on a re-run)")
        \(divergence)
        minimal sequence (\(operations.count) operations):
        \(transcript)
        """
    }
}

public struct SoakResult: Sendable {
    public var seeds: ClosedRange<UInt64>
    public var operationsRun: Int = 0
    public var failures: [SoakFailure] = []
}

/// Runs `operationsPerSeed` random operations for every seed (each seed a fresh pair of
/// trees), shrinking each divergent sequence. `identities` lets the sequences switch between
/// identities with `become` steps (the run starts as `configuration.identity`). `progress`
/// hears about every failure as it is found.
public func soak(
    seeds: ClosedRange<UInt64>, operationsPerSeed: Int, configuration: RunConfiguration = .root,
    identities: [Identity] = [], shrink: Bool = true, progress: ((SoakFailure) -> Void)? = nil
) throws -> SoakResult {
    var result = SoakResult(seeds: seeds)
    for seed in seeds {
        var generator = SequenceGenerator(seed: seed, identities: identities)
        let operations = generator.sequence(count: operationsPerSeed)
        var failure: SoakFailure
        do {
            let report = try Differential.run(operations, configuration: configuration)
            result.operationsRun += operations.count
            guard let first = report.divergences.first else { continue }
            failure = SoakFailure(
                seed: seed, configuration: configuration, divergence: first,
                operations: operations, transcript: report.render())
            if shrink {
                var shrinker = Shrinker(configuration: configuration)
                let (minimal, minimalReport) = try shrinker.shrink(operations)
                failure.operations = minimal
                failure.transcript = minimalReport.render()
                failure.reproduced = !minimalReport.isClean
            }
        } catch {
            // A harness failure (the kernel child died, say) is reported like a divergence,
            // and the soak goes on with the next seed.
            failure = SoakFailure(
                seed: seed, configuration: configuration,
                divergence: Divergence(
                    step: nil, operation: nil, field: "harness", kernel: "\(error)", vfs: ""),
                operations: operations, transcript: "")
        }
        progress?(failure)
        result.failures.append(failure)
    }
    return result
}

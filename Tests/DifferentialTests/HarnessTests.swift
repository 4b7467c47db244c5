import DifferentialHarness
import Foundation
import Testing

/// The harness itself: that it notices differences (so the differential tests can fail),
/// that generation is reproducible, that shrinking finds minimal sequences, and that
/// operations survive the JSON trip to the kernel child.
@Suite struct HarnessTests {
    @Test func differentResultsAreADivergence() {
        let found = Differential.compare(
            .failure(errno: 2), .done, step: 3, operation: .unlink("x", flags: 0))
        #expect(found.count == 1)
        #expect(found.first?.signature == "unlinkat result kernel=ENOENT vfs=ok")
    }

    @Test func everyComparedStatFieldIsChecked() {
        let kernel = StatRecord(
            mode: 0o100644, nlink: 1, size: 3, uid: 0, gid: 0, blocks: 8,
            accessTime: .same, modificationTime: .changed, changeTime: .changed)
        var vfs = kernel
        vfs.nlink = 2
        vfs.blocks = 0
        vfs.changeTime = .same
        let found = Differential.compare(
            .stat(kernel), .stat(vfs), step: 0, operation: .fstat(slot: 0))
        #expect(found.map { $0.field } == ["stat.nlink", "stat.blocks", "stat.ctime"])
    }

    @Test func atimeIsNotComparedWhereLinuxsCoarseClockMayHideAChange() {
        var kernel = StatRecord(
            mode: 0o100644, nlink: 1, size: 0, uid: 0, gid: 0, blocks: 0,
            accessTime: .same, modificationTime: .same, changeTime: .same)
        kernel.accessWasStale = false
        kernel.wasSettled = false
        var vfs = kernel
        vfs.accessTime = .changed
        vfs.wasSettled = nil
        #expect(
            Differential.compare(.stat(kernel), .stat(vfs), step: 0, operation: .fstat(slot: 0))
                .isEmpty)
        kernel.wasSettled = true
        #expect(
            Differential.compare(.stat(kernel), .stat(vfs), step: 0, operation: .fstat(slot: 0))
                .count == 1)
        kernel.accessWasStale = true
        #expect(
            Differential.compare(.stat(kernel), .stat(vfs), step: 0, operation: .fstat(slot: 0))
                .isEmpty)
    }

    @Test func treesDifferingInContentsAreADivergence() {
        let entry = TreeEntry(
            path: "f", mode: 0o100644, nlink: 1, size: 1, uid: 0, gid: 0, blocks: 8, target: nil,
            data: [1], xattrs: [:])
        var other = entry
        other.data = [2]
        let found = Differential.compareTrees(kernel: ["f": entry, "g": entry], vfs: ["f": other])
        #expect(found.map { $0.signature } == ["tree.data", "tree.exists"])
    }

    @Test func aSeedAlwaysGivesTheSameSequence() {
        var first = SequenceGenerator(seed: 42)
        var second = SequenceGenerator(seed: 42)
        var third = SequenceGenerator(seed: 43)
        let a = first.sequence(count: 200)
        #expect(a == second.sequence(count: 200))
        #expect(a != third.sequence(count: 200))
    }

    @Test func generatedOpensNeverBlock() {
        var generator = SequenceGenerator(seed: 7)
        var checked = 0
        for operation in generator.sequence(count: 5000) {
            switch operation {
            case .open(_, let flags, _, _):
                let nonBlocking = flags & 0o4000 != 0
                #expect(nonBlocking)
                checked += 1
            case .fcntl(_, let command, let flags) where command == 4:
                let nonBlocking = flags & 0o4000 != 0
                #expect(nonBlocking)
            default:
                break
            }
        }
        #expect(checked > 100)
    }

    @Test func operationsSurviveJSON() throws {
        var generator = SequenceGenerator(
            seed: 9, identities: [.root, Identity(uid: 5, gid: 6, groups: [7])])
        let operations = generator.sequence(count: 500)
        let data = try JSONEncoder().encode(operations)
        #expect(
            try JSONDecoder().decode([DifferentialHarness.Operation].self, from: data) == operations
        )
    }

    @Test func minimizeFindsTheTwoOperationsThatMatter() {
        // "Fails" when it still contains 17 followed later by 42.
        let items = Array(0..<100)
        var calls = 0
        let minimal = Shrinker.minimize(items, budget: 1000) { candidate in
            calls += 1
            guard let first = candidate.firstIndex(of: 17) else { return false }
            return candidate[first...].contains(42)
        }
        #expect(minimal == [17, 42])
        #expect(calls < 200)
    }

    @Test func operationsPrintLikeSyscalls() {
        #expect(
            Operation.open("a/b", flags: 0o4102, mode: 0o644, slot: 2).description
                == "fd#2 = openat(AT_FDCWD, \"a/b\", O_RDWR|O_CREAT|O_NONBLOCK, 0o644)")
        #expect(
            Operation.rename(Location("x", base: 1), "y", flags: 1).description
                == "renameat2(fd#1, \"x\", AT_FDCWD, \"y\", RENAME_NOREPLACE)")
    }

    @Test(.enabled(if: Diff.available, "needs root and /dev/shm"))
    func theKernelChildFindsItsBinaryAndAnswers() throws {
        let report = try Differential.run([.mkdir("d", mode: 0o755), .stat("d")])
        #expect(report.steps.map { $0.kernel.isFailure } == [false, false])
    }
}

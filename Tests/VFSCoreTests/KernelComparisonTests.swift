import Glibc
import Testing
import VFSCore

/// VFSCore against the running kernel, step by step and tree against tree, on hand-written
/// scenarios of path edge cases (see KernelComparison/KernelComparisonHarness.swift). Linux is
/// the specification: a divergence is a VFS bug unless the kernel's answer is shown wrong.
@Suite struct KernelComparisonTests {
    @Test(
        .enabled(if: KernelComparison.devShmIsTmpfs), .enabled(if: KernelComparison.runsAsRoot),
        arguments: KernelComparisonScenarios.all)
    func everyStepHasTheKernelsOutcome(_ scenario: KernelComparisonScenario) throws {
        let linux = try KernelComparisonLinuxSide()
        defer { linux.cleanUp() }
        let vfs = try KernelComparisonVFSSide()
        for (index, step) in scenario.steps.enumerated() {
            let expected = linux.run(step)
            let actual = vfs.run(step)
            #expect(
                actual == expected,
                "\(scenario.name) step \(index) \(step): Linux \(expected), VFS \(actual)")
        }
    }

    @Test(
        .enabled(if: KernelComparison.devShmIsTmpfs), .enabled(if: KernelComparison.runsAsRoot),
        arguments: KernelComparisonScenarios.all)
    func finalTreeMatchesTheKernels(_ scenario: KernelComparisonScenario) throws {
        let linux = try KernelComparisonLinuxSide()
        defer { linux.cleanUp() }
        let vfs = try KernelComparisonVFSSide()
        for step in scenario.steps {
            _ = linux.run(step)
            _ = vfs.run(step)
        }
        let expected = linux.snapshot()
        let actual = vfs.snapshot()
        #expect(actual == expected, "\(scenario.name): trees differ")
        if actual != expected {
            let missing = expected.filter { !actual.contains($0) }
            let extra = actual.filter { !expected.contains($0) }
            Issue.record("Linux only: \(missing)\nVFS only: \(extra)")
        }
    }

    @Test func scenariosCoverAtLeastSixtySteps() {
        #expect(KernelComparisonScenarios.all.reduce(0) { $0 + $1.steps.count } >= 60)
    }
}

/// The scenarios. Each starts from an empty base directory.
enum KernelComparisonScenarios {
    static let all: [KernelComparisonScenario] = [
        trailingSlashes, dotAndDotDot, symlinksInTheMiddle, renameOntoExistingTargets,
        removalModesAndSizes, symlinksAsFinalComponents, renameWhiteout,
    ]

    static let trailingSlashes = KernelComparisonScenario(
        name: "trailing slashes",
        steps: [
            .mkdir("d"), .create("f"),
            .mkdir("d2/"), .mkdir("f/"), .mkdir("d//"), .mkdir("missing/x/"),
            .create("new/"), .open("f/", flags: O_RDONLY), .open("d/", flags: O_RDONLY),
            .open("d/", flags: O_WRONLY), .open("f/", flags: O_CREAT | O_WRONLY),
            .stat("f/"), .stat("d/"), .stat("d//", follow: false), .stat("missing/"),
            .unlink("f/"), .unlink("d/"), .unlink("missing/"), .rmdir("f/"), .rmdir("d2/"),
            .rmdir("d2/"),
            .rename("f", "f2/"), .rename("f/", "f2"), .rename("d/", "d3/"), .rename("d3", "d4/"),
            .rename("d4/", "f"), .rename("f", "d4/"),
            .symlink(target: "f", at: "sl/"), .symlink(target: "d4", at: "sd"),
            .link("f", "hl/"), .link("f/", "hl"), .link("f", "hl"),
            .truncate("f/", 1), .chmod("f/", 0o600), .chmod("d4/", 0o700),
            .stat("sd/"), .stat("sd/", follow: false), .rmdir("sd/"), .unlink("sd/"),
            .rename("sd/", "sd2"), .rename("sd", "sd2/"), .rename("sd", "sd3"),
        ])

    static let dotAndDotDot = KernelComparisonScenario(
        name: "dot and dot-dot",
        steps: [
            .mkdir("a"), .mkdir("a/b"), .create("a/b/f"),
            .stat("a/b/../b/f"), .stat("a/./b/./f"), .stat("a/b/f/.."), .stat("a/nope/.."),
            .mkdir("a/."), .mkdir("a/.."), .mkdir("a/b/../c"),
            .rmdir("a/."), .rmdir("a/b/.."), .rmdir("a/c/."),
            .unlink("a/."), .unlink("a/.."),
            .rename("a/.", "x"), .rename("a/b/f", "a/.."), .rename("a/b/f", "a/."),
            .rename("a/b", "a/b/c"), .rename("a", "a/b/x"), .rename("a/b/..", "y"),
            .rename("a/b/f", "a/../g"),
            .open("a/..", flags: O_CREAT | O_WRONLY), .open("a/.", flags: O_CREAT | O_EXCL | O_WRONLY),
            .open("a/.", flags: O_RDONLY), .open("a/.", flags: O_RDWR),
            .create("a/b/../h"), .link("a/.", "x"), .link("g", "a/.."),
            .symlink(target: "x", at: "a/.."), .symlink(target: "x", at: "a/."),
            .stat("g/.."), .chmod("a/b/..", 0o711), .truncate("a/..", 0),
        ])

    static let symlinksInTheMiddle = KernelComparisonScenario(
        name: "symlinks in the middle",
        steps: [
            .mkdir("real"), .create("real/f"), .symlink(target: "real", at: "ln"),
            .symlink(target: "ln/f", at: "lf"), .symlink(target: "missing", at: "dang"),
            .symlink(target: "real/f/", at: "fslash"), .symlink(target: "../real", at: "real/up"),
            .stat("ln/f"), .stat("ln", follow: false), .write("ln/f", "hello"), .stat("lf"),
            .stat("real/up/up/up/f"), .stat("fslash"), .stat("lf/"),
            .create("ln/new"), .mkdir("ln/sub"), .mkdir("ln/sub/../sub2"),
            .rmdir("ln"), .rmdir("ln/"), .unlink("ln/"), .mkdir("ln"), .mkdir("ln/"),
            .open("dang", flags: O_CREAT | O_EXCL | O_WRONLY), .open("dang", flags: O_CREAT | O_WRONLY),
            .open("dang", flags: O_CREAT | O_EXCL | O_WRONLY), .stat("missing"),
            .open("ln", flags: O_RDONLY | O_NOFOLLOW), .open("ln/f", flags: O_RDONLY | O_NOFOLLOW),
            .open("lf", flags: O_RDONLY | O_NOFOLLOW), .open("ln", flags: O_RDONLY | O_DIRECTORY),
            .symlink(target: "dang2", at: "dang2"), .open("dang2", flags: O_CREAT | O_WRONLY),
            .symlink(target: "sub/../f", at: "real/rel"), .stat("real/rel"),
            .rename("ln", "ln2"), .stat("lf"), .link("ln2", "hardsym"), .stat("hardsym", follow: false),
            .link("ln2/f", "hf"), .link("lf", "hlf", follow: true), .link("dang", "hd", follow: true),
            .readlink("ln2"), .readlink("real"), .readlink("ln2/up"), .readlink("missing"),
            .chmod("ln2", 0o700), .truncate("ln2/f", 2), .truncate("lf", 1), .unlink("ln2/"),
            .unlink("ln2"), .stat("hardsym", follow: false), .rename("hardsym", "real/hs"),
            .stat("real/hs"), .rename("real/up", "up2"), .stat("up2/real/f"),
        ])

    static let renameOntoExistingTargets = KernelComparisonScenario(
        name: "rename onto existing targets",
        steps: [
            .mkdir("d1"), .mkdir("d2"), .mkdir("d2/x"), .mkdir("d3"), .create("f1"), .create("f2"),
            .write("f1", "one"), .write("f2", "two"),
            .rename("f1", "f2"), .rename("d1", "d3"), .rename("d3", "d2"), .rename("f2", "d2"),
            .rename("d2", "f2"), .rename("f2", "f2"), .rename("d2", "d2"), .rename("d2/x", "d2/x/"),
            .link("f2", "f3"), .rename("f2", "f3"), .stat("f2"), .stat("f3"),
            .rename("f2", "f3", flags: 1), .rename("f2", "fresh", flags: 1), .rename("f3", "d3", flags: 1),
            .rename("fresh", "d2", flags: 2), .rename("d2", "nothere", flags: 2), .stat("fresh"),
            .rename("fresh", "fresh/x"), .rename("d2", "fresh", flags: 2), .rename("f3", "d2/x/f3"),
            .rename("missing", "x"), .rename("f3", "nodir/x"), .rename("d3", "d2/x"),
            .rename("d3", "d2/x", flags: 1), .mkdir("d2/x/deep"), .rename("d2", "d2/x/deep/d2"),
            .rename("d2/x/deep", "d2"), .rename("d2/x", "d2", flags: 2), .rename("d2", "d2/x", flags: 2),
            .rename("f2", "f2", flags: 2), .rename("f2", "f2", flags: 3),
        ])

    static let symlinksAsFinalComponents = KernelComparisonScenario(
        name: "symlinks as final components",
        steps: [
            .mkdir("d"), .create("f"), .write("f", "data"), .symlink(target: "d", at: "sd"),
            .symlink(target: "f", at: "sf"), .symlink(target: "nowhere", at: "dang"),
            .symlink(target: "nodir/x", at: "deepdang"), .symlink(target: "dang2/", at: "slashdang"),
            .mkdir("dang"), .mkdir("dang/"), .symlink(target: "x", at: "sf"),
            .open("deepdang", flags: O_CREAT | O_WRONLY), .open("slashdang", flags: O_CREAT | O_WRONLY),
            .open("sf", flags: O_WRONLY | O_TRUNC), .stat("f"), .write("sf", "via link"),
            .open("sd", flags: O_RDWR | O_CREAT), .open("sd/", flags: O_RDONLY),
            .open("sf/", flags: O_RDONLY), .stat("sf/"), .chmod("dang", 0o600), .truncate("dang", 0),
            .rename("f", "sd"), .stat("sd", follow: false), .rename("d", "sf"), .rename("d", "sf/"),
            .rename("sf", "d"), .rename("sf", "d/"), .rename("sd", "d", flags: 2),
            .stat("d", follow: false), .stat("sd", follow: false), .rename("d", "d/."),
            .rename(".", "x"), .rename("sd", "sd/x"), .unlink("dang/"), .unlink("dang"),
            .link("slashdang", "l1"), .link("slashdang", "l2", follow: true),
            .rmdir("sd"), .rmdir("sd/."),
        ])

    /// RENAME_WHITEOUT (4): tmpfs supports it, leaving a 0/0 character device (mode 0) at the
    /// old name; with RENAME_NOREPLACE too; never with RENAME_EXCHANGE (EINVAL).
    static let renameWhiteout = KernelComparisonScenario(
        name: "rename whiteout",
        steps: [
            .mkdir("d"), .create("f"), .create("g"),
            .rename("f", "h", flags: 4), .stat("f", follow: false), .rename("g", "h", flags: 5),
            .rename("g", "i", flags: 5), .rename("d", "e", flags: 6), .rename("d", "e", flags: 4),
            .stat("d", follow: false), .rename("missing", "x", flags: 4),
        ])

    static let removalModesAndSizes = KernelComparisonScenario(
        name: "removal, modes and sizes",
        steps: [
            .mkdir("d"), .create("d/f"), .rmdir("d"), .unlink("d"), .rmdir("d/f"), .unlink("d/f"),
            .rmdir("d"), .rmdir("d"), .unlink("d"),
            .create("f", mode: 0o7777), .stat("f"), .chmod("f", 0o4755), .write("f", "abc"),
            .stat("f"), .truncate("f", 10), .truncate("f", 0), .truncate("f", -1),
            .truncate("f", 1 << 40), .stat("f"), .truncate("f", 3),
            .mkdir("d", mode: 0o7777), .stat("d"), .truncate("d", 0), .chmod("d", 0o2755),
            .mkdir("d/sub"), .stat("d/sub"), .create("d/sub/g", mode: 0o2755), .stat("d/sub/g"),
            .chmod("missing", 0o644), .chmod("f", 0o170777), .stat("f"),
            .mkdir("d/sub/e"), .mkdir("d/sub/e2"), .stat("d/sub"), .rmdir("d/sub/e"), .stat("d/sub"),
            .open("f", flags: O_RDONLY | O_TRUNC), .stat("f"), .open("d", flags: O_RDONLY | O_TRUNC),
            .open("f", flags: O_WRONLY | O_DIRECTORY), .open("d", flags: O_CREAT | O_DIRECTORY),
            .open("nf", flags: O_CREAT | O_DIRECTORY | O_WRONLY), .open("f", flags: 3),
            .link("d", "dl"), .link("missing", "ml"), .link("f", "d/sub/f"), .stat("f"),
            .unlink("f"), .stat("d/sub/f"), .rename("d/sub/f", "d/sub/e2"),
        ])
}

import DifferentialHarness
import Glibc
import Testing

/// Helpers shared by the differential tests. Every test runs a sequence on Linux (a chrooted
/// `vfs kernel-exec` child on a fresh /dev/shm directory) and on VFSKit, and fails with the
/// transcript when they disagree; most also pin what Linux answered, so that each test
/// documents a behaviour ("Linux 6.18 on tmpfs gives X").
enum Diff {
    /// uid 1000, gid 1000, supplementary groups 2000 and 2001.
    static let user = Identity(uid: 1000, gid: 1000, groups: [2000, 2001])
    /// Another user, in group 2000.
    static let other = Identity(uid: 1001, gid: 2000)

    /// The kernel side needs root (chroot, setresuid) and /dev/shm on a real tmpfs.
    static let available: Bool = Differential.kernelSideAvailable

    /// Runs `operations` on both sides; records an issue with the transcript if they diverge.
    @discardableResult
    static func agree(
        _ operations: [Operation], _ configuration: RunConfiguration = .root,
        on vfsRoot: VFSRoot.Factory = VFSRoot.default, backend: String = "VFSKit",
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> RunReport {
        let report = try Differential.run(
            operations, configuration: configuration, vfsRoot: vfsRoot)
        if !report.isClean {
            Issue.record(
                "Linux and \(backend) diverge:\n\(report.render())", sourceLocation: sourceLocation)
        }
        return report
    }

    /// Runs `operations` on both sides, expects agreement, and expects Linux's outcome of the
    /// last step to be `expected`.
    static func last(
        _ operations: [Operation], is expected: Outcome, _ configuration: RunConfiguration = .root,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let report = try agree(operations, configuration, sourceLocation: sourceLocation)
        #expect(
            report.steps.last?.kernel == expected,
            "Linux answered \(report.steps.last?.kernel.description ?? "nothing") to \(operations.last?.description ?? "")",
            sourceLocation: sourceLocation)
    }

    static func fails(_ code: Int32) -> Outcome { .failure(errno: code) }

    /// Setup as root, then the rest as `user` (the run's identity starts as root).
    static func asUser(_ setup: [Operation], then steps: [Operation], identity: Identity = user)
        -> [Operation]
    {
        setup + [.become(identity)] + steps
    }

    // Flag shorthands (all opens carry O_NONBLOCK so a FIFO never blocks).
    static let rdonly: Int32 = O_RDONLY | O_NONBLOCK
    static let wronly: Int32 = O_WRONLY | O_NONBLOCK
    static let rdwr: Int32 = O_RDWR | O_NONBLOCK
    static let create: Int32 = O_CREAT | O_RDWR | O_NONBLOCK
    static let nofollow: Int32 = 0x100
    static let removedir: Int32 = 0x200
    static let emptyPath: Int32 = 0x1000
    // What Swift's Glibc module leaves out (_GNU_SOURCE names), x86-64 values.
    static let pathOnly: Int32 = 0o10000000
    static let temporaryFile: Int32 = 0o20200000
    static let direct: Int32 = 0o40000
    static let noAccessTime: Int32 = 0o1000000
    static let seekData: Int32 = 3
    static let seekHole: Int32 = 4
}

extension Operation {
    /// Creates (or opens) `path` read-write into `slot`.
    static func create(_ path: String, mode: UInt32 = 0o644, slot: Int = 0) -> Operation {
        .open(Location(path), flags: Diff.create, mode: mode, slot: slot)
    }

    static func stat(_ path: String) -> Operation { .stat(Location(path), flags: 0) }
    static func lstat(_ path: String) -> Operation { .stat(Location(path), flags: Diff.nofollow) }
}

/// Sequences every backend runs (HostDifferentialTests, GoferDifferentialTests): the basic
/// namespace and permission behaviours, so that each backend is held to the same ones.
enum BackendSequences {
    static let createWriteReadAndStat: [Operation] = [
        .mkdir("d", mode: 0o755), .create("d/f", mode: 0o640),
        .write(slot: 0, data: Array("hello".utf8)), .pread(slot: 0, count: 10, offset: 1),
        .stat("d/f"), .stat("d"), .close(slot: 0),
    ]

    static let namespaceOperations: [Operation] = [
        .mkdir("a", mode: 0o700), .create("a/f"), .close(slot: 0),
        .link(Location("a/f"), Location("g"), flags: 0), .stat("g"),
        .rename(Location("g"), Location("a/h"), flags: 0), .unlink(Location("a/f"), flags: 0),
        .symlink(target: "a/h", Location("l")), .lstat("l"), .stat("l"),
        .readlink(Location("l"), size: 64), .rmdir("a"),
        .unlink(Location("a/h"), flags: 0), .rmdir("a"),
    ]

    /// Run as `Diff.user`.
    static let permissionsAsAnUnprivilegedUser: [Operation] = Diff.asUser(
        [
            .mkdir("ro", mode: 0o755), .create("ro/f", mode: 0o644), .close(slot: 0),
            .mkdir("sticky", mode: 0o777),
            .chmod(Location("sticky"), mode: 0o1777, flags: 0),
        ],
        then: [
            .open(Location("ro/f"), flags: Diff.wronly, mode: 0, slot: 1),
            .mkdir("ro/x", mode: 0o755), .unlink(Location("ro/f"), flags: 0),
            .create("sticky/mine"), .close(slot: 0), .stat("sticky/mine"),
            .chmod(Location("ro/f"), mode: 0o777, flags: 0),
        ])
}

// The configurations the microbenchmarks compare, and the two helpers that register a row.
//
// A row is named "<family> <params> <config>", the config last, so `--filter ".* host"`
// selects one configuration and `--filter "stat depth 3 .*"` one figure across all of them.
// `kernel` (libc on /dev/shm, KernelFixture.swift) is every family's baseline; the other
// configurations are `Configuration` cases, each a `TaskFixture` reached through
// `Syscalls.Task`. To add a backend: a case here, a fixture file that builds the benchmark
// tree in it (Scratch.swift), its `make` call in `makeFixture`, and its families.
//
// Fixtures are built in a row's setup hook, the first time a row of that configuration runs
// in this process (package-benchmark runs each benchmark in a process of its own), and
// removed by the global teardown hook (`removeAllFixtures`), so they are never built just
// to list the benchmarks.
import Benchmark
import Synchronization
import VFSCore

enum Configuration: String, CaseIterable, Sendable {
    case tmpfs
    case host
    case hostShared = "host-shared"
    case gofer
    case goferCold = "gofer-cold"
    case goferShared = "gofer-shared"

    enum Family: Sendable {
        /// stat and open+close by depth.
        case lookup
        /// pread/pwrite, create+unlink, readdir, stat on disjoint paths from 1 and 2 threads.
        case other
    }

    /// Cold and shared gofer rows exist for the lookup families only: elsewhere the path is
    /// one or two components, so they would mostly repeat the warm gofer rows.
    func has(_ family: Family) -> Bool {
        family == .lookup || (self != .goferCold && self != .goferShared)
    }

    var countsRPCs: Bool { self == .gofer || self == .goferCold || self == .goferShared }

    fileprivate func makeFixture() throws(Errno) -> TaskFixture {
        switch self {
        case .tmpfs: try TmpfsFixture.make()
        case .host: try HostFixture.make(caching: .exclusive)
        case .hostShared: try HostFixture.make(caching: .shared)
        case .gofer: try GoferFixture.make(caching: .exclusive, cold: false)
        case .goferCold: try GoferFixture.make(caching: .exclusive, cold: true)
        case .goferShared: try GoferFixture.make(caching: .shared, cold: false)
        }
    }
}

let rpcMetric = BenchmarkMetric.custom("RPCs")

private let taskFixtures = Mutex<[Configuration: TaskFixture]>([:])
private let kernelFixture = Mutex<KernelFixture?>(nil)

private func fixture(_ configuration: Configuration) throws(Errno) -> TaskFixture {
    if let built = taskFixtures.withLock({ $0[configuration] }) { return built }
    let made = try configuration.makeFixture()
    taskFixtures.withLock { $0[configuration] = made }
    return made
}

/// The global teardown hook: every fixture built in this process removed.
func removeAllFixtures() {
    for built in taskFixtures.withLock({ fixtures in defer { fixtures = [:] }; return fixtures.values }) {
        built.remove()
    }
    kernelFixture.withLock { fixture in defer { fixture = nil }; return fixture }?.remove()
    Scratch.removeAll()
}

/// Holds a row's fixture from its setup hook on, so a sample finds it with one load.
private final class Slot<Fixture>: @unchecked Sendable {
    var fixture: Fixture?
}

/// Registers "<name> <configuration>": each sample runs `operation` once on the
/// configuration's fixture, and only `operation` is measured (see `TaskFixture.measure`).
func taskBenchmark(
    _ name: String, _ configuration: Configuration, _ base: Benchmark.Configuration,
    _ operation: @escaping (TaskFixture) -> Void
) {
    var settings = base
    if configuration.countsRPCs { settings.metrics.append(rpcMetric) }
    let slot = Slot<TaskFixture>()
    Benchmark("\(name) \(configuration.rawValue)", configuration: settings) { benchmark in
        guard let fixture = slot.fixture else { return }
        for _ in benchmark.scaledIterations { fixture.measure(benchmark, operation) }
    } setup: {
        slot.fixture = try fixture(configuration)
    }
}

/// Registers "<name> kernel": each sample runs `operation` once, and only it is measured.
func kernelBenchmark(
    _ name: String, _ base: Benchmark.Configuration, _ operation: @escaping (KernelFixture) -> Void
) {
    let slot = Slot<KernelFixture>()
    Benchmark("\(name) kernel", configuration: base) { benchmark in
        guard let fixture = slot.fixture else { return }
        for _ in benchmark.scaledIterations {
            benchmark.startMeasurement()
            operation(fixture)
            benchmark.stopMeasurement()
        }
    } setup: {
        if let built = kernelFixture.withLock({ $0 }) {
            slot.fixture = built
            return
        }
        let made = try KernelFixture()
        kernelFixture.withLock { $0 = made }
        slot.fixture = made
    }
}

// VFSKit's backends against the Linux kernel, in one run on one machine.
//
// Each family (stat and open+close by path depth, pread/pwrite throughput, create+unlink,
// readdir of 10,000 entries, stat on disjoint paths from 1 and 2 threads) has a row per
// configuration, named "<family> <params> <config>":
// - tmpfs: VFSKit's tmpfs; host, host-shared: `HostFilesystem` over /dev/shm (exclusive,
//   shared caching); gofer, gofer-cold, gofer-shared: `GoferFilesystem` over a socketpair to
//   an in-process `GoferServer` (see GoferFixture.swift). All are reached through
//   `Syscalls.Task`, the path a sandbox's syscall handler takes, on the same tree.
// - kernel: the same call made directly on /dev/shm (a real tmpfs) from the same process.
// Filter by configuration with `--filter ".* gofer-cold"`, by figure with
// `--filter "stat depth 3 .*"`. Configurations and how to add one: Configuration.swift; the
// tree: Scratch.swift; the families: LookupBenchmarks, IOBenchmarks, DirectoryBenchmarks,
// ConcurrencyBenchmarks. The gofer's walk rows (one-RPC vs per-component walk, with the
// socket round trip as baseline) are in GoferBenchmarks.swift.
//
// Only the operation is measured (explicit start/stop around it, outside it the gofer's
// cache trimming and RPC counting); each sample is one operation (one readdir, one batch of
// 10,000 stats per thread).
import Benchmark

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
        timeUnits: .nanoseconds,
        warmupIterations: 100,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000
    )
    Benchmark.teardown = { removeAllFixtures() }
    lookupBenchmarks()
    ioBenchmarks()
    directoryBenchmarks()
    concurrencyBenchmarks()
    goferWalkBenchmarks()
}

// stat on disjoint paths (/thread0/a, /thread1/a) from 1 and 2 threads, 10,000 stats per
// thread per sample: whether a backend's shared state (dentry cache locks, the host's fd
// table and dentries) serialises threads that share nothing. With 2 threads a sample does
// twice the work; perfect scaling keeps its time equal to 1 thread's.
// For the gofer (warm: no RPC expected), "RPCs" is per sample, not per stat.
// Rows: "stat disjoint N thread(s) x10000 <config>" (not gofer-cold/-shared).
import Benchmark
import Foundation
import Glibc
import Syscalls

func concurrencyBenchmarks() {
    let perThread = 10_000
    let settings = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 3, maxDuration: .seconds(3))
    for threads in [1, 2] {
        let name = "stat disjoint \(threads) thread(s) x\(perThread)"
        for configuration in Configuration.allCases where configuration.has(.other) {
            taskBenchmark(name, configuration, settings) { fixture in
                DispatchQueue.concurrentPerform(iterations: threads) { thread in
                    let path = fixture.threadPaths[thread]
                    for _ in 0..<perThread { blackHole(try? fixture.task.newfstatat(Linux.AT_FDCWD, path, 0)) }
                }
            }
        }
        kernelBenchmark(name, settings) { fixture in
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                var st = stat()
                for _ in 0..<perThread { blackHole(stat(fixture.threadPaths[thread], &st)) }
            }
        }
    }
}

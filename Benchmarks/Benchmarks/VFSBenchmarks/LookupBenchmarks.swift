// stat and open+close by path depth (1, 2, 3, 8, 64, 100 components): the cost of path
// resolution per backend, from a cached walk (tmpfs, host, gofer) through a revalidating one
// (host-shared, gofer-shared: each cached name checked against the host) to an uncached one
// (gofer-cold: one Walk RPC for the whole path). open+close adds the backend's open (for the
// gofer an OpenAt RPC; its close is batched) and the file table.
// Rows: "stat depth N <config>", "open+close depth N <config>", every configuration.
import Benchmark
import Glibc
import Syscalls
import VFSCore

func lookupBenchmarks() {
    for (index, depth) in depths.enumerated() {
        for configuration in Configuration.allCases where configuration.has(.lookup) {
            taskBenchmark("stat depth \(depth)", configuration, .init()) { fixture in
                blackHole(try? fixture.task.newfstatat(Linux.AT_FDCWD, fixture.paths[index], 0))
            }
            taskBenchmark("open+close depth \(depth)", configuration, .init()) { fixture in
                let task = fixture.task
                if let fd = try? task.openat(Linux.AT_FDCWD, fixture.paths[index], OpenOptions.readOnly, 0) {
                    try? task.close(fd)
                }
            }
        }
        kernelBenchmark("stat depth \(depth)", .init()) { fixture in
            var st = stat()
            blackHole(stat(fixture.paths[index], &st))
        }
        kernelBenchmark("open+close depth \(depth)", .init()) { fixture in
            close(open(fixture.paths[index], O_RDONLY))
        }
    }
}

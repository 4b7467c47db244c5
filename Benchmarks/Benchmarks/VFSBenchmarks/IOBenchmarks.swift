// pread/pwrite throughput: one call of 4 KiB, 64 KiB or 1 MiB at offset 0 of the 1 MiB file
// `io`, kept open. tmpfs copies to/from its pages; host makes one host pread/pwrite on the
// file's fd; gofer does the same on the host fd the gofer donated at open (no RPC: the
// "RPCs" metric shows it). The difference from the kernel row is the syscall layer's cost.
// Rows: "pread <size> <config>", "pwrite <size> <config>" (not gofer-cold/-shared).
import Benchmark
import Glibc
import Syscalls

func ioBenchmarks() {
    let settings = Benchmark.Configuration(metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 20)
    for size in ioSizes {
        let label = size >= 1 << 20 ? "\(size >> 20) MiB" : "\(size >> 10) KiB"
        for configuration in Configuration.allCases where configuration.has(.other) {
            taskBenchmark("pread \(label)", configuration, settings) { fixture in
                let region = UnsafeMutableRawBufferPointer(rebasing: fixture.buffer[..<size])
                blackHole(try? fixture.task.pread64(fixture.ioFD, region, 0))
            }
            taskBenchmark("pwrite \(label)", configuration, settings) { fixture in
                let region = UnsafeRawBufferPointer(rebasing: fixture.buffer[..<size])
                blackHole(try? fixture.task.pwrite64(fixture.ioFD, region, 0))
            }
        }
        kernelBenchmark("pread \(label)", settings) { fixture in
            blackHole(pread(fixture.ioFD, fixture.buffer.baseAddress, size, 0))
        }
        kernelBenchmark("pwrite \(label)", settings) { fixture in
            blackHole(pwrite(fixture.ioFD, fixture.buffer.baseAddress, size, 0))
        }
    }
}

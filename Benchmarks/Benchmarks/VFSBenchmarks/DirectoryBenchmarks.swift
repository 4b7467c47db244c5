// Directory operations: create+close+unlink of one file in an empty directory (the
// backend's create and remove paths: for the gofer an OpenCreateAt and an UnlinkAt RPC, the
// close batched), and readdir of 10,000 entries (open, getdents64 with a 32 KiB buffer until
// it returns 0, close; for the gofer, Getdents64 RPCs).
// Rows: "create+unlink <config>", "readdir 10000 <config>" (not gofer-cold/-shared).
import Benchmark
import Glibc
import Syscalls
import VFSCore

func directoryBenchmarks() {
    for configuration in Configuration.allCases where configuration.has(.other) {
        taskBenchmark("create+unlink", configuration, .init()) { fixture in
            let task = fixture.task
            let flags = OpenOptions.create | OpenOptions.writeOnly
            if let fd = try? task.openat(Linux.AT_FDCWD, "/scratch/x", flags, 0o644) { try? task.close(fd) }
            try? task.unlinkat(Linux.AT_FDCWD, "/scratch/x", 0)
        }
    }
    kernelBenchmark("create+unlink", .init()) { _ in
        close(open("scratch/x", O_CREAT | O_WRONLY, 0o644))
        unlink("scratch/x")
    }

    let direntBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 32 << 10, alignment: 8)
    let settings = Benchmark.Configuration(metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 5)
    for configuration in Configuration.allCases where configuration.has(.other) {
        taskBenchmark("readdir \(bigDirectoryEntries)", configuration, settings) { fixture in
            let task = fixture.task
            guard let fd = try? task.openat(Linux.AT_FDCWD, "/big", OpenOptions.readOnly | OpenOptions.directory, 0)
            else { return }
            while let count = try? task.getdents64(fd, direntBuffer), count > 0 {}
            try? task.close(fd)
        }
    }
    kernelBenchmark("readdir \(bigDirectoryEntries)", settings) { _ in
        let fd = open("big", O_RDONLY | O_DIRECTORY)
        while kernelGetdents64(fd, direntBuffer) > 0 {}
        close(fd)
    }
}

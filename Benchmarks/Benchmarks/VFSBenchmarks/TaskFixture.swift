// One backend under test, reached through `Syscalls.Task` — the path a sandbox's syscall
// handler takes — with the benchmark tree (Scratch.swift) in it. Every configuration
// (Configuration.swift) is one of these, so each family's rows run the same code whatever
// the backend; only how the tree is built and what the fixture owns differ (the backend's
// fixture file: TmpfsFixture.swift, HostFixture.swift, GoferFixture.swift).
import Benchmark
import GoferBackend
import Syscalls
import VFSCore

final class TaskFixture: @unchecked Sendable {
    let task: Task
    /// The file at each of `depths`, in its order: "/f1", "/t2/f", ... (absolute in the
    /// task's namespace; an array, so a sample finds its path without hashing).
    let paths: [PathArgument]
    /// "/thread0/a", "/thread1/a": one path per thread for the concurrency rows.
    let threadPaths: [PathArgument] = ["/thread0/a", "/thread1/a"]
    /// "/io" opened read-write (1 MiB).
    let ioFD: Int32
    let buffer = makePatternBuffer()
    /// The gofer client when the backend is a gofer: its RPCs are counted per operation.
    let gofer: GoferFilesystem?
    /// Trim the gofer's dentry cache before each operation, outside the measured interval.
    let trimBeforeEachOperation: Bool
    private let cleanup: @Sendable () -> Void

    /// A task whose root is `filesystem` (at `root`). The tree is already built in it, or
    /// `populate` builds it through the task.
    init(
        filesystem: any FilesystemImpl, root: Dentry, gofer: GoferFilesystem? = nil,
        trimBeforeEachOperation: Bool = false, populate: ((Task) throws(Errno) -> Void)? = nil,
        cleanup: @escaping @Sendable () -> Void
    ) throws(Errno) {
        let kernel = Kernel()
        task = Task(kernel: kernel, namespace: kernel.vfs.makeNamespace(root: filesystem, rootDentry: root))
        try populate?(task)
        paths = depths.map { PathArgument("/" + relativePath(depth: $0)) }
        ioFD = try task.openat(Linux.AT_FDCWD, "/io", OpenOptions.readWrite, 0)
        self.gofer = gofer
        self.trimBeforeEachOperation = trimBeforeEachOperation
        self.cleanup = cleanup
    }

    /// Closes the task's files, then lets the backend's fixture disconnect and remove its
    /// scratch directory.
    func remove() {
        try? task.close(ioFD)
        cleanup()
    }

    /// Runs `operation` as one measured sample: for a gofer, the cache trimmed first when
    /// cold and the RPCs it sent recorded as the custom metric `rpcMetric`.
    @inline(__always)
    func measure(_ benchmark: Benchmark, _ operation: (TaskFixture) -> Void) {
        guard let gofer else {
            benchmark.startMeasurement()
            operation(self)
            benchmark.stopMeasurement()
            return
        }
        if trimBeforeEachOperation { gofer.trimCache() }
        gofer.resetRPCCounts()
        benchmark.startMeasurement()
        operation(self)
        benchmark.stopMeasurement()
        benchmark.measurement(rpcMetric, gofer.totalRPCCount)
    }
}

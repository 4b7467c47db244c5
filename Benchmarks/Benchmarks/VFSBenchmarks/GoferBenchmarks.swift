// The gofer client's path walk, against the cost of the transport it runs on.
//
// Rows: `stat` of /a/b/c (3 components) and of a depth-8 path through a `GoferFilesystem`
// root (exclusive caching) talking LISAFS over a socketpair to a `GoferServer` on its own
// thread in this process, serving a scratch directory on /dev/shm.
// - "cold": the dentry cache is trimmed before each stat (outside the measured interval, with
//   the FDIDs it releases closed), so every component is walked again: the delegated walk
//   sends one Walk RPC for the whole path, `perComponentWalk` one per component.
// - "warm": the path is cached; exclusive caching answers without an RPC.
// Each row also reports the RPCs its measured stat sent (custom metric "RPCs").
// Baseline, same run: one 8-byte write + 8-byte read over a socketpair whose other end is a
// thread echoing the 8 bytes back — the floor under any one-RPC round trip.
import Benchmark
import Foundation
import Glibc
import GoferBackend
import GoferServer
import Syscalls
import VFSCore

/// A gofer-served scratch tree and two clients over it (one-RPC walk, per-component walk).
final class GoferFixture: @unchecked Sendable {
    struct Client {
        let task: Task
        let filesystem: GoferFilesystem
    }
    let root: String
    let oneRPC: Client
    let perComponent: Client
    /// Absolute paths inside the gofer mount, by depth.
    let paths: [Int: PathArgument] = [3: "/a/b/c", 8: PathArgument("/" + relativePath(depth: 8))]

    init() throws(Errno) {
        root = "/dev/shm/vfskit-bench-gofer-\(getpid())"
        guard mkdir(root, 0o755) == 0 else { throw Errno(rawValue: errno) }
        for path in ["a/b/c", relativePath(depth: 8)] {
            var prefix = root
            for component in path.split(separator: "/").dropLast() {
                prefix += "/" + component
                mkdir(prefix, 0o755)
            }
            close(open(root + "/" + path, O_CREAT | O_WRONLY, 0o644))
        }
        oneRPC = try Self.client(root: root, perComponentWalk: false)
        perComponent = try Self.client(root: root, perComponentWalk: true)
    }

    private static func client(root: String, perComponentWalk: Bool) throws(Errno) -> Client {
        let server = try GoferServer(rootPath: root)
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0
        else { throw Errno(rawValue: errno) }
        server.serveInBackground(socket: fds[1])
        let filesystem = try GoferFilesystem(
            socket: FileDescriptor(rawValue: fds[0]),
            options: GoferOptions(caching: .exclusive, perComponentWalk: perComponentWalk))
        let kernel = Kernel()
        let task = Task(kernel: kernel, namespace: kernel.vfs.makeNamespace(root: filesystem, rootDentry: filesystem.root))
        return Client(task: task, filesystem: filesystem)
    }

    func remove() {
        oneRPC.filesystem.disconnect()
        perComponent.filesystem.disconnect()
        _ = try? FileManager.default.removeItem(atPath: root)
    }
}

/// A socketpair whose far end is echoed by a thread: 8 bytes in, the same 8 bytes back.
final class EchoPair: @unchecked Sendable {
    let near: Int32
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 8, alignment: 8)

    init() {
        var fds: [Int32] = [-1, -1]
        _ = socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
        near = fds[0]
        let far = fds[1]
        let thread = Thread {
            var bytes: UInt64 = 0
            while Self.transfer(far, &bytes, write: false), Self.transfer(far, &bytes, write: true) {}
            close(far)
        }
        thread.start()
    }

    /// Reads or writes exactly 8 bytes; false at EOF or on an error.
    static func transfer(_ fd: Int32, _ value: inout UInt64, write: Bool) -> Bool {
        withUnsafeMutableBytes(of: &value) { bytes in
            var done = 0
            while done < 8 {
                let pointer = bytes.baseAddress.map { $0 + done }
                let count = write ? Glibc.write(fd, pointer, 8 - done) : Glibc.read(fd, pointer, 8 - done)
                if count <= 0 { return false }
                done += count
            }
            return true
        }
    }

    func roundTrip() -> Bool {
        var value: UInt64 = 0x5a5a_5a5a_5a5a_5a5a
        return Self.transfer(near, &value, write: true) && Self.transfer(near, &value, write: false)
    }
}

nonisolated(unsafe) var goferFixture: GoferFixture?

func goferBenchmarks() {
    let rpcs = BenchmarkMetric.custom("RPCs")
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, rpcs], warmupIterations: 100, maxDuration: .seconds(2))
    do throws(Errno) {
        goferFixture = try GoferFixture()
    } catch {
        fatalError("gofer fixture: \(error)")
    }
    guard let gofer = goferFixture else { return }

    for depth in [3, 8] {
        let path = gofer.paths[depth] ?? "/"
        let label = depth == 3 ? "/a/b/c" : "depth 8"
        for (walk, client) in [("one-RPC walk", gofer.oneRPC), ("per-component walk", gofer.perComponent)] {
            let task = client.task
            let filesystem = client.filesystem
            Benchmark("gofer stat \(label) cold \(walk)", configuration: configuration) { benchmark in
                for _ in benchmark.scaledIterations {
                    filesystem.trimCache()
                    filesystem.resetRPCCounts()
                    benchmark.startMeasurement()
                    blackHole(try? task.newfstatat(Linux.AT_FDCWD, path, 0))
                    benchmark.stopMeasurement()
                    benchmark.measurement(rpcs, filesystem.totalRPCCount)
                }
            }
        }
        let task = gofer.oneRPC.task
        let filesystem = gofer.oneRPC.filesystem
        Benchmark("gofer stat \(label) warm", configuration: configuration) { benchmark in
            for _ in benchmark.scaledIterations {
                filesystem.resetRPCCounts()
                benchmark.startMeasurement()
                blackHole(try? task.newfstatat(Linux.AT_FDCWD, path, 0))
                benchmark.stopMeasurement()
                benchmark.measurement(rpcs, filesystem.totalRPCCount)
            }
        }
    }

    let echo = EchoPair()
    Benchmark("socketpair 8-byte round trip (echo thread)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(echo.roundTrip()) }
    }
}

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
// The client carries its RPCs on flipcall channels (the default since channels exist; the
// "socket only" rows turn them off, `GoferOptions(channels: 0)`).
// Transport rows: one FStat RPC of the root by an `RPCClient` on a channel, and on the socket.
// Baseline, same run: one 8-byte write + 8-byte read over a socketpair whose other end is a
// thread echoing the 8 bytes back — the floor under any one-RPC round trip on a socket.
// These rows keep their names ("gofer stat ...", selected by `--filter "gofer.*"`) so they
// compare with recorded runs; the per-configuration rows (".* gofer", ".* gofer-cold",
// ".* gofer-shared") are in the family files.
import Benchmark
import Foundation
import Glibc
import GoferBackend
import GoferServer
import LISAFS
import Syscalls
import VFSCore

/// A gofer-served scratch tree and two clients over it (one-RPC walk, per-component walk).
final class GoferWalkFixture: @unchecked Sendable {
    struct Client {
        let task: Task
        let filesystem: GoferFilesystem
    }
    let directory: String
    let oneRPC: Client
    let perComponent: Client
    /// One-RPC walks with every RPC on the socket (no channels).
    let socketOnly: Client
    /// Absolute paths inside the gofer mount, by depth.
    let paths: [Int: PathArgument] = [3: "/a/b/c", 8: PathArgument("/" + relativePath(depth: 8))]

    init() throws(Errno) {
        directory = try Scratch.make("gofer-walk")
        do throws(Errno) {
            for path in ["a/b/c", relativePath(depth: 8)] {
                var prefix = directory
                for component in path.split(separator: "/").dropLast() {
                    prefix += "/" + component
                    mkdir(prefix, 0o755)
                }
                let fd = open(directory + "/" + path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw Errno(rawValue: errno) }
                close(fd)
            }
            oneRPC = try Self.client(directory: directory, perComponentWalk: false)
            perComponent = try Self.client(directory: directory, perComponentWalk: true)
            socketOnly = try Self.client(directory: directory, perComponentWalk: false, channels: 0)
        } catch {
            Scratch.remove(directory)
            throw error
        }
    }

    private static func client(
        directory: String, perComponentWalk: Bool, channels: Int = RPCClient.defaultChannelCount
    ) throws(Errno) -> Client {
        let filesystem = try GoferFixture.connect(
            directory: directory,
            options: GoferOptions(caching: .exclusive, perComponentWalk: perComponentWalk, channels: channels))
        let kernel = Kernel()
        let namespace = kernel.vfs.makeNamespace(root: filesystem, rootDentry: filesystem.root)
        let task = Task(kernel: kernel, namespace: namespace)
        return Client(task: task, filesystem: filesystem)
    }

    func remove() {
        oneRPC.filesystem.disconnect()
        perComponent.filesystem.disconnect()
        socketOnly.filesystem.disconnect()
        Scratch.remove(directory)
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

/// Built by the walk rows' setup hook (one fixture per process), removed by their teardown.
nonisolated(unsafe) var goferWalkFixture: GoferWalkFixture?

func goferWalkBenchmarks() {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, rpcMetric], warmupIterations: 100, maxDuration: .seconds(2),
        setup: { if goferWalkFixture == nil { goferWalkFixture = try GoferWalkFixture() } },
        teardown: {
            goferWalkFixture?.remove()
            goferWalkFixture = nil
        })

    for depth in [3, 8] {
        let label = depth == 3 ? "/a/b/c" : "depth 8"
        for walk in ["one-RPC walk", "per-component walk", "one-RPC walk, socket only"] {
            Benchmark("gofer stat \(label) cold \(walk)", configuration: configuration) { benchmark in
                guard let gofer = goferWalkFixture else { return }
                let client =
                    walk == "per-component walk" ? gofer.perComponent
                    : walk == "one-RPC walk" ? gofer.oneRPC : gofer.socketOnly
                let path = gofer.paths[depth] ?? "/"
                for _ in benchmark.scaledIterations {
                    client.filesystem.trimCache()
                    client.filesystem.resetRPCCounts()
                    benchmark.startMeasurement()
                    blackHole(try? client.task.newfstatat(Linux.AT_FDCWD, path, 0))
                    benchmark.stopMeasurement()
                    benchmark.measurement(rpcMetric, client.filesystem.totalRPCCount)
                }
            }
        }
        Benchmark("gofer stat \(label) warm", configuration: configuration) { benchmark in
            guard let gofer = goferWalkFixture else { return }
            let client = gofer.oneRPC
            let path = gofer.paths[depth] ?? "/"
            for _ in benchmark.scaledIterations {
                client.filesystem.resetRPCCounts()
                benchmark.startMeasurement()
                blackHole(try? client.task.newfstatat(Linux.AT_FDCWD, path, 0))
                benchmark.stopMeasurement()
                benchmark.measurement(rpcMetric, client.filesystem.totalRPCCount)
            }
        }
    }

    let echo = EchoPair()
    Benchmark("socketpair 8-byte round trip (echo thread)", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(echo.roundTrip()) }
    }

    let transportConfiguration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 100, maxDuration: .seconds(2),
        setup: { if rpcTransportFixture == nil { rpcTransportFixture = try RPCTransportFixture() } },
        teardown: {
            rpcTransportFixture?.remove()
            rpcTransportFixture = nil
        })
    for onChannel in [true, false] {
        Benchmark("LISAFS FStat RPC on \(onChannel ? "a channel" : "the socket")", configuration: transportConfiguration) {
            benchmark in
            guard let fixture = rpcTransportFixture else { return }
            let client = onChannel ? fixture.channel : fixture.socket
            let request = FStatRequest(fd: onChannel ? fixture.channelRoot : fixture.socketRoot)
            for _ in benchmark.scaledIterations { blackHole(try? client.call(request)) }
        }
    }
}

/// Two raw LISAFS clients of one in-process server: one with a channel, one without.
final class RPCTransportFixture: @unchecked Sendable {
    let directory: String
    let channel: RPCClient
    let socket: RPCClient
    let channelRoot: FDID
    let socketRoot: FDID

    init() throws(Errno) {
        directory = try Scratch.make("gofer-rpc")
        let server = try GoferServer(rootPath: directory)
        func connect() throws(Errno) -> RPCClient {
            var fds: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0
            else { throw Errno(rawValue: errno) }
            server.serveInBackground(socket: fds[1])
            return RPCClient(socket: FileDescriptor(rawValue: fds[0]))
        }
        channel = try connect()
        socket = try connect()
        channelRoot = try channel.mount().root.controlFD
        socketRoot = try socket.mount().root.controlFD
        guard channel.openChannels(1).opened == 1 else { throw Errno.noFunction }
    }

    func remove() {
        channel.close()
        socket.close()
        Scratch.remove(directory)
    }
}

nonisolated(unsafe) var rpcTransportFixture: RPCTransportFixture?

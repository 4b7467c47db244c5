import Foundation
import Glibc
import GoferServer
import LISAFS
import SystemPackage
import Testing

/// A scratch directory under /dev/shm (a real tmpfs), removed at the end; optionally its own
/// tmpfs mount (the golden-vector setup), detached at the end.
final class ScratchTree {
    let path: String
    private var mounted = false

    init(mountTmpfs options: String? = nil) throws {
        path = "/dev/shm/vfskit-gofer-\(getpid())-\(UUID().uuidString.prefix(8))"
        guard Glibc.mkdir(path, 0o755) == 0 else { throw Errno(rawValue: errno) }
        if let options {
            guard Glibc.mount("vfskitgofer", path, "tmpfs", 0, options) == 0 else { throw Errno(rawValue: errno) }
            mounted = true
        }
    }

    deinit {
        if mounted { umount2(path, Int32(MNT_DETACH)) }
        try? FileManager.default.removeItem(atPath: path)
    }

    func url(_ relative: String) -> String { relative.isEmpty ? path : path + "/" + relative }

    /// Creates (or truncates) a file with plain open/write: no temporary files or renames.
    func write(_ relative: String, _ contents: String, mode: mode_t = 0o644) throws {
        let fd = Glibc.open(url(relative), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Errno(rawValue: errno) }
        defer { Glibc.close(fd) }
        let bytes = Array(contents.utf8)
        guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count,
            fchmod(fd, mode) == 0
        else { throw Errno(rawValue: errno) }
    }

    /// Sets atime and mtime of `relative` (not following a final symlink).
    func setTimes(_ relative: String, seconds: Int) throws {
        let times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
        guard utimensat(AT_FDCWD, url(relative), times, AT_SYMLINK_NOFOLLOW) == 0 else { throw Errno(rawValue: errno) }
    }

    func mkdir(_ relative: String, mode: mode_t = 0o755) throws {
        guard Glibc.mkdir(url(relative), mode) == 0, chmod(url(relative), mode) == 0 else { throw Errno(rawValue: errno) }
    }

    func symlink(_ relative: String, to target: String) throws {
        guard Glibc.symlink(target, url(relative)) == 0 else { throw Errno(rawValue: errno) }
    }

    func read(_ relative: String) -> String? {
        FileManager.default.contents(atPath: url(relative)).map { String(decoding: $0, as: UTF8.self) }
    }

    func exists(_ relative: String) -> Bool {
        var st = stat()
        return lstat(url(relative), &st) == 0
    }
}

/// A GoferServer serving a directory to one in-process client over a socketpair.
final class GoferHarness {
    let server: GoferServer
    let communicator: Communicator

    init(root: String, options: GoferServerOptions = .init()) throws {
        server = try GoferServer(rootPath: root, options: options)
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw Errno(rawValue: errno)
        }
        server.serveInBackground(socket: pair[1])
        communicator = Communicator(socket: FileDescriptor(rawValue: pair[0]))
    }

    deinit { communicator.close() }

    /// One typed RPC.
    func call<R: RequestMessage>(_ request: R) throws(Errno) -> RPCResult<R.Response> {
        try communicator.call(request)
    }

    /// Mount; returns the root inode.
    @discardableResult
    func mount() throws(Errno) -> MountResponse { try call(MountRequest()).response }

    /// Sends raw payload bytes under any MID and returns the raw answer.
    func raw(_ mid: UInt16, _ payload: [UInt8]) throws(Errno) -> ReceivedFrame {
        try communicator.sendFrame(rawMessageID: mid, payload: payload)
        return try communicator.receiveFrame(maxFDs: 4)
    }

    /// The errno of an Error answer to raw bytes (nil when the answer is not an Error).
    func rawErrno(_ mid: UInt16, _ payload: [UInt8]) throws(Errno) -> Errno? {
        let frame = try raw(mid, payload)
        guard frame.header.rawMessageID == 0 else { return nil }
        return try ErrorResponse.decode(frame.payload).error
    }

    /// Walks `names` from `dir` and returns the response.
    func walk(_ dir: FDID, _ names: [String]) throws(Errno) -> WalkResponse {
        try call(WalkRequest(dirFD: dir, path: names.map { SizedString($0) })).response
    }
}

/// Little-endian payload bytes for hand-built (hostile) requests.
struct Bytes {
    var bytes: [UInt8] = []
    mutating func u16(_ v: UInt16) { for i in 0..<2 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    mutating func string(_ s: [UInt8]) { u16(UInt16(s.count)); bytes += s }
}

import FuzzSupport
import GoferServer
import LISAFS
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

// libFuzzer entry point for the gofer *server*: a hostile client on the LISAFS socket. Built
// with `-sanitize=fuzzer,address` (main.swift starts libFuzzer's driver); run by
// `Fuzz/run-gofer-server-fuzz`.
//
// An input is the byte stream a client writes: any number of frames (8-byte header, payload),
// cut anywhere. For every input a fresh connection is served by a real `GoferServer` (the same
// code `vfs gofer` runs, minus the confinement, which a fuzzing process cannot undo between
// runs) over a socketpair, on a thread joined before the input returns (`ServedConnection`):
// the input is written, the write side is shut down, and the responses are read until the
// server closes the socket. The server must answer every frame
// or close the connection, and must never trap, leak (LeakSanitizer runs at exit) or hang
// (libFuzzer's -timeout).
//
// The served directory is FuzzSupport's `ServedTree`: a small scratch tree under /dev/shm,
// rebuilt with a fresh server every 512 inputs so that whatever earlier inputs created cannot
// grow without bound.
// The seeds are the request half of the golden conversation recorded between gVisor's client
// and fsgofer (run-gofer-server-fuzz extracts them), so mutations start from a session that
// mounts, walks, opens, reads and writes for real.
//
// Host unix sockets are off (`hostUnixSockets: false`): a fuzzed BindAt would otherwise leave
// listening sockets behind that no later run cleans up; those handlers are covered by
// GoferServerTests instead. Channels are refused (ENOSYS): each would cost a memory window and
// a thread per input; `run-gofer-channel-fuzz` fuzzes that path.

let servedTree = ServedTree(name: "gofer-fuzz", channels: false)

@_cdecl("LLVMFuzzerTestOneInput")
public func goferServerFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0, let server = servedTree.current() else { return 0 }
    var pair: [Int32] = [-1, -1]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
        return 0
    }
    let served = ServedConnection(server, socket: pair[1])
    let client = FileDescriptor(rawValue: pair[0])
    // Inputs are at most -max_len bytes (8 KiB), far below the socket buffer: one write does.
    _ = try? client.writeAll(UnsafeRawBufferPointer(start: data, count: size))
    shutdown(pair[0], Int32(SHUT_WR))
    drainUntilClosed(pair[0])
    _ = try? client.close()
    served.join()
    return 0
}

/// Reads (and drops, closing any donated fds) until the server closes its end.
func drainUntilClosed(_ socket: Int32) {
    var buffer = [UInt8](repeating: 0, count: 65536)
    var control = [UInt8](repeating: 0, count: 512)
    while true {
        let received = buffer.withUnsafeMutableBytes { bytes in
            control.withUnsafeMutableBytes { controlBytes in
                var vector = iovec(iov_base: bytes.baseAddress, iov_len: bytes.count)
                return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                    var message = msghdr()
                    message.msg_iov = vectorPointer
                    message.msg_iovlen = 1
                    message.msg_control = controlBytes.baseAddress
                    message.msg_controllen = controlBytes.count
                    let count = recvmsg(socket, &message, Int32(MSG_CMSG_CLOEXEC))
                    closeDonatedDescriptors(message)
                    return count
                }
            }
        }
        if received > 0 { continue }
        if received < 0 && errno == EINTR { continue }
        return
    }
}

/// Closes the fds an SCM_RIGHTS control message carried, so long runs do not run out.
func closeDonatedDescriptors(_ message: msghdr) {
    guard let control = message.msg_control, message.msg_controllen >= MemoryLayout<cmsghdr>.size else { return }
    let header = control.load(as: cmsghdr.self)
    guard header.cmsg_level == SOL_SOCKET, header.cmsg_type == Int32(SCM_RIGHTS),
        header.cmsg_len <= message.msg_controllen
    else { return }
    let headerSize = (MemoryLayout<cmsghdr>.size + 7) & ~7
    guard header.cmsg_len >= headerSize else { return }
    let count = (header.cmsg_len - headerSize) / MemoryLayout<Int32>.size
    for index in 0..<count {
        Glibc.close(control.load(fromByteOffset: headerSize + index * 4, as: Int32.self))
    }
}

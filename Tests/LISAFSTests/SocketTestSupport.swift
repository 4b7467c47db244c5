import Foundation
import LISAFS
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// An AF_UNIX SOCK_STREAM socketpair for communicator tests.
func makeSocketPair() throws -> (FileDescriptor, FileDescriptor) {
    var pair: [Int32] = [-1, -1]
    guard
        socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair)
            == 0
    else { throw Errno(rawValue: errno) }
    return (FileDescriptor(rawValue: pair[0]), FileDescriptor(rawValue: pair[1]))
}

/// A pipe (read end, write end).
func makePipe() throws -> (FileDescriptor, FileDescriptor) {
    var pair: [Int32] = [-1, -1]
    guard pipe(&pair) == 0 else { throw Errno(rawValue: errno) }
    return (FileDescriptor(rawValue: pair[0]), FileDescriptor(rawValue: pair[1]))
}

/// Writes raw bytes to a socket (for frames a well-behaved communicator would never send).
func writeRaw(_ fd: FileDescriptor, _ bytes: [UInt8]) throws {
    var written = 0
    while written < bytes.count {
        written += try bytes[written...].withUnsafeBytes { try fd.write($0) }
    }
}

/// Whether a pipe's read end is at EOF, i.e. every copy of its write end is closed. Never
/// blocks: the read end is made non-blocking, so a leaked write end shows up as `false`.
func pipeIsAtEOF(_ readEnd: FileDescriptor) throws -> Bool {
    _ = fcntl(readEnd.rawValue, F_SETFL, fcntl(readEnd.rawValue, F_GETFL) | O_NONBLOCK)
    var buffer: [UInt8] = [0]
    do {
        return try buffer.withUnsafeMutableBytes { try readEnd.read(into: $0) } == 0
    } catch Errno.resourceTemporarilyUnavailable {
        return false
    }
}

/// Runs `body` on its own thread (not the cooperative pool: the body blocks in syscalls) and
/// lets the caller wait for it.
final class BackgroundThread: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () -> Void) {
        let thread = Thread { [done] in
            body()
            done.signal()
        }
        thread.start()
    }

    func join() { done.wait() }
}

/// A value shared with a background thread.
final class Box<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

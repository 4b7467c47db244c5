// Owned host file descriptors and the few host calls the handlers make, each returning the
// errno Linux gave. Every path-taking call here is relative to a directory fd and takes one
// already-validated name (never a path), with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW: the server
// never resolves a host symlink. Operations on an O_PATH control fd that Linux refuses on
// O_PATH (open with new flags, ftruncate through a writable reopen, xattrs) go through the
// fd's /proc/self/fd/N magic link, relative to a /proc/self/fd directory fd opened before
// confinement — the link names the open file itself, so no path is resolved again.
import CGoferSupport
import Glibc
import LISAFS
import SystemPackage

/// One host file descriptor, closed when the last reference goes away.
final class HostFD: @unchecked Sendable {
    let raw: Int32
    init(_ raw: Int32) { self.raw = raw }
    deinit { Glibc.close(raw) }

    /// The fd's name under /proc/self/fd.
    var procName: String { String(raw) }
}

/// A file name as raw bytes (host names need not be UTF-8), NUL-terminated for the kernel.
final class HostName: @unchecked Sendable {
    let bytes: [UInt8]
    private let storage: UnsafeMutablePointer<CChar>

    init(bytes: [UInt8]) {
        self.bytes = bytes
        storage = .allocate(capacity: bytes.count + 1)
        for (index, byte) in bytes.enumerated() { storage[index] = CChar(bitPattern: byte) }
        storage[bytes.count] = 0
    }

    deinit { storage.deallocate() }

    static let empty = HostName(bytes: [])

    /// `body` gets the NUL-terminated name, valid for the call.
    func withCString<R>(_ body: (UnsafePointer<CChar>) -> R) -> R {
        withExtendedLifetime(self) { body(storage) }
    }
}

/// Linux constants Glibc's Swift module leaves out (they need _GNU_SOURCE).
let AT_EMPTY_PATH: Int32 = 0x1000
let O_PATH: Int32 = 0o10000000
let UTIME_OMIT: Int = (1 << 30) - 2

enum Host {
    static func check(_ result: Int32) throws(Errno) -> Int32 {
        if result < 0 { throw Errno(rawValue: errno) }
        return result
    }

    static func checkNegated(_ result: Int) throws(Errno) -> Int {
        if result < 0 { throw Errno(rawValue: Int32(truncatingIfNeeded: -result)) }
        return result
    }

    /// openat(dir, name, flags | O_CLOEXEC | O_NOFOLLOW, mode).
    static func openAt(_ dir: Int32, _ name: HostName, _ flags: Int32, mode: mode_t = 0) throws(Errno) -> HostFD {
        HostFD(try check(name.withCString { Glibc.openat(dir, $0, flags | O_CLOEXEC | O_NOFOLLOW, mode) }))
    }

    /// Reopens `fd` with new flags through its /proc/self/fd magic link.
    static func reopen(_ fd: HostFD, procSelfFD: Int32, flags: Int32) throws(Errno) -> HostFD {
        HostFD(try check(Glibc.openat(procSelfFD, fd.procName, (flags | O_CLOEXEC) & ~O_NOFOLLOW)))
    }

    /// statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW).
    static func statx(_ fd: Int32) throws(Errno) -> LISAFSStatx {
        try statx(fd, .empty, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)
    }

    /// statx(2) as LISAFS's Statx. The C side copies the kernel's struct statx, whose first
    /// 144 bytes are that layout, with attributes and reserved fields zeroed (as fsgofer
    /// sends them); LISAFS's decoder reads it.
    static func statx(_ dir: Int32, _ name: HostName, _ flags: Int32) throws(Errno) -> LISAFSStatx {
        var out = [UInt8](repeating: 0, count: LISAFSStatx.wireSize)
        let result = out.withUnsafeMutableBufferPointer { buffer in
            name.withCString { gofer_statx_wire(dir, $0, flags, buffer.baseAddress) }
        }
        _ = try checkNegated(Int(result))
        var reader = WireReader(out)
        return try LISAFSStatx(from: &reader)
    }

    static func dup(_ fd: HostFD) throws(Errno) -> HostFD {
        HostFD(try check(Glibc.fcntl(fd.raw, F_DUPFD_CLOEXEC, 0)))
    }
}

/// S_IFMT values as the 16-bit mode carries them.
enum FileType: UInt16 {
    case fifo = 0o010000, characterDevice = 0o020000, directory = 0o040000, blockDevice = 0o060000
    case regular = 0o100000, symlink = 0o120000, socket = 0o140000

    static func of(mode: UInt16) -> FileType? { FileType(rawValue: mode & 0o170000) }
}

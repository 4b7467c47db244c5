import HostSyscalls
import Synchronization
import VFSCore

/// A FIFO of a host directory as the sandbox sees it: the sandbox's own pipe (`VFSCore.Pipe`,
/// kept for the file system's life, so sandbox readers and writers meet each other and never a
/// host process), and, while any sandbox end is open, the host FIFO itself held open, which
/// carries a copy of every byte the sandbox pipe carries. The copy is there only for the
/// times: a write that moves data through the host FIFO is `pipe_write` stamping mtime and
/// ctime, a read that returns data is `pipe_read`'s `file_accessed` stamping atime alone — the
/// host kernel stamps the inode exactly as Linux does, where a utimensat would also move ctime.
///
/// Lock order: `channel` is a leaf; no host call is made while holding it.
final class HostFifo: Sendable {
    let pipe = Pipe()
    private let channel = Mutex<WeakChannel>(WeakChannel())

    private struct WeakChannel {
        weak var value: HostFifoChannel?
    }

    /// The host FIFO held open for the open ends: the one already open, or a new one. It
    /// closes with the last end that uses it, which frees the host pipe's buffer just as the
    /// sandbox pipe drops its own (`Pipe.close`).
    func attach(_ dentry: HostDentry) throws(Errno) -> HostFifoChannel {
        if let open = channel.withLock({ $0.value }) { return open }
        let made = try HostFifoChannel(dentry, capacity: pipe.capacity)
        return channel.withLock { slot in
            if let open = slot.value { return open }
            slot.value = made
            return made
        }
    }
}

/// Two host fds on one host FIFO, both non-blocking: `stamping` (O_RDWR, so opening never
/// waits and writing never meets EPIPE) and `quiet` (O_RDONLY|O_NOATIME, for reads that must
/// leave atime alone: an O_NOATIME description or a noatime mount). The host pipe is made
/// larger than the sandbox pipe so that what the sandbox holds always fits in it whatever the
/// write sizes (Linux packs a pipe's bytes into pages, not always full ones).
final class HostFifoChannel: Sendable {
    let stamping: HostFD
    let quiet: HostFD

    init(_ dentry: HostDentry, capacity: Int) throws(Errno) {
        stamping = try HostSyscall.reopen(
            dentry.fd, flags: HostOpenFlags.readWrite | HostOpenFlags.nonBlocking)
        quiet = try HostSyscall.reopen(
            dentry.fd,
            flags: HostOpenFlags.readOnly | HostOpenFlags.nonBlocking | HostOpenFlags.noAccessTime)
        _ = try? HostSyscall.fcntl(stamping.rawValue, 1031, 4 * capacity)  // F_SETPIPE_SZ
    }

    /// Copies what the sandbox just wrote into the host FIFO (best effort: a host process
    /// that reads the FIFO takes bytes away, and then a stamp may be missed).
    func wrote(_ bytes: UnsafeRawBufferPointer) {
        var done = 0
        while done < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[done...])
            guard let count = try? HostSyscall.write(stamping.rawValue, from: rest), count > 0
            else { return }
            done += count
        }
    }

    /// Takes as many bytes out of the host FIFO as the sandbox just read.
    func read(_ count: Int, quietly: Bool) {
        let fd = quietly ? quiet.rawValue : stamping.rawValue
        var scratch = [UInt8](repeating: 0, count: min(count, 16384))
        var left = count
        while left > 0 {
            let step = min(left, scratch.count)
            let got = scratch.withUnsafeMutableBytes { buffer in
                try? HostSyscall.read(
                    fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<step]))
            }
            guard let got, got > 0 else { return }
            left -= got
        }
    }
}

/// An open host FIFO's timestamps: the bytes the sandbox moves go through the real host FIFO
/// too (`HostFifoChannel`), so the host kernel stamps it. atime follows the host mount's rule
/// (relatime unless it says otherwise); a sandbox mount's noatime, or O_NOATIME from open or
/// F_SETFL, reads through the quiet fd. (A sandbox mount's strictatime cannot make the host
/// stamp more often than its own mount allows.) The open FIFO is VFSCore's `FifoFile`.
struct HostFifoEvents: FifoInodeEvents {
    let channel: HostFifoChannel
    let mount: Mount

    func dataRead(_ count: Int, noAccessTime: Bool) {
        channel.read(count, quietly: noAccessTime || mount.flags.contains(.noAccessTime))
    }

    func dataWritten(_ bytes: UnsafeRawBufferPointer) {
        channel.wrote(bytes)
    }
}

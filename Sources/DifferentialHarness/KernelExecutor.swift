import CLinuxSupport
import Glibc

/// Runs operations against the Linux kernel with raw syscalls (`vfs_raw_syscall6`, so every
/// result is the kernel's own, with no libc wrapper in between), one syscall per operation,
/// the same syscall the VFS side calls on its `Task`.
///
/// It acts on the *process's* root and cwd, so it only ever runs inside the chrooted child
/// that `vfs kernel-exec` starts (`runKernelExecServer`); never in a test process, where a
/// path like "/etc" or a symlink to ".." would reach the host. `SubprocessKernelExecutor` is
/// the parent's side.
final class KernelExecutor {
    private var slots: [Int: Int32] = [:]
    private var times = TimeTracker()
    /// st_dev of the scratch directory: the host's /dev/shm.
    private let hostDevice: UInt64
    /// Whether a chroot step has succeeded.
    private var chrooted = false

    /// Made after the chroot: "/" is the scratch directory.
    init() {
        var info = Glibc.stat()
        hostDevice = stat("/", &info) == 0 ? UInt64(info.st_dev) : UInt64.max
    }

    /// Whether `path` names the root of a mount of the host's /dev/shm (statx's
    /// STATX_ATTR_MOUNT_ROOT on st_dev `hostDevice`).
    private func isHostMountRoot(_ path: String, follow: Bool) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 256)
        let result = buffer.withUnsafeMutableBytes { out in
            path.withCString {
                sys(
                    332, Int(AT_FDCWD), address($0), follow ? 0 : 0x100, 0x7FF,
                    address(out.baseAddress))
            }
        }
        guard result == 0 else { return false }
        func u32(_ offset: Int) -> UInt32 {
            (0..<4).reduce(UInt32(0)) { $0 | UInt32(buffer[offset + $1]) << (8 * UInt32($1)) }
        }
        let attributes = (0..<8).reduce(UInt64(0)) {
            $0 | UInt64(buffer[8 + $1]) << (8 * UInt64($1))
        }
        // glibc's makedev.
        let major = UInt64(u32(136))
        let minor = UInt64(u32(140))
        let device =
            (major & 0xFFFF_F000) << 32 | (major & 0xFFF) << 8 | (minor & 0xFFFF_FF00) << 12
            | (minor & 0xFF)
        return attributes & 0x2000 != 0 && device == hostDevice
    }

    func run(_ operation: Operation) -> Outcome {
        switch operation {
        case .mkdir(let l, let mode):
            return at(l) { sys(258, $0, $1, Int(mode)) }
        case .mknod(let l, let mode):
            return at(l) { sys(259, $0, $1, Int(mode), 0) }
        case .symlink(let target, let l):
            let t = target
            return t.withCString { pointer in at(l) { sys(266, address(pointer), $0, $1) } }
        case .link(let a, let b, let flags):
            return within(a) { da, pa in at(b) { db, pb in sys(265, da, pa, db, pb, Int(flags)) } }
        case .unlink(let l, let flags):
            return at(l) { sys(263, $0, $1, Int(flags)) }
        case .rmdir(let p):
            return p.withCString { done(sys(84, address($0))) }
        case .rename(let a, let b, let flags):
            return within(a) { da, pa in at(b) { db, pb in sys(316, da, pa, db, pb, Int(flags)) } }

        case .open(let l, let flags, let mode, let slot):
            let result = atRaw(l) { sys(257, $0, $1, Int(flags), Int(mode)) }
            return descriptor(result, into: slot)
        case .close(let slot):
            let result = sys(3, fd(slot))
            slots[slot] = nil
            return done(result)
        case .dup(let slot, let into):
            return descriptor(sys(32, fd(slot)), into: into)
        case .dup2(let slot, let onto):
            return descriptor(sys(33, fd(slot), fd(onto)), into: onto)
        case .fcntl(let slot, let command, let argument):
            return value(sys(72, fd(slot), Int(command), Int(argument)))

        case .read(let slot, let count):
            return readInto(count) { sys(0, fd(slot), $0, $1) }
        case .write(let slot, let data):
            return data.withUnsafeBytes {
                value(sys(1, fd(slot), address($0.baseAddress), $0.count))
            }
        case .pread(let slot, let count, let offset):
            return readInto(count) { sys(17, fd(slot), $0, $1, Int(offset)) }
        case .pwrite(let slot, let data, let offset):
            return data.withUnsafeBytes {
                value(sys(18, fd(slot), address($0.baseAddress), $0.count, Int(offset)))
            }
        case .lseek(let slot, let offset, let whence):
            return value(sys(8, fd(slot), Int(offset), Int(whence)))
        case .ftruncate(let slot, let length):
            return done(sys(77, fd(slot), Int(length)))
        case .truncate(let p, let length):
            return p.withCString { done(sys(76, address($0), Int(length))) }
        case .fallocate(let slot, let mode, let offset, let length):
            return done(sys(285, fd(slot), Int(mode), Int(offset), Int(length)))
        case .getdents(let slot):
            return listDirectory(fd(slot))

        case .stat(let l, let flags):
            var info = Glibc.stat()
            let result = withUnsafeMutablePointer(to: &info) { p in
                atRaw(l) { sys(262, $0, $1, address(p), Int(flags)) }
            }
            return result < 0 ? .failure(errno: Int32(-result)) : .stat(record(info))
        case .fstat(let slot):
            var info = Glibc.stat()
            let result = withUnsafeMutablePointer(to: &info) { sys(5, fd(slot), address($0)) }
            return result < 0 ? .failure(errno: Int32(-result)) : .stat(record(info))
        case .access(let l, let mode, let flags):
            return at(l) { sys(439, $0, $1, Int(mode), Int(flags)) }
        case .readlink(let l, let size):
            return readInto(size) { buffer, count in atRaw(l) { sys(267, $0, $1, buffer, count) } }
        case .chmod(let l, let mode, let flags):
            return flags == 0
                ? at(l) { sys(268, $0, $1, Int(mode)) }
                : at(l) { sys(452, $0, $1, Int(mode), Int(flags)) }
        case .fchmod(let slot, let mode):
            return done(sys(91, fd(slot), Int(mode)))
        case .chown(let l, let uid, let gid, let flags):
            return at(l) { sys(260, $0, $1, Int(uid), Int(gid), Int(flags)) }
        case .fchown(let slot, let uid, let gid):
            return done(sys(93, fd(slot), Int(uid), Int(gid)))
        case .utimens(let l, let access, let modification, let flags):
            var times = [
                KernelExecutor.timespecValue(access), KernelExecutor.timespecValue(modification),
            ]
            return times.withUnsafeMutableBufferPointer { buffer in
                at(l) { sys(280, $0, $1, address(buffer.baseAddress), Int(flags)) }
            }

        case .setxattr(let p, let name, let value, let flags, let follow):
            return p.withCString { path in
                name.withCString { key in
                    value.withUnsafeBytes {
                        done(
                            sys(
                                follow ? 188 : 189, address(path), address(key),
                                address($0.baseAddress), $0.count, Int(flags)))
                    }
                }
            }
        case .getxattr(let p, let name, let size, let follow):
            return p.withCString { path in
                name.withCString { key in
                    readInto(size, sizeQuery: true) {
                        sys(follow ? 191 : 192, address(path), address(key), $0, $1)
                    }
                }
            }
        case .listxattr(let p, let size, let follow):
            let outcome = p.withCString { path in
                readInto(size, sizeQuery: true) { sys(follow ? 194 : 195, address(path), $0, $1) }
            }
            if case .bytes(let list) = outcome { return .names(KernelExecutor.splitNames(list)) }
            return outcome
        case .removexattr(let p, let name, let follow):
            return p.withCString { path in
                name.withCString { done(sys(follow ? 197 : 198, address(path), address($0))) }
            }

        case .chdir(let p):
            return p.withCString { done(sys(80, address($0))) }
        case .fchdir(let slot):
            return done(sys(81, fd(slot)))
        case .umask(let mask):
            return value(sys(95, Int(mask)))
        case .become(let identity):
            return KernelExecutor.become(identity)

        case .statx(let l, let flags, let mask):
            var buffer = [UInt8](repeating: 0, count: 256)
            let result = buffer.withUnsafeMutableBytes { out in
                atRaw(l) { sys(332, $0, $1, Int(flags), Int(mask), address(out.baseAddress)) }
            }
            return result < 0
                ? .failure(errno: Int32(-result)) : .statx(KernelExecutor.statxRecord(buffer))
        case .openat2(let l, let how, let slot):
            guard how.size <= 1 << 16 else { return .unsupported("open_how size \(how.size)") }
            let result = how.bytes.withUnsafeBytes { bytes in
                atRaw(l) { sys(437, $0, $1, address(bytes.baseAddress), how.size) }
            }
            return descriptor(result, into: slot)
        case .readv(let slot, let lengths, let call):
            guard lengths.allSatisfy({ $0 >= 0 && $0 <= 1 << 20 }) else {
                return .unsupported("iovec lengths")
            }
            var buffers = lengths.map { [UInt8](repeating: 0, count: max($0, 1)) }
            var vectors: [iovec] = []
            for index in buffers.indices {
                buffers[index].withUnsafeMutableBytes {
                    vectors.append(iovec(iov_base: $0.baseAddress, iov_len: lengths[index]))
                }
            }
            // The arrays are not touched again until the call returns, so the base addresses
            // taken above stay valid (no copy-on-write happens in between).
            let result = withExtendedLifetime(buffers) {
                vectors.withUnsafeBufferPointer {
                    vectored(fd(slot), address($0.baseAddress), $0.count, call, reading: true)
                }
            }
            if result < 0 { return .failure(errno: Int32(-result)) }
            var bytes: [UInt8] = []
            var remaining = result
            for (index, length) in lengths.enumerated() where remaining > 0 {
                let take = min(length, remaining)
                bytes += buffers[index][..<take]
                remaining -= take
            }
            return .bytes(bytes)
        case .writev(let slot, let chunks, let call):
            let buffers = chunks.map { $0.isEmpty ? [UInt8(0)] : $0 }
            var vectors: [iovec] = []
            for (index, buffer) in buffers.enumerated() {
                buffer.withUnsafeBytes {
                    vectors.append(
                        iovec(
                            iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress),
                            iov_len: chunks[index].count))
                }
            }
            let result = withExtendedLifetime(buffers) {
                vectors.withUnsafeBufferPointer {
                    vectored(fd(slot), address($0.baseAddress), $0.count, call, reading: false)
                }
            }
            return value(result)
        case .getcwd(let size):
            guard size >= 0, size <= 1 << 16 else { return .unsupported("size \(size)") }
            var buffer = [UInt8](repeating: 0, count: max(size, 1))
            let result = buffer.withUnsafeMutableBytes { sys(79, address($0.baseAddress), size) }
            return result < 0
                ? .failure(errno: Int32(-result)) : .bytes(Array(buffer[..<min(result, size)]))
        case .chroot(let p):
            let outcome = p.withCString { done(sys(161, address($0))) }
            if outcome == .done { chrooted = true }
            return outcome
        case .mount(let source, let target, let fstype, let flags, let data):
            // MS_REMOUNT without MS_BIND reconfigures a superblock: on a mount root of the
            // host's /dev/shm (a bind mount of part of the scratch tree) that would change
            // /dev/shm for everyone.
            if flags & 0x20 != 0 && flags & 0x1000 == 0 && isHostMountRoot(target, follow: true) {
                return .unsupported("remounting a bind mount of the host's /dev/shm")
            }
            return KernelExecutor.withOptionalCString(source) { s in
                KernelExecutor.withOptionalCString(fstype) { t in
                    KernelExecutor.withOptionalCString(data) { d in
                        target.withCString { done(sys(165, s, address($0), t, Int(flags), d)) }
                    }
                }
            }
        case .umount(let p, let flags):
            // umount2 of the root mount without MNT_DETACH remounts its superblock read-only
            // (do_umount): after a chroot into a bind mount of the scratch tree, that would
            // be the host's /dev/shm.
            if flags & 2 == 0 && chrooted && isHostMountRoot(p, follow: flags & 8 == 0) {
                return .unsupported("unmounting a bind mount of the host's /dev/shm after chroot")
            }
            return p.withCString { done(sys(166, address($0), Int(flags))) }
        case .lock(let slot, let command, let request):
            var lock = flock()
            lock.l_type = request.type
            lock.l_whence = request.whence
            lock.l_start = Int(request.start)
            lock.l_len = Int(request.length)
            lock.l_pid = request.pid
            let result = withUnsafeMutablePointer(to: &lock) {
                sys(72, fd(slot), Int(command), address($0))
            }
            if result < 0 { return .failure(errno: Int32(-result)) }
            guard command == 5 || command == 36 else { return .done }  // F_GETLK, F_OFD_GETLK
            return .lock(
                LockRecord(
                    type: lock.l_type, whence: lock.l_whence, start: Int64(lock.l_start),
                    length: Int64(lock.l_len),
                    pid: lock.l_type != 2 && lock.l_pid == getpid() ? 0 : lock.l_pid))
        case .flock(let slot, let operation):
            return done(sys(73, fd(slot), Int(operation)))
        case .pipe2(let flags, let read, let write):
            var ends: [Int32] = [-1, -1]
            let result = ends.withUnsafeMutableBufferPointer {
                sys(293, address($0.baseAddress), Int(flags))
            }
            if result < 0 { return .failure(errno: Int32(-result)) }
            slots[read] = ends[0]
            slots[write] = ends[1]
            return .descriptors(ends)
        case .memfd(let name, let count, let flags, let slot):
            guard count >= 0, count <= 4096 else { return .unsupported("name repeat \(count)") }
            let full = String(repeating: name, count: count)
            return descriptor(full.withCString { sys(319, address($0), Int(flags)) }, into: slot)
        case .closeRange(let first, let last, let flags):
            // CLOSE_RANGE_CLOEXEC = 4
            if first < 3 && flags & 4 == 0 && first <= last {
                return .unsupported("close_range from \(first) would close the child's stdio")
            }
            let result = sys(436, Int(first), Int(last), Int(flags))
            if result == 0 && flags & 4 == 0 {
                for (slot, number) in slots
                where UInt32(number) >= first && UInt32(number) <= last {
                    slots[slot] = nil
                }
            }
            return done(result)
        case .dup3(let slot, let onto, let flags):
            return descriptor(sys(292, fd(slot), fd(onto), Int(flags)), into: onto)
        case .mknodDevice(let l, let mode, let device):
            return at(l) { sys(259, $0, $1, Int(mode), Int(device)) }
        }
    }

    /// readv, writev, preadv, pwritev, preadv2 or pwritev2 over `count` iovecs at `vectors`.
    private func vectored(
        _ fd: Int, _ vectors: Int, _ count: Int, _ call: VectorCall, reading: Bool
    ) -> Int {
        switch call {
        case .plain:
            return sys(reading ? 19 : 20, fd, vectors, count)
        case .positioned(let offset):
            // pos_l, pos_h: on x86-64 the offset is pos_l whole.
            return sys(reading ? 295 : 296, fd, vectors, count, Int(offset), 0)
        case .flagged(let offset, let flags):
            return vfs_raw_syscall6(
                reading ? 327 : 328, fd, vectors, count, Int(offset), 0, Int(flags))
        }
    }

    private static func withOptionalCString(_ text: String?, _ body: (Int) -> Outcome) -> Outcome {
        guard let text else { return body(0) }
        return text.withCString { body(address($0)) }
    }

    /// `struct statx` (see `LinuxStatx` for the offsets).
    static func statxRecord(_ bytes: [UInt8]) -> StatxRecord {
        func u(_ offset: Int, _ width: Int) -> UInt64 {
            (0..<width).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
        }
        func nonZero(_ offset: Int) -> Bool { u(offset, 8) != 0 || u(offset + 8, 4) != 0 }
        let mode = UInt16(truncatingIfNeeded: u(28, 2))
        return StatxRecord(
            mask: UInt32(u(0, 4)), attributes: u(8, 8), blockSize: UInt32(u(4, 4)), mode: mode,
            nlink: UInt32(u(16, 4)), uid: UInt32(u(20, 4)), gid: UInt32(u(24, 4)), size: u(40, 8),
            blocks: UInt32(mode) & 0o170000 == 0o100000 ? u(48, 8) : nil,
            rdevMajor: UInt32(u(128, 4)), rdevMinor: UInt32(u(132, 4)),
            hasBirthTime: nonZero(80), hasModificationTime: nonZero(112),
            hasChangeTime: nonZero(96))
    }

    // MARK: - Helpers

    private func fd(_ slot: Int) -> Int { Int(slots[slot] ?? Operation.closedDescriptor(slot)) }

    private func dirfd(_ location: Location) -> Int {
        location.base.map { fd($0) } ?? Int(AT_FDCWD)
    }

    private func atRaw(_ location: Location, _ body: (Int, Int) -> Int) -> Int {
        let base = dirfd(location)
        return location.path.withCString { body(base, address($0)) }
    }

    private func at(_ location: Location, _ body: (Int, Int) -> Int) -> Outcome {
        done(atRaw(location, body))
    }

    private func within(_ location: Location, _ body: (Int, Int) -> Outcome) -> Outcome {
        let base = dirfd(location)
        return location.path.withCString { body(base, address($0)) }
    }

    private func done(_ result: Int) -> Outcome {
        result < 0 ? .failure(errno: Int32(-result)) : .done
    }

    private func value(_ result: Int) -> Outcome {
        result < 0 ? .failure(errno: Int32(-result)) : .value(Int64(result))
    }

    private func descriptor(_ result: Int, into slot: Int) -> Outcome {
        guard result >= 0 else { return .failure(errno: Int32(-result)) }
        slots[slot] = Int32(result)
        return .descriptor(Int32(result))
    }

    /// Calls `body(buffer address, count)`; bytes back, or (with `sizeQuery` and a zero
    /// count) the size the call reports.
    private func readInto(_ count: Int, sizeQuery: Bool = false, _ body: (Int, Int) -> Int)
        -> Outcome
    {
        guard count >= 0, count <= 1 << 20 else { return .unsupported("count \(count)") }
        var buffer = [UInt8](repeating: 0, count: max(count, 1))
        let result = buffer.withUnsafeMutableBytes { body(address($0.baseAddress), count) }
        if result < 0 { return .failure(errno: Int32(-result)) }
        if sizeQuery && count == 0 { return .value(Int64(result)) }
        return .bytes(Array(buffer[..<min(result, count)]))
    }

    private func listDirectory(_ fd: Int) -> Outcome {
        var entries: [EntryRecord] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<10_000 {
            let count = buffer.withUnsafeMutableBytes {
                sys(217, fd, address($0.baseAddress), $0.count)
            }
            if count < 0 { return .failure(errno: Int32(-count)) }
            if count == 0 { return .entries(entries.sorted()) }
            entries += KernelExecutor.parseDirents(buffer[..<count])
        }
        return .unsupported("getdents64 never reached the end")
    }

    /// linux_dirent64: d_ino u64, d_off i64, d_reclen u16, d_type u8, d_name NUL-terminated.
    static func parseDirents(_ bytes: ArraySlice<UInt8>) -> [EntryRecord] {
        var entries: [EntryRecord] = []
        var at = bytes.startIndex
        while at + 19 <= bytes.endIndex {
            let length = Int(bytes[at + 16]) | Int(bytes[at + 17]) << 8
            guard length >= 19, at + length <= bytes.endIndex else { break }
            let type = bytes[at + 18]
            let name = bytes[(at + 19)..<(at + length)].prefix(while: { $0 != 0 })
            entries.append(EntryRecord(name: String(decoding: name, as: UTF8.self), type: type))
            at += length
        }
        return entries
    }

    static func splitNames(_ list: [UInt8]) -> [String] {
        list.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.sorted()
    }

    private static func timespecValue(_ time: TimeArgument) -> timespec {
        switch time {
        case .now: timespec(tv_sec: 0, tv_nsec: (1 << 30) - 1)
        case .omit: timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2)
        case .fixed(let seconds): timespec(tv_sec: Int(seconds), tv_nsec: 0)
        }
    }

    private func record(_ info: Glibc.stat) -> StatRecord {
        let isRegular = info.st_mode & S_IFMT == S_IFREG
        var result = StatRecord(
            mode: info.st_mode, nlink: UInt64(info.st_nlink), size: Int64(info.st_size),
            uid: info.st_uid, gid: info.st_gid, blocks: isRegular ? Int64(info.st_blocks) : nil)
        if info.st_mode & S_IFMT == S_IFCHR || info.st_mode & S_IFMT == S_IFBLK {
            result.rdev = UInt64(info.st_rdev)
        }
        let access = Stamp(info.st_atim)
        let modification = Stamp(info.st_mtim)
        let change = Stamp(info.st_ctim)
        let coarse = KernelExecutor.waitForCoarseClock(past: max(access, modification, change))
        times.mark(
            &result, device: UInt64(info.st_dev), inode: UInt64(info.st_ino), access: access,
            modification: modification, change: change, coarseNow: coarse)
        return result
    }

    /// Waits (a tick at most, 1 ms at a time) until CLOCK_REALTIME_COARSE is past `latest`,
    /// so that whatever changes the inode next, even with a coarse stamp, gets a new value.
    /// Gives up at once for a time more than a second ahead. Returns the clock.
    static func waitForCoarseClock(past latest: Stamp) -> Stamp {
        var now = timespec()
        for _ in 0..<100 {
            clock_gettime(CLOCK_REALTIME_COARSE, &now)
            let current = Stamp(now)
            if latest < current || latest.seconds > current.seconds + 1 { return current }
            var pause = timespec(tv_sec: 0, tv_nsec: 1_000_000)
            nanosleep(&pause, nil)
        }
        return Stamp(now)
    }

    /// setgroups + setresgid + setresuid through libc, so that every thread changes (the
    /// raw syscalls change only the calling one). The saved uid stays 0, so a later
    /// `become(root)` can return; while the effective uid is not 0 the effective capability
    /// set is empty, as for any unprivileged process.
    static func become(_ identity: Identity) -> Outcome {
        guard let calls = LibcIdentityCalls.shared else {
            return .unsupported("setresuid/setresgid/setgroups not found in libc")
        }
        // Back to euid 0 first (allowed: the saved uid is 0): changing groups needs it.
        if geteuid() != 0 && calls.setresuid(UInt32.max, 0, UInt32.max) != 0 {
            return .failure(errno: errno)
        }
        let groups = identity.groups.map { gid_t($0) }
        let grouped = groups.withUnsafeBufferPointer { calls.setgroups($0.count, $0.baseAddress) }
        guard grouped == 0 else { return .failure(errno: errno) }
        guard calls.setresgid(identity.gid, identity.gid, identity.gid) == 0 else {
            return .failure(errno: errno)
        }
        guard calls.setresuid(identity.uid, identity.uid, 0) == 0 else {
            return .failure(errno: errno)
        }
        return .done
    }
}

/// glibc's setresuid, setresgid and setgroups, looked up at run time: Swift's Glibc module
/// does not declare them (they need _GNU_SOURCE), and unlike the raw syscalls they change
/// the credentials of every thread of the process.
struct LibcIdentityCalls {
    typealias SetIDs = @convention(c) (UInt32, UInt32, UInt32) -> Int32
    typealias SetGroups = @convention(c) (Int, UnsafePointer<gid_t>?) -> Int32
    let setresuid: SetIDs
    let setresgid: SetIDs
    let setgroups: SetGroups

    nonisolated(unsafe) static let shared: LibcIdentityCalls? = {
        let handle = dlopen(nil, RTLD_NOW)
        guard let u = dlsym(handle, "setresuid"), let g = dlsym(handle, "setresgid"),
            let s = dlsym(handle, "setgroups")
        else { return nil }
        return LibcIdentityCalls(
            setresuid: unsafeBitCast(u, to: SetIDs.self),
            setresgid: unsafeBitCast(g, to: SetIDs.self),
            setgroups: unsafeBitCast(s, to: SetGroups.self))
    }()
}

extension Stamp {
    init(_ time: timespec) {
        self.init(seconds: Int64(time.tv_sec), nanoseconds: Int64(time.tv_nsec))
    }
}

/// A raw syscall; the result is the kernel's (-errno on failure).
@inline(__always)
func sys(_ number: Int, _ a0: Int = 0, _ a1: Int = 0, _ a2: Int = 0, _ a3: Int = 0, _ a4: Int = 0)
    -> Int
{
    vfs_raw_syscall6(number, a0, a1, a2, a3, a4, 0)
}

@inline(__always)
func address(_ pointer: UnsafeRawPointer?) -> Int { Int(bitPattern: pointer) }

@inline(__always)
func address<T>(_ pointer: UnsafePointer<T>?) -> Int { Int(bitPattern: pointer) }

@inline(__always)
func address<T>(_ pointer: UnsafeMutablePointer<T>?) -> Int { Int(bitPattern: pointer) }

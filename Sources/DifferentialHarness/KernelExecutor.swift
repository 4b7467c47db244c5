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

    init() {}

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
        }
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
        let access = Stamp(info.st_atim)
        let modification = Stamp(info.st_mtim)
        let change = Stamp(info.st_ctim)
        let coarse = KernelExecutor.waitForCoarseClock(past: max(access, modification, change))
        times.mark(
            &result, inode: UInt64(info.st_ino), access: access, modification: modification,
            change: change, coarseNow: coarse)
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

/// SplitMix64: a tiny, fast, well-mixed generator; a sequence is reproducible from its seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random operation sequences over a small pool of names, so that operations collide: the
/// same names as files and directories, symlinks in the middle of paths and pointing at each
/// other (loops included), trailing slashes, "." and ".." inside paths, descriptors used
/// after their file is renamed or removed. Because the kernel side is chrooted, paths may
/// also be absolute and climb above the top, and symlink targets may be absolute.
///
/// Generator limits, for what cannot be compared: every open and pipe carries O_NONBLOCK
/// (and F_SETFL keeps it) so that no FIFO open or read blocks; locks are only taken without
/// waiting (F_SETLK, F_OFD_SETLK, flock with LOCK_NB); utimensat uses UTIME_NOW, UTIME_OMIT
/// or a fixed moment, never the wall clock; no device nodes but whiteouts (opening a device
/// would reach a real driver); no chroot (a root above the working directory would let ".."
/// leave the scratch directory); mounts are fresh tmpfs ones, unmounted plainly or detached.
public struct SequenceGenerator {
    public var random: SplitMix64
    /// Identities `become` switches between; with fewer than two, no `become` is generated.
    public var identities: [Identity]

    static let names = ["a", "b", "c", "d"]

    public init(seed: UInt64, identities: [Identity] = []) {
        random = SplitMix64(seed: seed)
        self.identities = identities
    }

    /// `count` operations.
    public mutating func sequence(count: Int) -> [Operation] {
        var operations: [Operation] = []
        operations.reserveCapacity(count)
        for _ in 0..<count { operations.append(operation()) }
        return operations
    }

    // MARK: - Choices

    mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &random) }
    mutating func chance(_ percent: Int) -> Bool { int(0..<100) < percent }
    mutating func pick<T>(_ options: [T]) -> T { options[int(0..<options.count)] }

    mutating func weighted<T>(_ options: [(Int, T)]) -> T {
        let total = options.reduce(0) { $0 + $1.0 }
        var roll = int(0..<total)
        for (weight, value) in options {
            if roll < weight { return value }
            roll -= weight
        }
        return options[options.count - 1].1
    }

    mutating func slot() -> Int { int(0..<Operation.slotCount) }

    mutating func component() -> String {
        weighted([
            (40, pick(Self.names)), (3, "."), (4, ".."), (1, String(repeating: "n", count: 256)),
        ])
    }

    /// A path: one to three components, sometimes a trailing slash or "/.", rarely absolute
    /// or empty.
    mutating func path() -> String {
        if chance(1) { return "" }
        let depth = weighted([(45, 1), (35, 2), (20, 3)])
        var parts: [String] = []
        for index in 0..<depth {
            // The last component is a plain name most of the time.
            parts.append(index == depth - 1 && chance(85) ? pick(Self.names) : component())
        }
        var text = parts.joined(separator: "/")
        if chance(6) { text += "/" }
        if chance(2) { text += "/." }
        if chance(4) { text = "/" + text }
        return text
    }

    mutating func location() -> Location {
        chance(8) ? Location(path(), base: slot()) : Location(path())
    }

    mutating func target() -> String {
        weighted([
            (50, pick(Self.names)), (20, pick(Self.names) + "/" + pick(Self.names)),
            (8, ".."), (5, "."), (5, "../" + pick(Self.names)), (4, "/" + pick(Self.names)),
            (3, pick(Self.names) + "/"), (1, ""),
        ])
    }

    mutating func data() -> [UInt8] {
        let length = weighted([
            (50, int(1..<8)), (30, int(8..<40)), (10, 0), (10, int(4000..<5000)),
        ])
        let fill = pick(Array("xyzw".utf8))
        return (0..<length).map { fill &+ UInt8($0 % 3) }
    }

    mutating func offset() -> Int64 {
        weighted([
            (30, 0), (20, Int64(int(1..<20))), (10, 4095), (10, 4096), (10, 8195), (8, 70_000),
            (2, -1),
        ])
    }

    mutating func mode() -> UInt32 {
        weighted([
            (30, 0o755), (20, 0o644), (10, 0o700), (8, 0o777), (6, 0o600), (5, 0o000),
            (5, 0o1777), (5, 0o2775), (4, 0o4755), (3, 0o070), (3, 0o007), (2, 0o6777),
        ])
    }

    mutating func openFlags() -> Int32 {
        let access: Int32 = weighted([(35, 0), (25, 1), (40, 2)])
        var flags = access | 0o4000  // O_NONBLOCK, always
        if chance(45) { flags |= 0o100 }  // O_CREAT
        if chance(12) { flags |= 0o200 }  // O_EXCL
        if chance(12) { flags |= 0o1000 }  // O_TRUNC
        if chance(10) { flags |= 0o2000 }  // O_APPEND
        if chance(10) { flags |= 0o200000 }  // O_DIRECTORY
        if chance(8) { flags |= 0o400000 }  // O_NOFOLLOW
        if chance(5) { flags |= 0o10000000 }  // O_PATH
        if chance(3) { flags |= 0o1000000 }  // O_NOATIME
        if chance(5) { flags |= 0o2000000 }  // O_CLOEXEC
        if chance(2) {
            // O_TMPFILE (which includes O_DIRECTORY's bit), for writing.
            flags = (flags & ~0o200000) | 0o20200000 | (access == 0 ? 2 : 0)
        }
        return flags
    }

    mutating func id() -> UInt32 { pick([0, 1000, 1001, 2000, 2001, UInt32.max]) }

    mutating func time() -> TimeArgument {
        weighted([(45, .now), (40, .omit), (15, .fixed(seconds: 1_000_000_000))])
    }

    mutating func xattrName() -> String {
        weighted([
            (40, "user.a"), (25, "user.b"), (10, "trusted.t"), (5, "security.s"), (5, "bogus.x"),
            (3, "user."),
        ])
    }

    // MARK: - Operations

    public mutating func operation() -> Operation {
        let kinds: [(Int, Int)] = [
            (10, 0), (16, 1), (5, 2), (8, 3), (5, 4), (3, 5), (4, 6), (3, 7), (2, 8), (2, 9),
            (2, 10), (9, 11), (5, 12), (2, 13), (3, 14), (4, 15), (5, 16), (2, 17), (3, 18),
            (1, 19), (2, 20), (1, 21), (3, 22), (10, 23), (4, 24), (3, 25), (3, 26), (1, 27),
            (1, 28), (4, 29), (2, 30), (3, 31), (2, 32), (1, 33), (1, 34), (2, 35), (1, 36),
            (1, 37), (identities.count > 1 ? 3 : 0, 38), (3, 39), (3, 40), (3, 41), (3, 42),
            (1, 43), (3, 44), (2, 45), (1, 46), (1, 47), (1, 48), (1, 49), (1, 50), (1, 51),
        ]
        switch weighted(kinds) {
        case 0: return .mkdir(location(), mode: mode())
        case 1:
            let slot = slot()
            return .open(location(), flags: openFlags(), mode: mode(), slot: slot)
        case 2: return .close(slot: slot())
        case 3: return .write(slot: slot(), data: data())
        case 4: return .read(slot: slot(), count: pick([0, 3, 64, 5000]))
        case 5: return .pread(slot: slot(), count: pick([0, 3, 64, 5000]), offset: offset())
        case 6: return .pwrite(slot: slot(), data: data(), offset: offset())
        case 7:
            return .lseek(
                slot: slot(), offset: offset(),
                whence: weighted([(30, 0), (20, 1), (20, 2), (10, 3), (10, 4), (1, 7)]))
        case 8:
            return .ftruncate(
                slot: slot(),
                length: weighted([
                    (30, 0), (30, Int64(int(1..<20))), (20, 5000), (10, 70_000), (2, -1),
                ]))
        case 9:
            return .truncate(
                path(), length: weighted([(30, 0), (30, Int64(int(1..<20))), (20, 5000), (2, -1)]))
        case 10:
            return .fallocate(
                slot: slot(), mode: weighted([(40, 0), (25, 1), (25, 3), (5, 2), (5, 0x10)]),
                offset: weighted([(40, 0), (30, 4096), (20, Int64(int(1..<100))), (2, -1)]),
                length: weighted([(40, 4096), (30, Int64(int(1..<100))), (20, 10_000), (3, 0)]))
        case 11:
            return .rename(
                location(), location(),
                flags: weighted([(70, 0), (12, 1), (12, 2), (3, 4), (2, 3)]))
        case 12: return .unlink(location(), flags: 0)
        case 13: return .unlink(location(), flags: chance(90) ? 0x200 : 0x1)
        case 14: return .rmdir(path())
        case 15:
            return .link(
                location(), location(), flags: weighted([(70, 0), (25, 0x400), (5, 0x1000)]))
        case 16: return .symlink(target: target(), location())
        case 17: return .readlink(location(), size: pick([1, 2, 64, 0]))
        case 18: return .chmod(location(), mode: mode(), flags: chance(85) ? 0 : 0x100)
        case 19: return .fchmod(slot: slot(), mode: mode())
        case 20: return .chown(location(), uid: id(), gid: id(), flags: chance(75) ? 0 : 0x100)
        case 21: return .fchown(slot: slot(), uid: id(), gid: id())
        case 22:
            return .utimens(
                location(), access: time(), modification: time(), flags: chance(80) ? 0 : 0x100)
        case 23:
            if chance(10) { return .stat(Location("", base: slot()), flags: 0x1000) }
            return .stat(location(), flags: chance(70) ? 0 : 0x100)
        case 24: return .fstat(slot: slot())
        case 25:
            return .access(
                location(), mode: pick([0, 4, 2, 1, 6, 7]),
                flags: weighted([(70, 0), (15, 0x200), (15, 0x100)]))
        case 26: return .getdents(slot: slot())
        case 27: return .dup(slot: slot(), into: slot())
        case 28: return .dup2(slot: slot(), onto: slot())
        case 29:
            switch int(0..<4) {
            case 0: return .fcntl(slot: slot(), command: 3, argument: 0)
            case 1:
                let flags: Int32 =
                    0o4000 | (chance(40) ? 0o2000 : 0) | (chance(15) ? 0o1000000 : 0)
                    | (chance(10) ? 0o40000 : 0)
                return .fcntl(slot: slot(), command: 4, argument: flags)
            case 2: return .fcntl(slot: slot(), command: 1, argument: 0)
            default: return .fcntl(slot: slot(), command: 2, argument: int(0..<2) == 0 ? 0 : 1)
            }
        case 30:
            let type: UInt32 = weighted([(60, 0o010000), (20, 0o100000), (10, 0), (10, 0o140000)])
            return .mknod(location(), mode: type | (mode() & 0o777))
        case 31:
            return .setxattr(
                path(), name: xattrName(), value: Array(pick(["", "v", "value"]).utf8),
                flags: weighted([(70, 0), (15, 1), (15, 2)]), follow: chance(80))
        case 32:
            return .getxattr(path(), name: xattrName(), size: pick([0, 1, 64]), follow: chance(80))
        case 33: return .listxattr(path(), size: pick([0, 3, 256]), follow: chance(80))
        case 34: return .removexattr(path(), name: xattrName(), follow: chance(80))
        case 35: return .chdir(weighted([(60, path()), (20, ".."), (20, "/")]))
        case 36: return .fchdir(slot: slot())
        case 37: return .umask(pick([0o022, 0o077, 0o000, 0o002]))
        case 38: return .become(pick(identities))
        case 39:
            let mask: UInt32 = weighted([
                (25, 0x7FF), (15, 0), (15, 0xFFF), (10, 0x800), (10, 0x40), (10, 0x47FF),
                (10, 0x1), (2, 0x8000_0000),
            ])
            if chance(10) { return .statx(Location("", base: slot()), flags: 0x1000, mask: mask) }
            return .statx(
                location(), flags: weighted([(70, 0), (25, 0x100), (3, 0x2000), (2, 0x6000)]),
                mask: mask)
        case 40:
            let flags = openFlags()
            let creating = flags & 0o100 != 0 || flags & 0o20000000 != 0
            let how = OpenHow(
                flags: UInt64(UInt32(bitPattern: flags)),
                mode: creating || chance(5) ? UInt64(mode()) : 0,
                resolve: weighted([
                    (50, 0), (10, 0x04), (10, 0x08), (8, 0x10), (8, 0x01), (5, 0x02), (2, 0x18),
                    (2, 0x40),
                ]),
                size: weighted([(90, 24), (5, 32), (3, 16), (2, 40)]),
                trailing: chance(2) ? 1 : 0)
            return .openat2(location(), how: how, slot: slot())
        case 41:
            return .readv(slot: slot(), lengths: lengths(), call: vectorCall())
        case 42:
            let count = weighted([(50, 1), (30, 2), (10, 3), (5, 0)])
            let chunks = (0..<count).map { _ in chance(15) ? [] : data() }
            return .writev(slot: slot(), chunks: chunks, call: vectorCall())
        case 43: return .getcwd(size: pick([1, 2, 16, 64, 4096]))
        case 44:
            let command: Int32 = weighted([(30, 6), (20, 5), (30, 37), (20, 36)])
            let type: Int16 = weighted([(40, 1), (35, 0), (20, 2), (5, 7)])
            return .lock(
                slot: slot(), command: command,
                LockRequest(
                    type: type, whence: weighted([(70, 0), (15, 1), (13, 2), (2, 5)]),
                    start: weighted([
                        (40, 0), (20, 10), (20, Int64(int(0..<100))), (5, -5), (2, Int64.max),
                    ]),
                    length: weighted([
                        (40, 0), (30, 10), (20, Int64(int(1..<100))), (8, -3), (2, 2),
                    ]),
                    pid: chance(3) ? 1 : 0))
        case 45:
            return .flock(
                slot: slot(),
                operation: weighted([
                    (35, 2 | 4), (30, 1 | 4), (25, 8), (5, 8 | 4), (3, 4), (2, 0),
                ]))
        case 46:
            let flags: Int32 =
                0o4000 | (chance(30) ? 0o2000000 : 0) | (chance(10) ? 0o40000 : 0)
                | (chance(3) ? 0o2 : 0)
            return .pipe2(flags: flags, read: slot(), write: slot())
        case 47:
            return .memfd(
                name: "m", repeat: chance(3) ? 250 : 1,
                // Not MFD_NOEXEC_SEAL: its F_SEAL_EXEC (seals are not modelled) makes a later
                // fchmod EPERM.
                flags: weighted([(45, 0), (20, 1), (20, 2), (10, 0x10), (5, 0x18)]),
                slot: slot())
        case 48:
            let first = UInt32(pick([3, 4, 5, 6, 8, 900]))
            let last: UInt32 = weighted([
                (40, first), (30, first + 2), (20, UInt32.max), (10, first > 3 ? first - 1 : 3),
            ])
            return .closeRange(
                first: first, last: last, flags: weighted([(60, 0), (25, 4), (10, 2), (5, 1)]))
        case 49:
            return .dup3(
                slot: slot(), onto: slot(),
                flags: weighted([(60, 0), (35, 0o2000000), (5, 0o4000)]))
        case 50:
            return .mount(
                source: "none", target: path(), fstype: "tmpfs", flags: chance(20) ? 1 : 0,
                data: pick([nil, "mode=0755", "mode=0700"]))
        default:
            return .umount(path(), flags: weighted([(60, 0), (30, 2), (5, 4), (5, 8)]))
        }
    }

    mutating func lengths() -> [Int] {
        let count = weighted([(45, 1), (30, 2), (15, 3), (5, 0)])
        return (0..<count).map { _ in weighted([(40, 3), (25, 64), (15, 0), (15, 5000), (5, 1)]) }
    }

    mutating func vectorCall() -> VectorCall {
        switch weighted([(40, 0), (30, 1), (30, 2)]) {
        case 0: return .plain
        case 1: return .positioned(offset: offset())
        default:
            return .flagged(
                offset: chance(40) ? -1 : offset(),
                flags: weighted([
                    (45, 0), (10, 0x1), (10, 0x2), (10, 0x10), (8, 0x20), (8, 0x8), (5, 0x200),
                    (4, 0x30),
                ]))
        }
    }
}

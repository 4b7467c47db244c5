/// One step of a differential sequence: a file syscall with its arguments, in a form both
/// sides can run — the kernel (`KernelExecutor`, in a chrooted child process) and the VFS
/// (`VFSExecutor`, through `Syscalls.Task`).
///
/// Descriptors are named by *slot* (0..<`Operation.slotCount`), never by number: an `open`
/// stores its descriptor in a slot and later steps refer to the slot. An empty slot stands for
/// the descriptor number `Operation.closedDescriptor(slot)` (900 + slot), which is closed on
/// both sides, so using it gives EBADF on both. Because both sides start with descriptors
/// 0, 1 and 2 taken (the child's stdio; three placeholder descriptors in the VFS task), fresh
/// descriptors get the same numbers on both sides and the numbers themselves are compared.
///
/// Paths are relative to the working directory unless they start with "/"; the kernel child
/// is chrooted into its scratch directory, so "/" and ".." at the top mean the same on both
/// sides. A `Location` with a `base` slot is a *at call relative to that slot's descriptor.
///
/// Next to Foundation (which has its own `Operation`), spell it `DifferentialHarness.Operation`.
public enum Operation: Codable, Hashable, Sendable {
    // Creating and removing names
    /// mkdirat(2).
    case mkdir(Location, mode: UInt32)
    /// mknodat(2) with a file-type part (S_IFIFO, S_IFREG, S_IFSOCK, 0) and permission bits.
    case mknod(Location, mode: UInt32)
    /// symlinkat(2).
    case symlink(target: String, Location)
    /// linkat(2); flags AT_SYMLINK_FOLLOW / AT_EMPTY_PATH.
    case link(Location, Location, flags: Int32)
    /// unlinkat(2); flags 0 or AT_REMOVEDIR.
    case unlink(Location, flags: Int32)
    /// rmdir(2) (the non-at call, relative to the cwd).
    case rmdir(String)
    /// renameat2(2).
    case rename(Location, Location, flags: UInt32)

    // Descriptors
    /// openat(2); the new descriptor goes into `slot` (the slot's old one stays open, unnamed).
    case open(Location, flags: Int32, mode: UInt32, slot: Int)
    /// close(2).
    case close(slot: Int)
    /// dup(2) of `slot` into slot `into`.
    case dup(slot: Int, into: Int)
    /// dup2(2) of `slot` onto slot `onto`'s descriptor (its closed number when empty).
    case dup2(slot: Int, onto: Int)
    /// fcntl(2) with an integer argument: F_GETFL, F_SETFL, F_GETFD, F_SETFD.
    case fcntl(slot: Int, command: Int32, argument: Int32)

    // Data
    /// read(2) of up to `count` bytes.
    case read(slot: Int, count: Int)
    /// write(2).
    case write(slot: Int, data: [UInt8])
    /// pread64(2).
    case pread(slot: Int, count: Int, offset: Int64)
    /// pwrite64(2).
    case pwrite(slot: Int, data: [UInt8], offset: Int64)
    /// lseek(2).
    case lseek(slot: Int, offset: Int64, whence: Int32)
    /// ftruncate(2).
    case ftruncate(slot: Int, length: Int64)
    /// truncate(2) (relative to the cwd).
    case truncate(String, length: Int64)
    /// fallocate(2).
    case fallocate(slot: Int, mode: Int32, offset: Int64, length: Int64)
    /// getdents64(2) until it returns 0; the result is every entry, sorted by name.
    case getdents(slot: Int)

    // Attributes
    /// newfstatat(2); flags AT_SYMLINK_NOFOLLOW / AT_EMPTY_PATH.
    case stat(Location, flags: Int32)
    /// fstat(2).
    case fstat(slot: Int)
    /// faccessat2(2).
    case access(Location, mode: Int32, flags: Int32)
    /// readlinkat(2) into a buffer of `size` bytes.
    case readlink(Location, size: Int)
    /// fchmodat(2) (flags 0) or fchmodat2(2) (flags AT_SYMLINK_NOFOLLOW).
    case chmod(Location, mode: UInt32, flags: Int32)
    /// fchmod(2).
    case fchmod(slot: Int, mode: UInt32)
    /// fchownat(2); `UInt32.max` leaves an id alone (-1).
    case chown(Location, uid: UInt32, gid: UInt32, flags: Int32)
    /// fchown(2).
    case fchown(slot: Int, uid: UInt32, gid: UInt32)
    /// utimensat(2) with a path.
    case utimens(Location, access: TimeArgument, modification: TimeArgument, flags: Int32)

    // Extended attributes (path calls, relative to the cwd; `follow` false is the l* call)
    case setxattr(String, name: String, value: [UInt8], flags: Int32, follow: Bool)
    case getxattr(String, name: String, size: Int, follow: Bool)
    case listxattr(String, size: Int, follow: Bool)
    case removexattr(String, name: String, follow: Bool)

    // Process state
    /// chdir(2).
    case chdir(String)
    /// fchdir(2).
    case fchdir(slot: Int)
    /// umask(2); the result is the old mask.
    case umask(UInt32)
    /// Switch the acting identity (setgroups + setresgid + setresuid in the kernel child;
    /// the task's credentials in the VFS). Root has every capability, a user none.
    case become(Identity)

    // Calls the VFS side makes through `SyscallDispatcher` over a `BufferMemory`, with the
    // same registers as the kernel side (so the structs and vectors are decoded by the
    // syscall layer's own entries), unless noted.
    /// statx(2); the result is a `StatxRecord`.
    case statx(Location, flags: Int32, mask: UInt32)
    /// openat2(2) with a `struct open_how` (see `OpenHow`); the descriptor goes into `slot`.
    case openat2(Location, how: OpenHow, slot: Int)
    /// readv(2), preadv(2) or preadv2(2) (see `VectorCall`) into buffers of `lengths` bytes;
    /// the result is the bytes read, in order.
    case readv(slot: Int, lengths: [Int], call: VectorCall)
    /// writev(2), pwritev(2) or pwritev2(2) of `chunks`, one iovec each.
    case writev(slot: Int, chunks: [[UInt8]], call: VectorCall)
    /// getcwd(2) into a buffer of `size` bytes; the result is the bytes it returned (the
    /// path and its NUL).
    case getcwd(size: Int)
    /// chroot(2) (through `Task.chroot`). Never generated: a root above the working
    /// directory would let ".." climb out of the scratch directory.
    case chroot(String)
    /// mount(2) (through `Task.mount`); nil strings are NULL pointers. The kernel child has
    /// its own mount namespace, so its mounts end with it.
    case mount(source: String?, target: String, fstype: String?, flags: UInt64, data: String?)
    /// umount2(2).
    case umount(String, flags: Int32)
    /// fcntl(2) with a record-lock command (F_GETLK, F_SETLK, F_SETLKW, F_OFD_*) on a
    /// `struct flock`; the *GETLK commands answer a `LockRecord`.
    case lock(slot: Int, command: Int32, LockRequest)
    /// flock(2).
    case flock(slot: Int, operation: Int32)
    /// pipe2(2); the read end goes into slot `read`, the write end into slot `write`.
    case pipe2(flags: Int32, read: Int, write: Int)
    /// memfd_create(2) (name `name`, repeated `repeat` times); the descriptor goes into `slot`.
    case memfd(name: String, repeat: Int, flags: UInt32, slot: Int)
    /// close_range(2) over descriptor numbers (not slots). A range from below 3 without
    /// CLOSE_RANGE_CLOEXEC is not run: it would close the kernel child's stdio.
    case closeRange(first: UInt32, last: UInt32, flags: UInt32)
    /// dup3(2) of `slot` onto slot `onto`'s descriptor.
    case dup3(slot: Int, onto: Int, flags: Int32)
    /// mknodat(2) of a character or block device: `device` is the 32-bit `new_encode_dev`
    /// form the syscall takes ((major << 8) | minor for small numbers). Never generated and
    /// never opened: opening one would reach a real driver on the kernel side.
    case mknodDevice(Location, mode: UInt32, device: UInt32)

    /// How many descriptor slots a sequence may use.
    public static let slotCount = 6

    /// The descriptor number an empty slot stands for: closed on both sides.
    public static func closedDescriptor(_ slot: Int) -> Int32 {
        900 + Int32(truncatingIfNeeded: slot)
    }
}

/// A path and where a relative one starts: the cwd (`base` nil) or a slot's descriptor.
public struct Location: Codable, Hashable, Sendable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public var base: Int?
    public var path: String

    public init(_ path: String, base: Int? = nil) {
        self.base = base
        self.path = path
    }

    public init(stringLiteral value: String) { self.init(value) }

    public var description: String {
        base.map { "fd#\($0), \(quoted(path))" } ?? "AT_FDCWD, \(quoted(path))"
    }
}

/// `struct open_how` for openat2: the three known fields, passed as a struct of `size`
/// bytes whose bytes past the 24 known ones are all `trailing` (copy_struct_from_user:
/// EINVAL below 24, E2BIG past a page or for a non-zero tail).
public struct OpenHow: Codable, Hashable, Sendable, CustomStringConvertible {
    public var flags: UInt64
    public var mode: UInt64
    public var resolve: UInt64
    public var size: Int
    public var trailing: UInt8

    public init(
        flags: UInt64, mode: UInt64 = 0, resolve: UInt64 = 0, size: Int = 24, trailing: UInt8 = 0
    ) {
        self.flags = flags
        self.mode = mode
        self.resolve = resolve
        self.size = size
        self.trailing = trailing
    }

    /// The struct's bytes, little-endian (at least 24, so a short `size` still has fields).
    var bytes: [UInt8] {
        var bytes = [UInt8](repeating: trailing, count: max(size, 24))
        for (index, value) in [flags, mode, resolve].enumerated() {
            for byte in 0..<8 {
                bytes[index * 8 + byte] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte)))
            }
        }
        return bytes
    }

    public var description: String {
        var text =
            "{flags=\(FlagNames.open(Int32(truncatingIfNeeded: flags)))\(flags > UInt64(UInt32.max) ? "+high" : ""), mode=\(octal(mode)), resolve=\(FlagNames.resolve(resolve))}"
        if size != 24 || trailing != 0 { text += ", size \(size)" }
        if trailing != 0 { text += " tail \(trailing)" }
        return text
    }
}

/// Which of the vectored calls: readv/writev (at the file offset), preadv/pwritev (at
/// `offset`), or preadv2/pwritev2 (at `offset`, -1 meaning the file offset, with RWF_*
/// `flags`).
public enum VectorCall: Codable, Hashable, Sendable {
    case plain
    case positioned(offset: Int64)
    case flagged(offset: Int64, flags: Int32)
}

/// A `struct flock` for the record-lock commands.
public struct LockRequest: Codable, Hashable, Sendable, CustomStringConvertible {
    public var type: Int16
    public var whence: Int16
    public var start: Int64
    public var length: Int64
    public var pid: Int32

    public init(type: Int16, whence: Int16 = 0, start: Int64 = 0, length: Int64 = 0, pid: Int32 = 0) {
        self.type = type
        self.whence = whence
        self.start = start
        self.length = length
        self.pid = pid
    }

    public var description: String {
        "{\(FlagNames.lockType(type)), \(FlagNames.whence(Int32(whence))), start \(start), len \(length)\(pid == 0 ? "" : ", pid \(pid)")}"
    }
}

/// One half of utimensat's `times`: UTIME_NOW, UTIME_OMIT, or a fixed moment (which only the
/// owner may set). Fixed moments are compared like any other: through "did it change".
public enum TimeArgument: Codable, Hashable, Sendable, CustomStringConvertible {
    case now
    case omit
    case fixed(seconds: Int64)

    public var description: String {
        switch self {
        case .now: "UTIME_NOW"
        case .omit: "UTIME_OMIT"
        case .fixed(let seconds): "\(seconds)s"
        }
    }
}

/// Who runs a step: root (uid 0, every capability) or a user with supplementary groups and no
/// capabilities.
public struct Identity: Codable, Hashable, Sendable, CustomStringConvertible {
    public var uid: UInt32
    public var gid: UInt32
    public var groups: [UInt32]

    public init(uid: UInt32, gid: UInt32, groups: [UInt32] = []) {
        self.uid = uid
        self.gid = gid
        self.groups = groups
    }

    public static let root = Identity(uid: 0, gid: 0)

    public var isRoot: Bool { uid == 0 }

    public var description: String {
        isRoot && gid == 0 && groups.isEmpty
            ? "root"
            : "uid \(uid) gid \(gid) groups \(groups.map(String.init).joined(separator: ","))"
    }
}

func quoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case " "..."~": result.unicodeScalars.append(scalar)
        default: result += "\\u{\(String(scalar.value, radix: 16))}"
        }
    }
    return result + "\""
}

func quoted(_ bytes: [UInt8]) -> String {
    quoted(String(decoding: bytes, as: UTF8.self))
}

func octal<T: BinaryInteger>(_ value: T) -> String { "0o" + String(value, radix: 8) }

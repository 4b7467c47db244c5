import Synchronization
import Syscalls
import TmpfsBackend
import VFSCore

/// Runs operations through `Syscalls.Task` on a fresh `TmpfsFilesystem`, laid out as the
/// kernel side's: the task is chrooted into a directory `/scratch` of that tmpfs (as the
/// kernel child is chrooted into a directory of /dev/shm, whose root is 1777), made 0700 and
/// then given the configuration's owner and mode, so that "/" is not a mount root on either
/// side (umount2, remounts, statx's STATX_ATTR_MOUNT_ROOT agree). Same umask, same identity.
/// Descriptors 0, 1 and 2 are taken by placeholders (O_PATH on the tmpfs root) as the
/// child's stdio are, so both sides hand out the same descriptor numbers.
public final class VFSExecutor {
    public let kernel: Kernel
    /// The file system the whole run sits on (a fresh tmpfs unless a `VFSRoot` factory says
    /// otherwise), and its root dentry.
    public let rootFilesystem: any FilesystemImpl
    public let rootDentry: Dentry
    /// The root file system when it is the default tmpfs.
    public var tmpfs: TmpfsFilesystem? { rootFilesystem as? TmpfsFilesystem }
    private let cleanup: (@Sendable () -> Void)?
    /// What the root's backend is documented to do differently from Linux (`VFSRoot`).
    public let knownDeviations: [KnownDeviation]
    /// The root's times are stamped by the host kernel (`VFSRoot.kernelStampsTimes`).
    private let kernelStampsTimes: Bool
    public let namespace: MountNamespace
    public let task: Task
    /// The task's root, as a path from the tmpfs's root.
    public static let scratchPath = "/scratch"
    /// The task's address space for the steps that go through the dispatcher.
    let memory = BufferMemory()
    private var slots: [Int: Int32] = [:]
    private var times = TimeTracker()

    /// On a fresh tmpfs (root 1777, as /dev/shm), the default.
    public convenience init(configuration: RunConfiguration) throws(Errno) {
        try self.init(configuration: configuration, root: VFSRoot.tmpfs)
    }

    /// On the file system `root` makes (called once, for this run): the executor makes its
    /// scratch directory in it and chroots there, as for tmpfs. The gofer client and the host
    /// backend plug in here.
    public init(configuration: RunConfiguration, root: VFSRoot.Factory) throws(Errno) {
        kernel = Kernel()
        let made = try root()
        rootFilesystem = made.filesystem
        rootDentry = made.dentry
        cleanup = made.cleanup
        knownDeviations = made.knownDeviations
        kernelStampsTimes = made.kernelStampsTimes
        namespace = kernel.vfs.makeNamespace(root: made.filesystem, rootDentry: made.dentry)
        let setup = FSContext(vfs: kernel.vfs, namespace: namespace)
        try setup.makeDirectory(VFSExecutor.scratchPath, mode: 0o700)
        try setup.changeOwner(
            VFSExecutor.scratchPath, uid: configuration.rootUID, gid: configuration.rootGID)
        try setup.changeMode(VFSExecutor.scratchPath, configuration.rootMode)
        task = Task(
            kernel: kernel, namespace: namespace, credentials: .root, umask: configuration.umask)
        try task.fs.changeRoot(VFSExecutor.scratchPath)
        try task.fs.changeDirectory("/")
        task.credentials = VFSExecutor.credentials(configuration.identity)
        let root = PathOperation(
            root: namespace.rootLocation, start: namespace.rootLocation, path: "/")
        for _ in 0..<3 {
            let placeholder = try kernel.vfs.open(
                .root, root, options: OpenOptions(flags: OpenOptions.pathOnly), mode: 0)
            _ = try task.install(placeholder)
        }
    }

    deinit {
        cleanup?()
    }

    static func credentials(_ identity: Identity) -> Credentials {
        identity.isRoot
            ? Credentials(uid: 0, gid: identity.gid, groups: identity.groups, capabilities: .all)
            : .user(identity.uid, gid: identity.gid, groups: identity.groups)
    }

    public func run(_ operation: Operation) -> Outcome {
        do throws(Errno) {
            return try perform(operation)
        } catch {
            return .failure(errno: error.rawValue)
        }
    }

    private func perform(_ operation: Operation) throws(Errno) -> Outcome {
        switch operation {
        case .mkdir(let l, let mode):
            try mkdirat(dirfd(l), path(l), mode)
        case .mknod(let l, let mode):
            try mknodat(dirfd(l), path(l), mode, 0)
        case .symlink(let target, let l):
            try symlinkat(PathArgument(target), dirfd(l), path(l))
        case .link(let a, let b, let flags):
            try linkat(dirfd(a), path(a), dirfd(b), path(b), flags)
        case .unlink(let l, let flags):
            try unlinkat(dirfd(l), path(l), flags)
        case .rmdir(let p):
            try rmdir(PathArgument(p))
        case .rename(let a, let b, let flags):
            try renameat2(dirfd(a), path(a), dirfd(b), path(b), flags)

        case .open(let l, let flags, let mode, let slot):
            let fd = try task.openat(dirfd(l), path(l), flags, mode)
            slots[slot] = fd
            return .descriptor(fd)
        case .close(let slot):
            defer { slots[slot] = nil }
            try task.close(fd(slot))
        case .dup(let slot, let into):
            let fd = try task.dup(fd(slot))
            slots[into] = fd
            return .descriptor(fd)
        case .dup2(let slot, let onto):
            let fd = try task.dup2(fd(slot), fd(onto))
            slots[onto] = fd
            return .descriptor(fd)
        case .fcntl(let slot, let command, let argument):
            return .value(Int64(try fcntl(fd(slot), command, Int64(argument))))

        case .read(let slot, let count):
            return try readInto(count) { (buffer) throws(Errno) in try task.read(fd(slot), buffer) }
        case .write(let slot, let data):
            return .value(Int64(try task.write(fd(slot), data)))
        case .pread(let slot, let count, let offset):
            return try readInto(count) { (buffer) throws(Errno) in
                try task.pread64(fd(slot), buffer, offset)
            }
        case .pwrite(let slot, let data, let offset):
            return .value(Int64(try task.pwrite64(fd(slot), data, offset)))
        case .lseek(let slot, let offset, let whence):
            return .value(try task.lseek(fd(slot), offset, whence))
        case .ftruncate(let slot, let length):
            try ftruncate(fd(slot), length)
        case .truncate(let p, let length):
            try truncate(PathArgument(p), length)
        case .fallocate(let slot, let mode, let offset, let length):
            try fallocate(fd(slot), mode, offset, length)
        case .getdents(let slot):
            return .entries(try listDirectory(fd(slot)).sorted())

        case .stat(let l, let flags):
            return .stat(record(try newfstatat(dirfd(l), path(l), flags)))
        case .fstat(let slot):
            return .stat(record(try fstat(fd(slot))))
        case .access(let l, let mode, let flags):
            try faccessat2(dirfd(l), path(l), mode, flags)
        case .readlink(let l, let size):
            guard size >= 0 && size <= 1 << 20 else { return .unsupported("size \(size)") }
            let target = try readlinkat(dirfd(l), path(l), size)
            return .bytes(target)
        case .chmod(let l, let mode, let flags):
            if flags == 0 {
                try fchmodat(dirfd(l), path(l), mode)
            } else {
                try fchmodat2(dirfd(l), path(l), mode, flags)
            }
        case .fchmod(let slot, let mode):
            try fchmod(fd(slot), mode)
        case .chown(let l, let uid, let gid, let flags):
            try fchownat(dirfd(l), path(l), uid, gid, flags)
        case .fchown(let slot, let uid, let gid):
            try fchown(fd(slot), uid, gid)
        case .utimens(let l, let access, let modification, let flags):
            try utimensat(dirfd(l), path(l), access, modification, flags)

        case .setxattr(let p, let name, let value, let flags, let follow):
            try setxattr(PathArgument(p), name, value, flags, follow: follow)
        case .getxattr(let p, let name, let size, let follow):
            guard size >= 0 && size <= 1 << 20 else { return .unsupported("size \(size)") }
            let value = try getxattr(PathArgument(p), name, size, follow: follow)
            return size == 0 ? .value(Int64(value.count)) : .bytes(value)
        case .listxattr(let p, let size, let follow):
            guard size >= 0 && size <= 1 << 20 else { return .unsupported("size \(size)") }
            let list = try listxattr(PathArgument(p), size, follow: follow)
            return size == 0 ? .value(Int64(list.count)) : .names(KernelExecutor.splitNames(list))
        case .removexattr(let p, let name, let follow):
            try removexattr(PathArgument(p), name, follow: follow)

        case .chdir(let p):
            try chdir(PathArgument(p))
        case .fchdir(let slot):
            try fchdir(fd(slot))
        case .umask(let mask):
            return .value(Int64(umask(mask)))
        case .become(let identity):
            task.credentials = VFSExecutor.credentials(identity)
        case .statx, .openat2, .readv, .writev, .getcwd, .chroot, .mount, .umount, .lock, .flock,
            .pipe2, .memfd, .closeRange, .dup3, .mknodDevice:
            return try performDispatched(operation) ?? .unsupported("\(operation.name)")
        }
        return .done
    }

    // MARK: - Helpers

    func fd(_ slot: Int) -> Int32 { slots[slot] ?? Operation.closedDescriptor(slot) }

    func setSlot(_ slot: Int, _ fd: Int32) { slots[slot] = fd }

    /// Empties the slots whose descriptor numbers `closed` says were closed.
    func clearSlots(where closed: (Int32) -> Bool) {
        for (slot, number) in slots where closed(number) { slots[slot] = nil }
    }

    func dirfd(_ location: Location) -> Int32 {
        location.base.map { fd($0) } ?? Linux.AT_FDCWD
    }

    private func path(_ location: Location) -> PathArgument { PathArgument(location.path) }

    private func readInto(
        _ count: Int, _ body: (UnsafeMutableRawBufferPointer) throws(Errno) -> Int
    ) throws(Errno) -> Outcome {
        guard count >= 0, count <= 1 << 20 else { return .unsupported("count \(count)") }
        var buffer = [UInt8](repeating: 0, count: count)
        let outcome = buffer.withUnsafeMutableBytes { bytes in
            Result { () throws(Errno) -> Int in try body(bytes) }
        }
        let got = try outcome.get()
        return .bytes(Array(buffer[..<min(got, count)]))
    }

    private func record(_ info: LinuxStat) -> StatRecord {
        let isRegular = info.mode & FileMode.typeMask == FileType.regular.rawValue
        var result = StatRecord(
            mode: info.mode, nlink: info.nlink, size: info.size, uid: info.uid, gid: info.gid,
            blocks: isRegular ? info.blocks : nil)
        let type = info.mode & FileMode.typeMask
        if type == FileType.characterDevice.rawValue || type == FileType.blockDevice.rawValue {
            result.rdev = info.rdev
        }
        let access = Stamp(info.atime)
        let modification = Stamp(info.mtime)
        let change = Stamp(info.ctime)
        if kernelStampsTimes {
            // The host kernel stamps these times, many with its coarse clock: wait for that
            // clock to pass them, as the kernel side does after each stat, so that the next
            // change shows here too (else a change in the same tick as the stat writes the
            // same value on this side only).
            _ = KernelExecutor.waitForCoarseClock(past: max(access, modification, change))
        }
        times.mark(
            &result, device: info.dev, inode: info.ino, access: access,
            modification: modification, change: change, coarseNow: nil)
        return result
    }
}

/// The root file system of a `VFSExecutor` run.
public struct VFSRoot {
    /// Makes the root for one run.
    public typealias Factory = @Sendable () throws(Errno) -> VFSRoot

    public var filesystem: any FilesystemImpl
    public var dentry: Dentry
    /// Runs when the executor goes away (removing a host directory, stopping a gofer).
    public var cleanup: (@Sendable () -> Void)?
    /// The backend's documented deviations from Linux (`KnownDeviation`); empty for tmpfs and
    /// the host backend, `KnownDeviation.gofer` for the gofer.
    public var knownDeviations: [KnownDeviation]
    /// The backend's times are stamped by the host kernel (a host directory, a gofer's), many
    /// from its coarse clock: the executor then waits after each stat, as the kernel side
    /// does, for that clock to pass the times shown (`KernelExecutor.waitForCoarseClock`).
    /// False for VFSKit's own tmpfs, whose clock never repeats a value (`IncreasingClock`).
    public var kernelStampsTimes: Bool

    public init(
        filesystem: any FilesystemImpl, dentry: Dentry, cleanup: (@Sendable () -> Void)? = nil,
        knownDeviations: [KnownDeviation] = [], kernelStampsTimes: Bool = false
    ) {
        self.filesystem = filesystem
        self.dentry = dentry
        self.cleanup = cleanup
        self.knownDeviations = knownDeviations
        self.kernelStampsTimes = kernelStampsTimes
    }

    /// A fresh tmpfs whose root is 1777, owned by root, as /dev/shm is.
    public static let tmpfs: Factory = { () throws(Errno) -> VFSRoot in
        let tmpfs = TmpfsFilesystem(
            options: TmpfsOptions(rootMode: 0o1777, rootUID: 0, rootGID: 0),
            clock: IncreasingClock())
        return VFSRoot(filesystem: tmpfs, dentry: tmpfs.root)
    }
}

extension Stamp {
    init(_ time: Timespec) {
        self.init(seconds: time.seconds, nanoseconds: time.nanoseconds)
    }
}

/// CLOCK_REALTIME, but never the same value twice: two steps of a sequence always get
/// different stamps, as two Linux steps separated by a stat do (multigrain timestamps).
final class IncreasingClock: FileClock {
    private let last = Mutex(Timespec.zero)
    private let base = RealtimeClock()

    func now() -> Timespec {
        let now = base.now()
        return last.withLock { last in
            var next = now
            if next <= last {
                next = last
                next.nanoseconds += 1
                if next.nanoseconds >= 1_000_000_000 {
                    next.seconds += 1
                    next.nanoseconds = 0
                }
            }
            last = next
            return next
        }
    }
}

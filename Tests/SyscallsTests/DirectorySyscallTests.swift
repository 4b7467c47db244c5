import Testing
import TmpfsBackend
import VFSCore

@testable import Syscalls

/// A kernel with a tmpfs root and a root task on it; `user()` gives an unprivileged process
/// (uid/gid 1000) on the same tree.
final class KernelFixture: Sendable {
    let kernel = Kernel()
    let tmpfs = TmpfsFilesystem()
    let namespace: MountNamespace
    let task: Syscalls.Task

    init() {
        namespace = kernel.vfs.makeNamespace(root: tmpfs, rootDentry: tmpfs.root)
        task = Syscalls.Task(kernel: kernel, namespace: namespace)
    }

    func user(_ uid: UInt32 = 1000) -> Syscalls.Task {
        let process = task.clone()
        process.credentials = .user(uid, gid: uid)
        return process
    }

    /// Runs syscall `number` as `task` through the dispatcher.
    func call(
        _ number: SyscallNumber, _ memory: BufferMemory, _ arguments: UInt64...,
        as task: Syscalls.Task? = nil
    ) -> Int64 {
        var padded = arguments
        while padded.count < 6 { padded.append(0) }
        let dispatcher = SyscallDispatcher(task: task ?? self.task, memory: memory)
        return dispatcher.dispatch(
            number.rawValue,
            SyscallArguments(padded[0], padded[1], padded[2], padded[3], padded[4], padded[5]))
    }
}

/// -errno as the dispatcher returns it.
func failure(_ errno: Errno) -> Int64 { -Int64(errno.rawValue) }

/// A register holding a negative int.
func register(_ value: Int32) -> UInt64 { UInt64(bitPattern: Int64(value)) }

let directoryOnly = OpenOptions.readOnly | OpenOptions.directory

@Suite struct DirectorySyscallTests {
    /// The directory Linux 6.18 listed (see each test): ".", "..", "p" (FIFO), "abcdefgh"
    /// (symlink), "file", "sub".
    func makeListingDirectory(_ world: KernelFixture) throws -> Int32 {
        let fs = world.task.fs
        try fs.makeDirectory("/d")
        try fs.makeDirectory("/d/sub")
        try fs.writeFile("/d/file", contents: [])
        try fs.makeSymlink(target: "x", at: "/d/abcdefgh")
        try fs.makeNode("/d/p", mode: FileType.fifo.rawValue | 0o644)
        return try world.task.openat(Linux.AT_FDCWD, "/d", directoryOnly)
    }

    // MARK: - getdents64

    @Test func getdents64RecordsHaveKernelLayout() throws {
        // Linux 6.18 on tmpfs, same directory: 152 bytes; reclen 24 for ".", "..", "p",
        // "file", "sub" and 32 for "abcdefgh"; d_type 4 (dir), 1 (fifo), 10 (link), 8 (reg).
        let world = KernelFixture()
        let fd = try makeListingDirectory(world)
        let bytes = try world.task.getdents64(fd, count: 4096)
        #expect(bytes.count == 152)
        var layout: [String: String] = [:]
        for record in LinuxDirent64.parse(bytes) {
            layout[String(decoding: record.name, as: UTF8.self)] =
                "\(record.recordLength)/\(record.type)"
        }
        #expect(
            layout == [
                ".": "24/4", "..": "24/4", "p": "24/1", "abcdefgh": "32/10", "file": "24/8",
                "sub": "24/4",
            ])
    }

    @Test func getdents64RecordBytesAreInodeOffsetLengthTypeNameNul() throws {
        let world = KernelFixture()
        let fd = try makeListingDirectory(world)
        let bytes = try world.task.getdents64(fd, count: 4096)
        let records = LinuxDirent64.parse(bytes)
        var at = 0
        for record in records {
            let raw = Array(bytes[at..<(at + Int(record.recordLength))])
            at += Int(record.recordLength)
            guard record.name == Array("abcdefgh".utf8) else { continue }
            let inode = try world.task.fs.stat("/d/abcdefgh", followSymlink: false).inode
            #expect(Array(raw[0..<8]) == withUnsafeBytes(of: inode.littleEndian) { Array($0) })
            #expect(raw[16] == 32 && raw[17] == 0)
            #expect(raw[18] == 10)
            #expect(Array(raw[19..<27]) == Array("abcdefgh".utf8))
            #expect(Array(raw[27..<32]) == [0, 0, 0, 0, 0])
        }
        #expect(at == bytes.count)
    }

    @Test func oldGetdentsPutsTypeInLastByteOfRecord() throws {
        // Linux 6.18, struct linux_dirent: "." is 24 bytes: 2e 00 00 00 00 04 after the
        // 18-byte header; "abcdefgh" is 32 bytes ending in 0a.
        let world = KernelFixture()
        let fd = try makeListingDirectory(world)
        let bytes = try world.task.getdents(fd, count: 4096)
        #expect(bytes.count == 152)
        let records = LinuxDirent64.parseLegacy(bytes)
        #expect(records.count == 6)
        var at = 0
        for record in records {
            let raw = Array(bytes[at..<(at + Int(record.recordLength))])
            at += Int(record.recordLength)
            if record.name == [0x2E] {
                #expect(Array(raw[18...]) == [0x2E, 0, 0, 0, 0, 4])
            }
            if record.name == Array("abcdefgh".utf8) {
                #expect(raw.count == 32)
                #expect(raw[31] == 10)
            }
        }
    }

    @Test func bufferTooSmallForFirstRecordIsInvalid() throws {
        // Linux 6.18: count 23 → EINVAL, count 24 → 24 (just ".").
        let world = KernelFixture()
        let fd = try makeListingDirectory(world)
        #expect(throws: Errno.invalidArgument) { try world.task.getdents64(fd, count: 23) }
        #expect(throws: Errno.invalidArgument) { try world.task.getdents(fd, count: 23) }
        let one = try world.task.getdents64(fd, count: 24)
        #expect(one.count == 24)
        #expect(LinuxDirent64.parse(one).map(\.name) == [[0x2E]])
    }

    @Test func zeroCountIsInvalidButAtEndReadsZero() throws {
        // Linux 6.18: count 0 → EINVAL on a fresh directory; at the end count 1 → 0.
        let world = KernelFixture()
        let fd = try makeListingDirectory(world)
        #expect(throws: Errno.invalidArgument) { try world.task.getdents64(fd, count: 0) }
        while try !world.task.getdents64(fd, count: 4096).isEmpty {}
        #expect(try world.task.getdents64(fd, count: 1).isEmpty)
    }

    @Test func fillsOnlyWholeRecords() throws {
        // Linux 6.18: count 3 × 24 + 8 returns 72.
        let world = KernelFixture()
        let fd = try makeListingDirectory(world)
        let bytes = try world.task.getdents64(fd, count: 3 * 24 + 8)
        #expect(bytes.count == 72)
    }

    @Test func recordOffsetResumesAfterThatRecord() throws {
        let world = KernelFixture()
        let fd = try makeListingDirectory(world)
        let all = LinuxDirent64.parse(try world.task.getdents64(fd, count: 4096))
        #expect(all.count == 6)
        _ = try world.task.lseek(fd, all[2].offset, Linux.SEEK_SET)
        let rest = LinuxDirent64.parse(try world.task.getdents64(fd, count: 4096))
        #expect(rest.map(\.name) == all[3...].map(\.name))
    }

    @Test func smallBuffersReadEveryEntryOnce() throws {
        let world = KernelFixture()
        let fd = try makeListingDirectory(world)
        var names: [[UInt8]] = []
        while true {
            let chunk = try world.task.getdents64(fd, count: 40)
            if chunk.isEmpty { break }
            names += LinuxDirent64.parse(chunk).map(\.name)
        }
        #expect(names.count == 6)
        #expect(
            Set(names.map { String(decoding: $0, as: UTF8.self) })
                == [".", "..", "p", "abcdefgh", "file", "sub"])
    }

    @Test func getdentsOfNonDirectoryIsNotDirectory() throws {
        // Linux 6.18: ENOTDIR, even with count 1.
        let world = KernelFixture()
        try world.task.fs.writeFile("/f", contents: [1])
        let fd = try world.task.openat(Linux.AT_FDCWD, "/f", OpenOptions.readOnly)
        #expect(throws: Errno.notDirectory) { try world.task.getdents64(fd, count: 4096) }
        #expect(throws: Errno.notDirectory) { try world.task.getdents64(fd, count: 1) }
        #expect(throws: Errno.notDirectory) { try world.task.getdents(fd, count: 4096) }
    }

    @Test func getdentsOnPathDescriptorIsBadDescriptor() throws {
        let world = KernelFixture()
        try world.task.fs.makeDirectory("/d")
        let fd = try world.task.openat(Linux.AT_FDCWD, "/d", OpenOptions.pathOnly)
        #expect(throws: Errno.badFileDescriptor) { try world.task.getdents64(fd, count: 4096) }
        #expect(throws: Errno.badFileDescriptor) { try world.task.getdents64(99, count: 4096) }
    }

    @Test func getdentsOfRemovedDirectoryIsNoEntry() throws {
        // Linux 6.18: ENOENT, also with count 1.
        let world = KernelFixture()
        try world.task.fs.makeDirectory("/gone")
        let fd = try world.task.openat(Linux.AT_FDCWD, "/gone", directoryOnly)
        try world.task.fs.removeDirectory("/gone")
        #expect(throws: Errno.noSuchFileOrDirectory) { try world.task.getdents64(fd, count: 4096) }
        #expect(throws: Errno.noSuchFileOrDirectory) { try world.task.getdents64(fd, count: 1) }
    }

    @Test func dispatchedGetdents64WritesRecordsToMemory() throws {
        let world = KernelFixture()
        let fd = try makeListingDirectory(world)
        let memory = BufferMemory()
        let buffer = memory.allocate(4096)
        let result = world.call(.getdents64, memory, UInt64(fd), buffer, 4096)
        #expect(result == 152)
        let records = LinuxDirent64.parse(memory.contents(at: buffer, count: 152))
        #expect(records.count == 6)
    }

    @Test func dispatchedGetdentsIntoUnmappedMemoryFaultsAndKeepsPosition() throws {
        // Linux 6.18: EFAULT, and the position stays 0.
        let world = KernelFixture()
        let fd = try makeListingDirectory(world)
        let memory = BufferMemory()
        #expect(world.call(.getdents64, memory, UInt64(fd), 8, 4096) == failure(.badAddress))
        #expect(try world.task.lseek(fd, 0, Linux.SEEK_CUR) == 0)
    }

    @Test func dispatchedGetdentsFaultAfterARecordReturnsWhatWasPlaced() throws {
        // Linux 6.18: a buffer with 40 mapped bytes before unmapped memory gets one 24-byte
        // record (the second faults) and the position moves just past it.
        let world = KernelFixture()
        let fd = try makeListingDirectory(world)
        let memory = BufferMemory()
        let buffer = memory.allocate(40)
        #expect(world.call(.getdents64, memory, UInt64(fd), buffer, 4096) == 24)
        let first = LinuxDirent64.parse(memory.contents(at: buffer, count: 24))
        #expect(try world.task.lseek(fd, 0, Linux.SEEK_CUR) == first[0].offset)
    }

    @Test func dispatchedCountAboveIntMaxIsInvalid() throws {
        // Linux 6.18: count 0x80000000 → EINVAL; 0x7fffffff → 152.
        let world = KernelFixture()
        let fd = try makeListingDirectory(world)
        let memory = BufferMemory()
        let buffer = memory.allocate(4096)
        #expect(
            world.call(.getdents64, memory, UInt64(fd), buffer, 0x8000_0000)
                == failure(.invalidArgument))
        #expect(
            world.call(.getdents, memory, UInt64(fd), buffer, 0x8000_0000)
                == failure(.invalidArgument))
        #expect(world.call(.getdents64, memory, UInt64(fd), buffer, 0x7FFF_FFFF) == 152)
    }
}

@Suite struct WorkingDirectorySyscallTests {
    func cwd(_ task: Syscalls.Task) throws -> String {
        String(decoding: try task.getcwd(4096).dropLast(), as: UTF8.self)
    }

    // MARK: - chdir, fchdir

    @Test func chdirMovesWhereRelativePathsStart() throws {
        let world = KernelFixture()
        try world.task.fs.makeDirectory("/a")
        try world.task.fs.writeFile("/a/f", contents: [7])
        try world.task.chdir("/a")
        _ = try world.task.openat(Linux.AT_FDCWD, "f", OpenOptions.readOnly)
        #expect(try cwd(world.task) == "/a")
    }

    @Test func chdirToNonDirectoryIsNotDirectory() throws {
        // Linux 6.18: chdir("f") and chdir("f/") → ENOTDIR; missing and "" → ENOENT.
        let world = KernelFixture()
        try world.task.fs.writeFile("/f", contents: [])
        #expect(throws: Errno.notDirectory) { try world.task.chdir("/f") }
        #expect(throws: Errno.notDirectory) { try world.task.chdir("/f/") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try world.task.chdir("/nope") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try world.task.chdir("") }
    }

    @Test func chdirWithoutSearchPermissionIsDenied() throws {
        // Linux 6.18, uid 1000: chdir into a root-owned 0666 directory → EACCES.
        let world = KernelFixture()
        try world.task.fs.makeDirectory("/noexec", mode: 0o777)
        try world.task.fs.changeMode("/noexec", 0o666)
        let user = world.user()
        #expect(throws: Errno.permissionDenied) { try user.chdir("/noexec") }
        #expect(try cwd(user) == "/")
    }

    @Test func fchdirNeedsADirectory() throws {
        // Linux 6.18: fchdir on a file → ENOTDIR, on 999 or -1 → EBADF.
        let world = KernelFixture()
        try world.task.fs.writeFile("/f", contents: [])
        let file = try world.task.openat(Linux.AT_FDCWD, "/f", OpenOptions.readOnly)
        #expect(throws: Errno.notDirectory) { try world.task.fchdir(file) }
        #expect(throws: Errno.badFileDescriptor) { try world.task.fchdir(999) }
        #expect(throws: Errno.badFileDescriptor) { try world.task.fchdir(-1) }
    }

    @Test func fchdirAcceptsPathDescriptor() throws {
        // Linux 6.18: fchdir on an O_PATH directory descriptor succeeds.
        let world = KernelFixture()
        try world.task.fs.makeDirectory("/a")
        try world.task.fs.makeDirectory("/a/b")
        let fd = try world.task.openat(Linux.AT_FDCWD, "/a/b", OpenOptions.pathOnly)
        try world.task.fchdir(fd)
        #expect(try cwd(world.task) == "/a/b")
    }

    @Test func fchdirWithoutSearchPermissionIsDenied() throws {
        // Linux 6.18, uid 1000: fchdir to a 0666 directory → EACCES, through O_PATH too.
        let world = KernelFixture()
        try world.task.fs.makeDirectory("/noexec", mode: 0o777)
        try world.task.fs.changeMode("/noexec", 0o666)
        let user = world.user()
        let plain = try user.openat(Linux.AT_FDCWD, "/noexec", OpenOptions.readOnly)
        let path = try user.openat(Linux.AT_FDCWD, "/noexec", OpenOptions.pathOnly)
        #expect(throws: Errno.permissionDenied) { try user.fchdir(plain) }
        #expect(throws: Errno.permissionDenied) { try user.fchdir(path) }
    }

    // MARK: - getcwd

    @Test func getcwdReturnsPathWithNul() throws {
        let world = KernelFixture()
        try world.task.fs.makeDirectory("/a")
        try world.task.chdir("/a")
        #expect(try world.task.getcwd(4096) == Array("/a".utf8) + [0])
    }

    @Test func getcwdBufferTooSmallIsOutOfRange() throws {
        // Linux 6.18: cwd "/dev/shm/h7/w/a" (16 bytes with NUL): size 16 → 16, size 0 → ERANGE,
        // size 15 → ERANGE.
        let world = KernelFixture()
        try world.task.fs.makeDirectory("/a")
        try world.task.chdir("/a")
        #expect(try world.task.getcwd(3).count == 3)
        #expect(throws: Errno.outOfRange) { try world.task.getcwd(2) }
        #expect(throws: Errno.outOfRange) { try world.task.getcwd(0) }
    }

    @Test func getcwdOfRemovedDirectoryIsNoEntryBeforeAnythingElse() throws {
        // Linux 6.18: ENOENT for size 4096, size 0 and a bad buffer alike.
        let world = KernelFixture()
        try world.task.fs.makeDirectory("/gone")
        try world.task.chdir("/gone")
        try world.task.fs.removeDirectory("/gone")
        #expect(throws: Errno.noSuchFileOrDirectory) { try world.task.getcwd(4096) }
        #expect(throws: Errno.noSuchFileOrDirectory) { try world.task.getcwd(0) }
        let memory = BufferMemory()
        #expect(world.call(.getcwd, memory, 8, 4096) == failure(.noSuchFileOrDirectory))
    }

    @Test func getcwdOutsideRootIsUnreachable() throws {
        // Linux 6.18: cwd /dev/shm/h7/w, chroot into w/a → "(unreachable)/dev/shm/h7/w",
        // 27 bytes with NUL; size 15 → ERANGE.
        let world = KernelFixture()
        try world.task.fs.makeDirectory("/w")
        try world.task.fs.makeDirectory("/w/a")
        try world.task.chdir("/w")
        try world.task.chroot("/w/a")
        #expect(try cwd(world.task) == "(unreachable)/w")
        #expect(throws: Errno.outOfRange) { try world.task.getcwd(15) }
        try world.task.chdir("/")
        #expect(try cwd(world.task) == "/")
    }

    @Test func dispatchedGetcwdCopiesPathAndReturnsLength() throws {
        let world = KernelFixture()
        try world.task.fs.makeDirectory("/abc")
        try world.task.chdir("/abc")
        let memory = BufferMemory()
        let buffer = memory.allocate(64)
        #expect(world.call(.getcwd, memory, buffer, 64) == 5)
        #expect(memory.contents(at: buffer, count: 5) == Array("/abc".utf8) + [0])
    }

    @Test func dispatchedGetcwdChecksSizeBeforeBuffer() throws {
        // Linux 6.18: getcwd(NULL, 0) → ERANGE; getcwd(NULL, 18) and getcwd(8, 4096) → EFAULT.
        let world = KernelFixture()
        let memory = BufferMemory()
        #expect(world.call(.getcwd, memory, 0, 0) == failure(.outOfRange))
        #expect(world.call(.getcwd, memory, 0, 18) == failure(.badAddress))
        #expect(world.call(.getcwd, memory, 8, 4096) == failure(.badAddress))
    }

    @Test func dispatchedChdirWithBadPointerFaults() throws {
        let world = KernelFixture()
        let memory = BufferMemory()
        #expect(world.call(.chdir, memory, 0) == failure(.badAddress))
        #expect(world.call(.chroot, memory, 8) == failure(.badAddress))
        try world.task.fs.makeDirectory("/a")
        #expect(world.call(.chdir, memory, memory.cString("/a")) == 0)
        #expect(try cwd(world.task) == "/a")
    }

    // MARK: - chroot

    @Test func chrootChangesWhereAbsolutePathsStart() throws {
        let world = KernelFixture()
        try world.task.fs.makeDirectory("/jail")
        try world.task.fs.makeDirectory("/jail/b")
        try world.task.chroot("/jail")
        try world.task.chdir("/b")
        #expect(try cwd(world.task) == "/b")
        try world.task.chdir("/..")
        #expect(try cwd(world.task) == "/")
    }

    @Test func chrootErrorsComeInKernelOrder() throws {
        // Linux 6.18, uid 1000: chroot(w) (0755) → EPERM; chroot(w/a) (0700) → EACCES; a file
        // → ENOTDIR; missing or "" → ENOENT.
        let world = KernelFixture()
        try world.task.fs.makeDirectory("/w", mode: 0o755)
        try world.task.fs.makeDirectory("/w/a", mode: 0o700)
        try world.task.fs.writeFile("/w/f", contents: [])
        let user = world.user()
        #expect(throws: Errno.notPermitted) { try user.chroot("/w") }
        #expect(throws: Errno.permissionDenied) { try user.chroot("/w/a") }
        #expect(throws: Errno.notDirectory) { try user.chroot("/w/f") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try user.chroot("/w/nope") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try user.chroot("") }
    }

    // MARK: - umask

    @Test func umaskReturnsOldMaskAndKeepsPermissionBits() throws {
        // Linux 6.18: umask(0777777) returns 022, then umask(022) returns 0777 (511).
        let world = KernelFixture()
        #expect(world.task.umask(0o777777) == 0o022)
        #expect(world.task.umask(0o022) == 0o777)
        let memory = BufferMemory()
        #expect(world.call(.umask, memory, register(-1)) == 0o022)
        #expect(world.call(.umask, memory, 0o022) == 0o777)
    }

    @Test func umaskAppliesToCreatedFiles() throws {
        let world = KernelFixture()
        world.task.umask(0o077)
        let fd = try world.task.openat(
            Linux.AT_FDCWD, "/f", OpenOptions.create | OpenOptions.writeOnly, 0o666)
        #expect(try world.task.files.get(fd).stat().mode.permissions == 0o600)
    }
}

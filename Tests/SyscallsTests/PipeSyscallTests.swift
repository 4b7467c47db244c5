import Testing
import TmpfsBackend
import VFSCore

@testable import Syscalls

/// pipe, pipe2 and memfd_create. Kernel facts from Linux 6.18 through python3's os module and
/// ctypes syscall().
@Suite struct PipeSyscallTests {
    @Test func pipeReturnsLowestTwoNumbersReadEndFirst() throws {
        // Linux 6.18: a fresh process's pipe2 gives [3, 4] after stdin/out/err.
        let world = KernelFixture()
        let (reader, writer) = try world.task.pipe2(0)
        #expect(reader == 0 && writer == 1)
        try world.task.close(reader)
        let again = try world.task.pipe()
        #expect(again.read == 0 && again.write == 2)
    }

    @Test func bytesFlowFromWriteEndToReadEnd() throws {
        let world = KernelFixture()
        let (reader, writer) = try world.task.pipe()
        #expect(try world.task.write(writer, Array("abc".utf8)) == 3)
        #expect(try world.task.read(reader, count: 10) == Array("abc".utf8))
    }

    @Test func endsAreOneWay() throws {
        // Linux 6.18: read on the write end and write on the read end → EBADF; lseek → ESPIPE.
        let world = KernelFixture()
        let (reader, writer) = try world.task.pipe()
        #expect(throws: Errno.badFileDescriptor) { try world.task.read(writer, count: 1) }
        #expect(throws: Errno.badFileDescriptor) { try world.task.write(reader, [1]) }
        #expect(throws: Errno.illegalSeek) { try world.task.lseek(reader, 0, Linux.SEEK_SET) }
    }

    @Test func closedReadEndMakesWritesFail() throws {
        let world = KernelFixture()
        let (reader, writer) = try world.task.pipe()
        try world.task.close(reader)
        #expect(throws: Errno.brokenPipe) { try world.task.write(writer, [1]) }
    }

    @Test func closedWriteEndMakesReadsEndOfFile() throws {
        let world = KernelFixture()
        let (reader, writer) = try world.task.pipe()
        _ = try world.task.write(writer, [1, 2])
        try world.task.close(writer)
        #expect(try world.task.read(reader, count: 10) == [1, 2])
        #expect(try world.task.read(reader, count: 10) == [])
    }

    @Test func flagsShowOnEachEnd() throws {
        // Linux 6.18, F_GETFL read/write end: 0 → 0x0/0x1; O_NONBLOCK → 0x800/0x801;
        // O_DIRECT → 0x0/0x4001; O_NONBLOCK|O_DIRECT → 0x800/0x4801; O_CLOEXEC → FD_CLOEXEC
        // on both.
        let world = KernelFixture()
        let cases: [(Int32, Int32, Int32)] = [
            (0, 0, 1), (OpenOptions.nonBlocking, 0x800, 0x801), (OpenOptions.direct, 0, 0x4001),
            (OpenOptions.nonBlocking | OpenOptions.direct, 0x800, 0x4801),
        ]
        for (flags, readFlags, writeFlags) in cases {
            let (reader, writer) = try world.task.pipe2(flags)
            #expect(try world.task.fcntl(reader, Linux.F_GETFL) == readFlags)
            #expect(try world.task.fcntl(writer, Linux.F_GETFL) == writeFlags)
            #expect(try world.task.fcntl(reader, Linux.F_GETFD) == 0)
        }
        let (reader, writer) = try world.task.pipe2(OpenOptions.closeOnExec)
        #expect(try world.task.fcntl(reader, Linux.F_GETFD) == Linux.FD_CLOEXEC)
        #expect(try world.task.fcntl(writer, Linux.F_GETFD) == Linux.FD_CLOEXEC)
        #expect(try world.task.fcntl(reader, Linux.F_GETFL) == 0)
    }

    @Test func nonBlockingPipeReadsWouldBlock() throws {
        let world = KernelFixture()
        let (reader, _) = try world.task.pipe2(OpenOptions.nonBlocking)
        #expect(throws: Errno.resourceTemporarilyUnavailable) {
            try world.task.read(reader, count: 1)
        }
    }

    @Test func unknownFlagsAreInvalid() throws {
        // Linux 6.18: O_APPEND, O_RDWR, O_NOATIME, 0x80000000 → EINVAL; O_EXCL
        // (O_NOTIFICATION_PIPE, no CONFIG_WATCH_QUEUE) → ENOPKG.
        let world = KernelFixture()
        for flags in [
            OpenOptions.append, OpenOptions.readWrite, OpenOptions.noAccessTime, Int32.min,
        ] {
            #expect(throws: Errno.invalidArgument) { try world.task.pipe2(flags) }
        }
        #expect(throws: Errno(rawValue: 65)) { try world.task.pipe2(OpenOptions.exclusive) }
        #expect(world.task.files.openDescriptors.isEmpty)
    }

    @Test func fullTableIsTooManyFilesAndLeavesNoDescriptor() throws {
        // Linux 6.18, RLIMIT_NOFILE 20 with one number free: pipe2 → EMFILE, and an open then
        // still gets that number.
        let world = KernelFixture()
        world.task.files.limit = 3
        try world.task.fs.writeFile("/f", contents: [])
        _ = try world.task.openat(Linux.AT_FDCWD, "/f", OpenOptions.readOnly)
        _ = try world.task.openat(Linux.AT_FDCWD, "/f", OpenOptions.readOnly)
        #expect(throws: Errno.tooManyOpenFiles) { try world.task.pipe() }
        #expect(world.task.files.openDescriptors == [0, 1])
        #expect(try world.task.openat(Linux.AT_FDCWD, "/f", OpenOptions.readOnly) == 2)
    }

    @Test func pipeStatIsFifoOwnedByCaller() throws {
        // Linux 6.18: fstat of a pipe: mode 010600, nlink 1, uid of the caller, size 0 even
        // with bytes buffered; both ends share the inode.
        let world = KernelFixture()
        let user = world.user(1234)
        let (reader, writer) = try user.pipe()
        _ = try user.write(writer, [1, 2, 3])
        let readStat = try user.files.get(reader).stat()
        let writeStat = try user.files.get(writer).stat()
        #expect(readStat.mode.rawValue == 0o10600)
        #expect(readStat.nlink == 1)
        #expect(readStat.uid == 1234 && readStat.gid == 1234)
        #expect(readStat.size == 0)
        #expect(readStat.inode == writeStat.inode)
        let (other, _) = try user.pipe()
        #expect(try user.files.get(other).stat().inode != readStat.inode)
    }

    @Test func dispatchedPipeWritesBothNumbers() throws {
        let world = KernelFixture()
        let memory = BufferMemory()
        let fildes = memory.allocate(8)
        #expect(world.call(.pipe2, memory, fildes, UInt64(OpenOptions.closeOnExec)) == 0)
        #expect(memory.contents(at: fildes, count: 8) == [0, 0, 0, 0, 1, 0, 0, 0])
        #expect(world.call(.pipe, memory, fildes) == 0)
        #expect(memory.contents(at: fildes, count: 8) == [2, 0, 0, 0, 3, 0, 0, 0])
    }

    @Test func dispatchedPipeWithBadPointerLeavesNoDescriptor() throws {
        // Linux 6.18: pipe2(8, 0) and pipe(8) → EFAULT; the next open gets fd 3 (unused).
        let world = KernelFixture()
        let memory = BufferMemory()
        #expect(world.call(.pipe2, memory, 8, 0) == failure(.badAddress))
        #expect(world.call(.pipe, memory, 8) == failure(.badAddress))
        #expect(world.task.files.openDescriptors.isEmpty)
        #expect(
            world.call(.pipe2, memory, 8, UInt64(OpenOptions.append)) == failure(.invalidArgument))
    }

    // MARK: - memfd_create

    @Test func memfdIsReadWriteAnonymousRegularFile() throws {
        // Linux 6.18: os.memfd_create("hello") → mode 0100777, nlink 0, F_GETFL 0x8002,
        // FD_CLOEXEC clear; write "hello" → size 5, offset 5.
        let world = KernelFixture()
        let fd = try world.task.memfd_create("hello", 0)
        let stat = try world.task.files.get(fd).stat()
        #expect(stat.mode.rawValue == 0o100777)
        #expect(stat.nlink == 0)
        #expect(try world.task.fcntl(fd, Linux.F_GETFL) == 0x8002)
        #expect(try world.task.fcntl(fd, Linux.F_GETFD) == 0)
        #expect(try world.task.write(fd, Array("hello".utf8)) == 5)
        #expect(try world.task.files.get(fd).stat().size == 5)
        #expect(try world.task.lseek(fd, 0, Linux.SEEK_CUR) == 5)
        #expect(try world.task.pread64(fd, count: 10, 0) == Array("hello".utf8))
    }

    @Test func memfdIgnoresUmaskAndBelongsToCaller() throws {
        // Linux 6.18: with umask 077 a memfd is still 0777; MFD_NOEXEC_SEAL makes it 0666.
        let world = KernelFixture()
        let user = world.user(1234)
        user.umask(0o077)
        let fd = try user.memfd_create("u", 0)
        let stat = try user.files.get(fd).stat()
        #expect(stat.mode.rawValue == 0o100777)
        #expect(stat.uid == 1234 && stat.gid == 1234)
        let sealed = try user.memfd_create("s", Linux.MFD_NOEXEC_SEAL)
        #expect(try user.files.get(sealed).stat().mode.rawValue == 0o100666)
    }

    @Test func memfdCloseOnExecFlag() throws {
        let world = KernelFixture()
        let fd = try world.task.memfd_create("x", Linux.MFD_CLOEXEC | Linux.MFD_ALLOW_SEALING)
        #expect(try world.task.fcntl(fd, Linux.F_GETFD) == Linux.FD_CLOEXEC)
    }

    @Test func memfdsAreDistinctAndNamedNowhere() throws {
        let world = KernelFixture()
        let a = try world.task.memfd_create("same", 0)
        let b = try world.task.memfd_create("same", 0)
        _ = try world.task.write(a, [1])
        #expect(try world.task.files.get(b).stat().size == 0)
        #expect(try world.task.fs.listDirectory("/").isEmpty)
    }

    @Test func memfdNameLimitIs249Bytes() throws {
        // Linux 6.18: 249 bytes → ok, 250 → EINVAL; "" and "a/b" are fine.
        let world = KernelFixture()
        _ = try world.task.memfd_create([UInt8](repeating: 0x61, count: 249), 0)
        #expect(throws: Errno.invalidArgument) {
            try world.task.memfd_create([UInt8](repeating: 0x61, count: 250), 0)
        }
        _ = try world.task.memfd_create("", 0)
        _ = try world.task.memfd_create("a/b", 0)
    }

    @Test func memfdFlagChecks() throws {
        // Linux 6.18: MFD_HUGETLB (4), MFD_NOEXEC_SEAL (8), MFD_EXEC (0x10) and
        // MFD_HUGETLB | 21 << 26 are accepted; MFD_EXEC|MFD_NOEXEC_SEAL (0x18), 0x20, 0x40,
        // 0x80000000 and 1 << 26 without MFD_HUGETLB → EINVAL.
        let world = KernelFixture()
        for flags: UInt32 in [4, 8, 0x10, 4 | (21 << 26)] {
            _ = try world.task.memfd_create("n", flags)
        }
        for flags: UInt32 in [0x18, 0x20, 0x40, 0x8000_0000, 1 << 26, 3 << 26] {
            #expect(throws: Errno.invalidArgument) { try world.task.memfd_create("n", flags) }
        }
    }

    @Test func memfdFullTableIsTooManyFiles() throws {
        let world = KernelFixture()
        world.task.files.limit = 0
        #expect(throws: Errno.tooManyOpenFiles) { try world.task.memfd_create("n", 0) }
    }

    @Test func dispatchedMemfdReadsNameAfterFlags() throws {
        // Linux 6.18: a bad or NULL name pointer → EFAULT; bad flags come first (EINVAL).
        let world = KernelFixture()
        let memory = BufferMemory()
        #expect(world.call(.memfdCreate, memory, 8, 0) == failure(.badAddress))
        #expect(world.call(.memfdCreate, memory, 0, 0) == failure(.badAddress))
        #expect(world.call(.memfdCreate, memory, 8, 0x20) == failure(.invalidArgument))
        #expect(world.call(.memfdCreate, memory, memory.cString("ok"), 1) == 0)
        #expect(try world.task.fcntl(0, Linux.F_GETFD) == Linux.FD_CLOEXEC)
    }

    @Test func dispatchedMemfdNameWithoutNulInLimitIsInvalid() throws {
        let world = KernelFixture()
        let memory = BufferMemory()
        let long = memory.map([UInt8](repeating: 0x61, count: 300) + [0])
        #expect(world.call(.memfdCreate, memory, long, 0) == failure(.invalidArgument))
        let fits = memory.map([UInt8](repeating: 0x61, count: 249) + [0])
        #expect(world.call(.memfdCreate, memory, fits, 0) == 0)
    }
}

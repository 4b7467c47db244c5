import Testing
import TmpfsBackend
import VFSCore

@testable import Syscalls

@Suite struct FcntlTests {
    /// A root task with /f (mode 0666, "hello") and /d.
    func world() throws -> KernelFixture {
        let world = KernelFixture()
        try world.task.fs.writeFile("/f", contents: Array("hello".utf8))
        try world.task.fs.changeMode("/f", 0o666)
        try world.task.fs.makeDirectory("/d")
        return world
    }

    func open(_ world: KernelFixture, _ path: PathArgument, _ flags: Int32) throws -> Int32 {
        try world.task.openat(Linux.AT_FDCWD, path, flags)
    }

    // MARK: - F_GETFL

    @Test func getflShowsAccessModeAndLargeFile() throws {
        // Linux 6.18 on tmpfs: open O_RDWR → F_GETFL 0x8002.
        let world = try world()
        let fd = try open(world, "/f", OpenOptions.readWrite)
        #expect(try world.task.fcntl(fd, Linux.F_GETFL) == 0x8002)
    }

    @Test func getflHidesCreationFlagsAndCloseOnExec() throws {
        // Linux 6.18 on tmpfs: O_RDONLY|O_CLOEXEC|O_APPEND|O_NONBLOCK|O_NOFOLLOW|O_SYNC|O_TRUNC|
        // O_CREAT|O_NOCTTY|O_NOATIME|O_DSYNC → 0x169c00.
        let world = try world()
        let flags =
            OpenOptions.readOnly | OpenOptions.closeOnExec | OpenOptions.append
            | OpenOptions.nonBlocking | OpenOptions.noFollow | OpenOptions.sync
            | OpenOptions.truncate | OpenOptions.create | OpenOptions.noControllingTerminal
            | OpenOptions.noAccessTime | OpenOptions.dataSync
        let fd = try open(world, "/f", flags)
        #expect(try world.task.fcntl(fd, Linux.F_GETFL) == 0x169c00)
    }

    @Test func getflShowsDirectoryPathAndTemporaryFileBits() throws {
        // Linux 6.18: O_DIRECTORY → 0x18000; O_PATH|O_CLOEXEC|O_DIRECTORY|O_NOFOLLOW →
        // 0x230000 (no O_LARGEFILE); O_TMPFILE|O_RDWR → 0x418002.
        let world = try world()
        let directory = try open(world, "/d", OpenOptions.readOnly | OpenOptions.directory)
        #expect(try world.task.fcntl(directory, Linux.F_GETFL) == 0x18000)
        let path = try open(
            world, "/d",
            OpenOptions.pathOnly | OpenOptions.closeOnExec | OpenOptions.directory
                | OpenOptions.noFollow)
        #expect(try world.task.fcntl(path, Linux.F_GETFL) == 0x230000)
        let temporary = try world.task.openat(
            Linux.AT_FDCWD, "/d", OpenOptions.temporaryFile | OpenOptions.readWrite, 0o600)
        #expect(try world.task.fcntl(temporary, Linux.F_GETFL) == 0x418002)
    }

    // MARK: - F_SETFL

    @Test func setflChangesOnlySettableFlags() throws {
        // Linux 6.18 on tmpfs, O_RDWR file: F_SETFL -1 → F_GETFL 0x4cc02; F_SETFL 0 → 0x8002.
        let world = try world()
        let fd = try open(world, "/f", OpenOptions.readWrite)
        #expect(try world.task.fcntl(fd, Linux.F_SETFL, -1) == 0)
        #expect(try world.task.fcntl(fd, Linux.F_GETFL) == 0x4cc02)
        #expect(try world.task.fcntl(fd, Linux.F_SETFL, 0) == 0)
        #expect(try world.task.fcntl(fd, Linux.F_GETFL) == 0x8002)
    }

    @Test func setflAsyncIsIgnoredOnRegularFile() throws {
        // Linux 6.18 on tmpfs: F_SETFL O_ASYNC → 0 and F_GETFL still 0x8002; a file opened
        // with O_ASYNC keeps it through F_SETFL 0 (0xa000).
        let world = try world()
        let fd = try open(world, "/f", OpenOptions.readWrite)
        #expect(try world.task.fcntl(fd, Linux.F_SETFL, Int(OpenOptions.async)) == 0)
        #expect(try world.task.fcntl(fd, Linux.F_GETFL) == 0x8002)
        let opened = try open(world, "/f", OpenOptions.readOnly | OpenOptions.async)
        #expect(try world.task.fcntl(opened, Linux.F_GETFL) == 0xa000)
        _ = try world.task.fcntl(opened, Linux.F_SETFL, 0)
        #expect(try world.task.fcntl(opened, Linux.F_GETFL) == 0xa000)
    }

    @Test func setflAsyncWorksOnPipe() throws {
        // Linux 6.18: pipe read end, F_SETFL O_ASYNC → F_GETFL 0x2000.
        let world = try world()
        let (reader, _) = try world.task.pipe()
        _ = try world.task.fcntl(reader, Linux.F_SETFL, Int(OpenOptions.async))
        #expect(try world.task.fcntl(reader, Linux.F_GETFL) == 0x2000)
    }

    @Test func setflDirectNeedsRegularFileOrPipe() throws {
        // Linux 6.18: O_DIRECT on a tmpfs file → 0xc002, on a directory → EINVAL, on a pipe →
        // 0x4000.
        let world = try world()
        let file = try open(world, "/f", OpenOptions.readWrite)
        _ = try world.task.fcntl(file, Linux.F_SETFL, Int(OpenOptions.direct))
        #expect(try world.task.fcntl(file, Linux.F_GETFL) == 0xc002)
        let directory = try open(world, "/d", OpenOptions.readOnly | OpenOptions.directory)
        #expect(throws: Errno.invalidArgument) {
            try world.task.fcntl(directory, Linux.F_SETFL, Int(OpenOptions.direct))
        }
        #expect(try world.task.fcntl(directory, Linux.F_GETFL) == 0x18000)
        let (reader, _) = try world.task.pipe()
        _ = try world.task.fcntl(reader, Linux.F_SETFL, Int(OpenOptions.direct))
        #expect(try world.task.fcntl(reader, Linux.F_GETFL) == 0x4000)
    }

    @Test func setflNoAccessTimeNeedsOwnership() throws {
        // Linux 6.18, uid 1000 on a root-owned 0666 file: O_NOATIME → EPERM, O_APPEND → 0.
        let world = try world()
        let user = world.user()
        let fd = try user.openat(Linux.AT_FDCWD, "/f", OpenOptions.readWrite)
        #expect(throws: Errno.notPermitted) {
            try user.fcntl(fd, Linux.F_SETFL, Int(OpenOptions.noAccessTime))
        }
        #expect(try user.fcntl(fd, Linux.F_SETFL, Int(OpenOptions.append)) == 0)
        #expect(try user.fcntl(fd, Linux.F_GETFL) == 0x8402)
    }

    @Test func setflNonBlockMakesEmptyPipeReadFail() throws {
        let world = try world()
        let (reader, _) = try world.task.pipe()
        _ = try world.task.fcntl(reader, Linux.F_SETFL, Int(OpenOptions.nonBlocking))
        #expect(throws: Errno.resourceTemporarilyUnavailable) {
            try world.task.read(reader, count: 10)
        }
    }

    @Test func setflAppendMakesWritesAppend() throws {
        let world = try world()
        let fd = try open(world, "/f", OpenOptions.writeOnly)
        _ = try world.task.fcntl(fd, Linux.F_SETFL, Int(OpenOptions.append))
        _ = try world.task.write(fd, Array("!".utf8))
        #expect(try world.task.fs.readFile("/f") == Array("hello!".utf8))
    }

    // MARK: - F_GETFD, F_SETFD

    @Test func setfdUsesOnlyCloseOnExecBit() throws {
        // Linux 6.18: F_SETFD 3 → FD_CLOEXEC; 2 → 0; -1 → FD_CLOEXEC.
        let world = try world()
        let fd = try open(world, "/f", OpenOptions.readOnly)
        #expect(try world.task.fcntl(fd, Linux.F_GETFD) == 0)
        _ = try world.task.fcntl(fd, Linux.F_SETFD, 3)
        #expect(try world.task.fcntl(fd, Linux.F_GETFD) == 1)
        _ = try world.task.fcntl(fd, Linux.F_SETFD, 2)
        #expect(try world.task.fcntl(fd, Linux.F_GETFD) == 0)
        _ = try world.task.fcntl(fd, Linux.F_SETFD, -1)
        #expect(try world.task.fcntl(fd, Linux.F_GETFD) == 1)
    }

    @Test func openCloseOnExecShowsInGetfd() throws {
        let world = try world()
        let fd = try open(world, "/f", OpenOptions.readOnly | OpenOptions.closeOnExec)
        #expect(try world.task.fcntl(fd, Linux.F_GETFD) == Linux.FD_CLOEXEC)
    }

    // MARK: - F_DUPFD, F_DUPFD_CLOEXEC, F_DUPFD_QUERY

    @Test func dupfdTakesLowestFreeNumberFromArgument() throws {
        // Linux 6.18: F_DUPFD 100 → 100, again → 101; F_DUPFD_CLOEXEC 100 → 102 with
        // FD_CLOEXEC; the F_DUPFD copies have no FD_CLOEXEC.
        let world = try world()
        let fd = try open(world, "/f", OpenOptions.readOnly | OpenOptions.closeOnExec)
        #expect(try world.task.fcntl(fd, Linux.F_DUPFD, 100) == 100)
        #expect(try world.task.fcntl(100, Linux.F_GETFD) == 0)
        #expect(try world.task.fcntl(fd, Linux.F_DUPFD, 100) == 101)
        #expect(try world.task.fcntl(fd, Linux.F_DUPFD_CLOEXEC, 100) == 102)
        #expect(try world.task.fcntl(102, Linux.F_GETFD) == 1)
    }

    @Test func dupfdSharesTheOffset() throws {
        let world = try world()
        let fd = try open(world, "/f", OpenOptions.readOnly)
        let copy = try world.task.fcntl(fd, Linux.F_DUPFD, 0)
        _ = try world.task.read(fd, count: 2)
        #expect(try world.task.read(copy, count: 10) == Array("llo".utf8))
    }

    @Test func dupfdArgumentAtOrPastLimitIsInvalid() throws {
        // Linux 6.18, RLIMIT_NOFILE 10: F_DUPFD 10 → EINVAL, F_DUPFD_CLOEXEC 10 → EINVAL,
        // F_DUPFD -1 → EINVAL; with every number taken, F_DUPFD 9 and 0 → EMFILE.
        let world = try world()
        world.task.files.limit = 10
        let fd = try open(world, "/f", OpenOptions.readOnly)
        #expect(throws: Errno.invalidArgument) { try world.task.fcntl(fd, Linux.F_DUPFD, 10) }
        #expect(throws: Errno.invalidArgument) {
            try world.task.fcntl(fd, Linux.F_DUPFD_CLOEXEC, 10)
        }
        #expect(throws: Errno.invalidArgument) { try world.task.fcntl(fd, Linux.F_DUPFD, -1) }
        while (try? world.task.dup(fd)) != nil {}
        #expect(throws: Errno.tooManyOpenFiles) { try world.task.fcntl(fd, Linux.F_DUPFD, 9) }
        #expect(throws: Errno.tooManyOpenFiles) { try world.task.fcntl(fd, Linux.F_DUPFD, 0) }
    }

    @Test func dupfdQueryComparesDescriptions() throws {
        // Linux 6.18: F_DUPFD_QUERY on a pipe: itself → 1, the other end → 0, a dup → 1,
        // a closed number → EBADF.
        let world = try world()
        let (reader, writer) = try world.task.pipe()
        let copy = try world.task.dup(reader)
        #expect(try world.task.fcntl(reader, Linux.F_DUPFD_QUERY, Int(reader)) == 1)
        #expect(try world.task.fcntl(reader, Linux.F_DUPFD_QUERY, Int(writer)) == 0)
        #expect(try world.task.fcntl(reader, Linux.F_DUPFD_QUERY, Int(copy)) == 1)
        #expect(throws: Errno.badFileDescriptor) {
            try world.task.fcntl(reader, Linux.F_DUPFD_QUERY, 999)
        }
    }

    // MARK: - Descriptors and commands

    @Test func pathDescriptorTakesOnlyDescriptorCommands() throws {
        // Linux 6.18, O_PATH fd: F_GETFD, F_SETFD, F_DUPFD work; F_SETFL, F_GETLK (even with a
        // bad pointer), F_GETPIPE_SZ and an unknown command → EBADF.
        let world = try world()
        let fd = try open(world, "/d", OpenOptions.pathOnly | OpenOptions.closeOnExec)
        #expect(try world.task.fcntl(fd, Linux.F_GETFD) == 1)
        #expect(try world.task.fcntl(fd, Linux.F_SETFD, 0) == 0)
        #expect(try world.task.fcntl(fd, Linux.F_DUPFD, 0) >= 0)
        #expect(throws: Errno.badFileDescriptor) {
            try world.task.fcntl(fd, Linux.F_SETFL, Int(OpenOptions.nonBlocking))
        }
        #expect(throws: Errno.badFileDescriptor) { try world.task.fcntl(fd, Linux.F_GETPIPE_SZ) }
        #expect(throws: Errno.badFileDescriptor) { try world.task.fcntl(fd, 1234) }
        var lock = LinuxFlock(type: Linux.F_WRLCK)
        #expect(throws: Errno.badFileDescriptor) {
            try world.task.fcntl(fd, Linux.F_GETLK, lock: &lock)
        }
        let memory = BufferMemory()
        #expect(
            world.call(.fcntl, memory, UInt64(fd), UInt64(Linux.F_GETLK), 8)
                == failure(.badFileDescriptor))
    }

    @Test func unknownCommandIsInvalidAfterDescriptorCheck() throws {
        // Linux 6.18: fcntl(f, 1234) → EINVAL; fcntl(999, 1234) → EBADF.
        let world = try world()
        let fd = try open(world, "/f", OpenOptions.readOnly)
        #expect(throws: Errno.invalidArgument) { try world.task.fcntl(fd, 1234) }
        #expect(throws: Errno.badFileDescriptor) { try world.task.fcntl(999, 1234) }
        #expect(throws: Errno.badFileDescriptor) { try world.task.fcntl(-1, Linux.F_GETFD) }
    }

    @Test func getPipeSizeNeedsAPipe() throws {
        // Linux 6.18: F_GETPIPE_SZ on a pipe → 65536; on a tmpfs file → EBADF.
        let world = try world()
        let (reader, writer) = try world.task.pipe()
        #expect(try world.task.fcntl(reader, Linux.F_GETPIPE_SZ) == 65536)
        #expect(try world.task.fcntl(writer, Linux.F_GETPIPE_SZ) == 65536)
        let fd = try open(world, "/f", OpenOptions.readOnly)
        #expect(throws: Errno.badFileDescriptor) { try world.task.fcntl(fd, Linux.F_GETPIPE_SZ) }
    }

    // MARK: - Lock commands

    @Test func lockCommandsGoToRecordLocks() throws {
        // Linux 6.18: F_GETLK on a file nobody locks sets l_type to F_UNLCK.
        let world = try world()
        let fd = try open(world, "/f", OpenOptions.readWrite)
        var probe = LinuxFlock(type: Linux.F_WRLCK)
        try world.task.fcntl(fd, Linux.F_GETLK, lock: &probe)
        #expect(probe.type == Linux.F_UNLCK)
        var lock = LinuxFlock(type: Linux.F_WRLCK, start: 0, length: 2)
        try world.task.fcntl(fd, Linux.F_SETLK, lock: &lock)
        let other = world.task.clone()
        var seen = LinuxFlock(type: Linux.F_WRLCK)
        try other.fcntl(fd, Linux.F_GETLK, lock: &seen)
        #expect(seen.type == Linux.F_WRLCK && seen.pid == world.task.id && seen.length == 2)
    }

    @Test func lockCommandWithoutStructIsInvalid() throws {
        let world = try world()
        let fd = try open(world, "/f", OpenOptions.readWrite)
        #expect(throws: Errno.invalidArgument) { try world.task.fcntl(fd, Linux.F_GETLK) }
        var lock = LinuxFlock(type: Linux.F_WRLCK)
        #expect(throws: Errno.invalidArgument) {
            try world.task.fcntl(fd, Linux.F_GETFD, lock: &lock)
        }
    }

    @Test func dispatchedGetlkReadsAndWritesStructFlock() throws {
        let world = try world()
        let fd = try open(world, "/f", OpenOptions.readWrite)
        let memory = BufferMemory()
        let address = memory.map(LinuxFlock(type: Linux.F_RDLCK, start: 1, length: 1).bytes)
        #expect(world.call(.fcntl, memory, UInt64(fd), UInt64(Linux.F_GETLK), address) == 0)
        let back = LinuxFlock(bytes: memory.contents(at: address, count: LinuxFlock.size))
        #expect(back.type == Linux.F_UNLCK)
    }

    @Test func dispatchedLockCommandChecksDescriptorBeforePointer() throws {
        // Linux 6.18: F_GETLK with pointer 8 on an open file → EFAULT; on fd 999 → EBADF.
        let world = try world()
        let fd = try open(world, "/f", OpenOptions.readWrite)
        let memory = BufferMemory()
        #expect(
            world.call(.fcntl, memory, UInt64(fd), UInt64(Linux.F_GETLK), 8)
                == failure(.badAddress))
        #expect(
            world.call(.fcntl, memory, 999, UInt64(Linux.F_GETLK), 8)
                == failure(.badFileDescriptor))
    }

    @Test func dispatchedFcntlPassesIntArgument() throws {
        let world = try world()
        let fd = try open(world, "/f", OpenOptions.readOnly)
        let memory = BufferMemory()
        // The upper half of the register is ignored for an int argument: 0x1_0000_0005 is 5.
        #expect(world.call(.fcntl, memory, UInt64(fd), UInt64(Linux.F_DUPFD), 0x1_0000_0005) == 5)
        #expect(world.call(.fcntl, memory, UInt64(fd), UInt64(Linux.F_GETFL)) == 0x8000)
        #expect(world.call(.fcntl, memory, UInt64(fd), 1234) == failure(.invalidArgument))
    }
}

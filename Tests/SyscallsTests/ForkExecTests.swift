import Testing
import TmpfsBackend
import VFSCore

@testable import Syscalls

/// `Task.clone` (fork, CLONE_FILES, CLONE_FS, threads) and `Task.exec`. Kernel facts from
/// Linux 6.18 with small C programs (fork, clone(CLONE_FILES), execv).
@Suite struct ForkExecTests {
    func world() throws -> KernelFixture {
        let world = KernelFixture()
        try world.task.fs.writeFile("/f", contents: Array("0123456789".utf8))
        return world
    }

    func open(_ task: Syscalls.Task, _ flags: Int32 = OpenOptions.readOnly) throws -> Int32 {
        try task.openat(Linux.AT_FDCWD, "/f", flags)
    }

    // MARK: - Descriptor tables

    @Test func forkCopiesOpenDescriptors() throws {
        let world = try world()
        let fd = try open(world.task)
        let child = world.task.clone()
        #expect(try child.files.get(fd) === world.task.files.get(fd))
    }

    @Test func copiedTableDoesNotSeeLaterOpens() throws {
        let world = try world()
        let child = world.task.clone()
        let fd = try open(child)
        #expect(throws: Errno.badFileDescriptor) { try world.task.files.get(fd) }
        let parentFD = try open(world.task)
        #expect(parentFD == fd)
        #expect(try child.files.get(fd) !== world.task.files.get(parentFD))
    }

    @Test func closeInForkedChildLeavesParentOpen() throws {
        let world = try world()
        let fd = try open(world.task)
        let child = world.task.clone()
        try child.close(fd)
        #expect(try world.task.read(fd, count: 2) == Array("01".utf8))
    }

    @Test func sharedTableSeesOtherTasksOpensAndCloses() throws {
        // CLONE_FILES: one table, so an open or close by either is seen by both.
        let world = try world()
        let child = world.task.clone(shareFiles: true)
        let fd = try open(child)
        #expect(try world.task.read(fd, count: 3) == Array("012".utf8))
        try world.task.close(fd)
        #expect(throws: Errno.badFileDescriptor) { try child.read(fd, count: 1) }
    }

    @Test func forkSharesOffsetOfInheritedDescriptions() throws {
        // Linux 6.18: the child reads 3 bytes; the parent's lseek(fd, 0, SEEK_CUR) is then 3.
        let world = try world()
        let fd = try open(world.task)
        let child = world.task.clone()
        _ = try child.read(fd, count: 3)
        #expect(try world.task.lseek(fd, 0, Linux.SEEK_CUR) == 3)
        #expect(try world.task.read(fd, count: 2) == Array("34".utf8))
    }

    @Test func forkKeepsCloseOnExecFlags() throws {
        let world = try world()
        let marked = try open(world.task, OpenOptions.readOnly | OpenOptions.closeOnExec)
        let plain = try open(world.task)
        let child = world.task.clone()
        #expect(try child.fcntl(marked, Linux.F_GETFD) == Linux.FD_CLOEXEC)
        #expect(try child.fcntl(plain, Linux.F_GETFD) == 0)
    }

    @Test func forkedChildExitClosesItsPipeEnd() throws {
        let world = try world()
        let (reader, writer) = try world.task.pipe()
        let child = world.task.clone()
        try world.task.close(writer)
        _ = try child.write(writer, [7])
        child.exit()
        #expect(try world.task.read(reader, count: 4) == [7])
        #expect(try world.task.read(reader, count: 4) == [])
    }

    // MARK: - exec

    @Test func execClosesOnlyCloseOnExecDescriptors() throws {
        let world = try world()
        let marked = try open(world.task, OpenOptions.readOnly | OpenOptions.closeOnExec)
        let plain = try open(world.task)
        let markedLater = try open(world.task)
        _ = try world.task.fcntl(markedLater, Linux.F_SETFD, Int(Linux.FD_CLOEXEC))
        world.task.exec()
        #expect(throws: Errno.badFileDescriptor) { try world.task.files.get(marked) }
        #expect(throws: Errno.badFileDescriptor) { try world.task.files.get(markedLater) }
        #expect(try world.task.read(plain, count: 1) == Array("0".utf8))
    }

    @Test func execInForkedChildLeavesParentDescriptors() throws {
        let world = try world()
        let marked = try open(world.task, OpenOptions.readOnly | OpenOptions.closeOnExec)
        let child = world.task.clone()
        child.exec()
        #expect(throws: Errno.badFileDescriptor) { try child.files.get(marked) }
        _ = try world.task.files.get(marked)
    }

    @Test func execUnsharesTableBeforeClosing() throws {
        // Linux 6.18: a clone(CLONE_FILES) child that execs drops its close-on-exec fd, but
        // the parent's copy stays open: execve unshares the table first (unshare_files).
        let world = try world()
        let marked = try open(world.task, OpenOptions.readOnly | OpenOptions.closeOnExec)
        let child = world.task.clone(shareFiles: true)
        child.exec()
        _ = try world.task.files.get(marked)
    }

    // MARK: - fs context

    @Test func copiedContextKeepsOwnWorkingDirectoryAndUmask() throws {
        let world = try world()
        try world.task.fs.makeDirectory("/a")
        let child = world.task.clone()
        try child.chdir("/a")
        child.umask(0o077)
        #expect(try world.task.getcwd(64) == Array("/".utf8) + [0])
        #expect(world.task.umask(0o022) == 0o022)
    }

    @Test func sharedContextSharesWorkingDirectoryAndUmask() throws {
        // CLONE_FS: chdir and umask by one are seen by the other.
        let world = try world()
        try world.task.fs.makeDirectory("/a")
        let child = world.task.clone(shareFS: true)
        try child.chdir("/a")
        child.umask(0o077)
        #expect(try world.task.getcwd(64) == Array("/a".utf8) + [0])
        #expect(world.task.umask(0o022) == 0o077)
    }

    @Test func threadKeepsProcessIdentityAndNewProcessDoesNot() throws {
        let world = try world()
        #expect(world.task.clone(sameProcess: true).id == world.task.id)
        #expect(world.task.clone().id != world.task.id)
    }
}

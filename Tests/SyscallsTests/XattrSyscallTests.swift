import Testing
import TmpfsBackend
import VFSCore

@testable import Syscalls

/// The xattr syscalls over tmpfs (xattr(7); the store's own rules are in TmpfsBackendTests).
@Suite struct XattrSyscallTests {
    let task: Task

    init() throws {
        let kernel = Kernel()
        let tmpfs = TmpfsFilesystem()
        task = Task(kernel: kernel, namespace: kernel.vfs.makeNamespace(root: tmpfs, rootDentry: tmpfs.root))
        let fd = try task.openat(Linux.AT_FDCWD, "/f", OpenOptions.create | OpenOptions.writeOnly, 0o644)
        try task.close(fd)
        try task.symlinkat("f", Linux.AT_FDCWD, "/l")
    }

    let name = Array("user.color".utf8)

    @Test func setThenGetReturnsTheValue() throws {
        try task.setxattr("/f", name, Array("blue".utf8), 0)
        #expect(try task.getxattr("/f", name, 64) == Array("blue".utf8))
    }

    @Test func aBufferTooSmallIsERANGE() throws {
        try task.setxattr("/f", name, Array("blue".utf8), 0)
        #expect(throws: Errno.outOfRange) { _ = try task.getxattr("/f", name, 3) }
    }

    @Test func theSymlinkFormsActOnTheLinkItself() throws {
        try task.setxattr("/l", name, [1], 0)
        #expect(try task.getxattr("/f", name, 8) == [1])
        // user.* is for regular files and directories only: EPERM to set on a symlink.
        #expect(throws: Errno.notPermitted) { try task.lsetxattr("/l", name, [1], 0) }
        #expect(throws: Errno.noData) { _ = try task.lgetxattr("/l", name, 8) }
    }

    @Test func listNamesEachNULTerminated() throws {
        try task.setxattr("/f", name, [1], 0)
        #expect(try task.listxattr("/f", 100) == name + [0])
        #expect(throws: Errno.outOfRange) { _ = try task.listxattr("/f", 3) }
    }

    @Test func descriptorFormsRejectOPathDescriptors() throws {
        let fd = try task.openat(Linux.AT_FDCWD, "/f", OpenOptions.pathOnly, 0)
        #expect(throws: Errno.badFileDescriptor) { _ = try task.flistxattr(fd, 100) }
        #expect(throws: Errno.badFileDescriptor) { try task.fsetxattr(fd, name, [1], 0) }
    }

    @Test func removeThenGetIsENODATA() throws {
        try task.setxattr("/f", name, [1], 0)
        try task.removexattr("/f", name)
        #expect(throws: Errno.noData) { _ = try task.getxattr("/f", name, 8) }
    }

    @Test func dispatcherReturnsTheLengthForASizeQueryAndChecksNames() throws {
        let memory = BufferMemory()
        let dispatcher = SyscallDispatcher(task: task, memory: memory)
        let path = memory.cString("/f")
        let attribute = memory.cString("user.color")
        let value = memory.map(Array("blue".utf8))
        #expect(dispatcher.dispatch(SyscallNumber.setxattr.rawValue, SyscallArguments(path, attribute, value, 4, 0)) == 0)
        #expect(dispatcher.dispatch(SyscallNumber.getxattr.rawValue, SyscallArguments(path, attribute, 0, 0)) == 4)
        let buffer = memory.allocate(16)
        #expect(dispatcher.dispatch(SyscallNumber.getxattr.rawValue, SyscallArguments(path, attribute, buffer, 16)) == 4)
        #expect(memory.contents(at: buffer, count: 4) == Array("blue".utf8))
        let longName = memory.cString("user." + String(repeating: "x", count: 300))
        #expect(
            dispatcher.dispatch(SyscallNumber.getxattr.rawValue, SyscallArguments(path, longName, buffer, 16))
                == -Int64(Errno.outOfRange.rawValue))
        #expect(
            dispatcher.dispatch(SyscallNumber.getxattr.rawValue, SyscallArguments(path, 0xdead_0000, buffer, 16))
                == -Int64(Errno.badAddress.rawValue))
    }
}

import Foundation
import HostBackend
import HostSyscalls
import Syscalls
import Testing
import VFSCore

/// Host fds imported into a task's fd table keep the host object's stat and I/O semantics.
@Suite struct HostImportTests {
    /// A task whose root is the (empty) hidden file system of the imports: the imported
    /// descriptions are all it has.
    private func makeTask() -> (Task, HostImports) {
        let kernel = Kernel()
        let imports = HostImports(vfs: kernel.vfs)
        let namespace = kernel.vfs.makeNamespace(
            root: imports.mount.filesystem, rootDentry: imports.mount.root)
        return (Task(kernel: kernel, namespace: namespace), imports)
    }

    @Test func childStdoutPipeIsReadThroughTheTask() throws {
        let (task, imports) = makeTask()
        let pipe = Pipe()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", "printf 'hello from the child'"]
        child.standardOutput = pipe
        try child.run()
        let fd = try task.install(
            try imports.importDescription(duplicating: pipe.fileHandleForReading.fileDescriptor))
        try pipe.fileHandleForWriting.close()
        child.waitUntilExit()
        var received: [UInt8] = []
        while true {
            let chunk = try task.read(fd, count: 64)
            if chunk.isEmpty { break }
            received += chunk
        }
        #expect(String(decoding: received, as: UTF8.self) == "hello from the child")
    }

    @Test func importedPipeIsAFifoAndNotSeekable() throws {
        let (task, imports) = makeTask()
        let pipe = Pipe()
        let fd = try task.install(
            try imports.importDescription(duplicating: pipe.fileHandleForReading.fileDescriptor))
        #expect(try task.fstat(fd).mode & 0o170000 == FileType.fifo.rawValue)
        // Linux 6.18: lseek and pread on a pipe are ESPIPE.
        #expect(throws: Errno.illegalSeek) { try task.lseek(fd, 0, 0) }
        #expect(throws: Errno.illegalSeek) { try task.pread64(fd, count: 1, 0) }
    }

    @Test func writesToAnImportedPipeReachTheChildsStdin() throws {
        let (task, imports) = makeTask()
        let input = Pipe()
        let output = Pipe()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/cat")
        child.standardInput = input
        child.standardOutput = output
        try child.run()
        let fd = try task.install(
            try imports.importDescription(duplicating: input.fileHandleForWriting.fileDescriptor))
        try input.fileHandleForWriting.close()
        #expect(try task.write(fd, Array("ping".utf8)) == 4)
        try task.close(fd)  // the last writer: cat sees EOF
        child.waitUntilExit()
        let echoed = output.fileHandleForReading.readDataToEndOfFile()
        #expect(String(decoding: echoed, as: UTF8.self) == "ping")
    }

    @Test func writingToAPipeWithoutReadersIsEPIPENotASignal() throws {
        let (task, imports) = makeTask()
        let pipe = Pipe()
        let fd = try task.install(
            try imports.importDescription(duplicating: pipe.fileHandleForWriting.fileDescriptor))
        try pipe.fileHandleForWriting.close()
        try pipe.fileHandleForReading.close()
        // Linux gives the writer EPIPE (and SIGPIPE, which must not reach the host process).
        #expect(throws: Errno.brokenPipe) { try task.write(fd, [1]) }
    }

    @Test func importedRegularFileStartsAtTheHostOffsetAndSeeks() throws {
        let (task, imports) = makeTask()
        let path = "/dev/shm/vfskit-import-\(getpid())-\(UUID().uuidString.prefix(8))"
        FileManager.default.createFile(atPath: path, contents: Data("0123456789".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let host = try HostSyscall.openat(
            HostSyscall.currentDirectory, Array(path.utf8), flags: HostOpenFlags.readWrite)
        _ = try HostSyscall.lseek(host.rawValue, 4, whence: 0)
        let fd = try task.install(try imports.importDescription(adopting: host))
        #expect(try task.read(fd, count: 3) == Array("456".utf8))
        #expect(try task.lseek(fd, 0, 2) == 10)
        #expect(try task.fstat(fd).size == 10)
        #expect(try task.write(fd, Array("ab".utf8)) == 2)
        #expect(FileManager.default.contents(atPath: path) == Data("0123456789ab".utf8))
    }

    @Test func importedReadOnlyFdRefusesWritesWithEBADF() throws {
        let (task, imports) = makeTask()
        let path = "/dev/shm/vfskit-import-ro-\(getpid())-\(UUID().uuidString.prefix(8))"
        FileManager.default.createFile(atPath: path, contents: Data("x".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let host = try HostSyscall.openat(
            HostSyscall.currentDirectory, Array(path.utf8), flags: HostOpenFlags.readOnly)
        let fd = try task.install(try imports.importDescription(adopting: host))
        #expect(throws: Errno.badFileDescriptor) { try task.write(fd, [1]) }
    }

    @Test func importedDevNullIsACharacterDevice() throws {
        let (task, imports) = makeTask()
        let host = try HostSyscall.openat(
            HostSyscall.currentDirectory, Array("/dev/null".utf8), flags: HostOpenFlags.readWrite)
        let fd = try task.install(try imports.importDescription(adopting: host))
        #expect(try task.fstat(fd).mode & 0o170000 == FileType.characterDevice.rawValue)
        #expect(try task.read(fd, count: 8) == [])
        #expect(try task.write(fd, [1, 2]) == 2)
    }

    @Test func oPathFdsCannotBeImported() throws {
        let (_, imports) = makeTask()
        let host = try HostSyscall.openat(
            HostSyscall.currentDirectory, Array("/dev/shm".utf8), flags: HostOpenFlags.path)
        #expect(throws: Errno.badFileDescriptor) { try imports.importDescription(adopting: host) }
    }
}

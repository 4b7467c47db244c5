import GoferBackend
import GoferServer
import LISAFS
import Syscalls
import SystemPackage
import Testing
import VFSCore

#if canImport(Glibc)
    import Glibc
#endif

/// Flush (MID 20): sent when a file descriptor open for writing on a gofer regular file is
/// closed, as gVisor's `regularFileFD.OnClose` — through the fd table's close paths
/// (`FileDescription.onClose`), once per descriptor closed, as Linux's `filp_close` calls
/// `f_op->flush`. Only when the gofer lists Flush (fsgofer and our server by default do not)
/// and in exclusive caching.
@Suite struct GoferFlushTests {
    private func flushingGofer(_ options: GoferOptions = GoferOptions()) throws -> ServedGofer {
        try ServedGofer(server: GoferServerOptions(supportsFlush: true), options: options)
    }

    private func openWritten(_ gofer: ServedGofer, flags: Int32 = OpenOptions.writeOnly)
        throws -> FileDescription
    {
        let file = try gofer.context.open("/f", flags: flags | OpenOptions.create)
        let bytes: [UInt8] = [1, 2, 3]
        _ = try bytes.withUnsafeBytes { buffer throws(Errno) in
            try file.write(from: buffer, credentials: gofer.context.credentials)
        }
        return file
    }

    @Test func closingADescriptorOpenForWritingSendsOneFlush() throws {
        let gofer = try flushingGofer()
        let table = FileTable()
        let fd = try table.install(try openWritten(gofer), closeOnExec: false)
        gofer.filesystem.resetRPCCounts()
        try table.close(fd)
        #expect(gofer.filesystem.rpcCount(.flush) == 1)
        #expect(gofer.filesystem.totalRPCCount == 1)
    }

    @Test func eachDescriptorClosedSendsAFlushEvenWhileTheDescriptionLives() throws {
        let gofer = try flushingGofer()
        let table = FileTable()
        let description = try openWritten(gofer, flags: OpenOptions.readWrite)
        let first = try table.install(description, closeOnExec: false)
        let second = try table.install(description, closeOnExec: false)
        gofer.filesystem.resetRPCCounts()
        try table.close(first)
        #expect(gofer.filesystem.rpcCount(.flush) == 1)
        try table.close(second)
        #expect(gofer.filesystem.rpcCount(.flush) == 2)
    }

    @Test func dup2OverADescriptorFlushesIt() throws {
        let gofer = try flushingGofer()
        let table = FileTable()
        let written = try table.install(try openWritten(gofer), closeOnExec: false)
        let other = try gofer.context.open("/", flags: OpenOptions.readOnly | OpenOptions.directory)
        gofer.filesystem.resetRPCCounts()
        try table.install(other, at: written, closeOnExec: false)
        #expect(gofer.filesystem.rpcCount(.flush) == 1)
    }

    @Test func closeRangeFlushesEveryWritableDescriptor() throws {
        let gofer = try flushingGofer()
        let table = FileTable()
        let description = try openWritten(gofer)
        _ = try table.install(description, closeOnExec: false)
        _ = try table.install(description, closeOnExec: false)
        gofer.filesystem.resetRPCCounts()
        table.closeRange(first: 0, last: 10, closeOnExecOnly: false)
        #expect(gofer.filesystem.rpcCount(.flush) == 2)
    }

    @Test func closingAReadOnlyDescriptorSendsNoFlush() throws {
        let gofer = try flushingGofer()
        _ = try openWritten(gofer)
        let table = FileTable()
        let fd = try table.install(
            try gofer.context.open("/f", flags: OpenOptions.readOnly), closeOnExec: false)
        gofer.filesystem.resetRPCCounts()
        try table.close(fd)
        #expect(gofer.filesystem.rpcCount(.flush) == 0)
    }

    @Test func noFlushWhenTheGoferDoesNotListIt() throws {
        // fsgofer's (and our server's default) Mount response leaves Flush out.
        let gofer = try ServedGofer()
        let table = FileTable()
        let fd = try table.install(try openWritten(gofer), closeOnExec: false)
        gofer.filesystem.resetRPCCounts()
        try table.close(fd)
        #expect(gofer.filesystem.rpcCount(.flush) == 0)
        #expect(gofer.filesystem.totalRPCCount == 0)
    }

    @Test func noFlushInSharedCaching() throws {
        // gVisor flushes only in its exclusive interop mode.
        let gofer = try flushingGofer(GoferOptions(caching: .shared))
        let table = FileTable()
        let fd = try table.install(try openWritten(gofer), closeOnExec: false)
        gofer.filesystem.resetRPCCounts()
        try table.close(fd)
        #expect(gofer.filesystem.rpcCount(.flush) == 0)
    }

    @Test func closeThroughTheSyscallLayerFlushes() throws {
        let gofer = try flushingGofer()
        let kernel = Kernel(vfs: gofer.context.vfs)
        let task = Syscalls.Task(kernel: kernel, namespace: gofer.context.namespace)
        let fd = try task.install(try openWritten(gofer))
        gofer.filesystem.resetRPCCounts()
        try task.close(fd)
        #expect(gofer.filesystem.rpcCount(.flush) == 1)
    }

    @Test func theServerAnswersFlushOnAnOpenFDAndEBADFOnAControlFD() throws {
        let scratch = try HostScratch()
        scratch.write("f", "data")
        let server = try GoferServer(rootPath: scratch.path, options: GoferServerOptions(supportsFlush: true))
        let (socket, serverEnd) = try GoferFixture.connect(server)
        defer { close(serverEnd) }
        let client = RPCClient(socket: socket)
        defer { client.close() }
        let mounted = try client.mount()
        #expect(mounted.supportedMessages.contains(MessageID.flush.rawValue))
        let walked = try client.call(
            WalkRequest(dirFD: mounted.root.controlFD, path: [SizedString(bytes: Array("f".utf8))]))
        let control = try #require(walked.response.inodes.first).controlFD
        #expect(throws: Errno.badFileDescriptor) { try client.call(FlushRequest(fd: control)) }
        let opened = try client.call(OpenAtRequest(fd: control, flags: UInt32(O_WRONLY)))
        _ = try client.call(FlushRequest(fd: opened.response.openFD))
    }
}

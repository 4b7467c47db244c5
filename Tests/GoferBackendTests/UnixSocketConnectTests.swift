import GoferBackend
import GoferServer
import LISAFS
import SystemPackage
import Testing
import TmpfsBackend
import VFSCore

#if canImport(Glibc)
    import Glibc
#endif

/// connect(2) to a socket file in a gofer mount (`FSContext.connectUnixSocket`): the gofer
/// connects a host socket and donates it (Connect / ConnectWithCreds). The errnos are
/// Linux's `unix_find_bsd`, checked on Linux 6.18 with python's socket.connect on /dev/shm.
@Suite struct UnixSocketConnectTests {
    @Test func connectingToAHostListenerExchangesBytes() throws {
        let gofer = try ServedGofer()
        let listener = try HostUnix.listener(at: gofer.scratch.host("sock"))
        defer { close(listener) }
        let socket = try gofer.context.connectUnixSocket("/sock")
        let sandboxEnd = try #require(socket.descriptor).rawValue
        let hostEnd = try HostUnix.accept(listener)
        defer { close(hostEnd) }
        try HostUnix.send(sandboxEnd, "ping")
        #expect(try HostUnix.receive(hostEnd) == "ping")
        try HostUnix.send(hostEnd, "pong")
        #expect(try HostUnix.receive(sandboxEnd) == "pong")
    }

    @Test func theHostSocketIsTheCallersToTake() throws {
        let gofer = try ServedGofer()
        let listener = try HostUnix.listener(at: gofer.scratch.host("sock"))
        defer { close(listener) }
        let socket = try gofer.context.connectUnixSocket("/sock")
        let taken = try #require(socket.take())
        #expect(socket.descriptor == nil)
        #expect(fcntl(taken.rawValue, F_GETFD) >= 0)
        close(taken.rawValue)
    }

    @Test func connectSendsConnectWithCredsWhenTheGoferListsIt() throws {
        let gofer = try ServedGofer()
        let listener = try HostUnix.listener(at: gofer.scratch.host("sock"))
        defer { close(listener) }
        _ = try gofer.context.stat("/sock")
        gofer.filesystem.resetRPCCounts()
        _ = try gofer.context.connectUnixSocket("/sock")
        #expect(gofer.filesystem.rpcCount(.connectWithCreds) == 1)
        #expect(gofer.filesystem.rpcCount(.connect) == 0)
        #expect(gofer.filesystem.totalRPCCount == 1)
    }

    @Test func connectWithoutCredentialsSendsConnect() throws {
        let gofer = try ServedGofer(options: GoferOptions(connectWithCredentials: false))
        let listener = try HostUnix.listener(at: gofer.scratch.host("sock"))
        defer { close(listener) }
        _ = try gofer.context.stat("/sock")
        gofer.filesystem.resetRPCCounts()
        let socket = try gofer.context.connectUnixSocket("/sock")
        #expect(socket.descriptor != nil)
        #expect(gofer.filesystem.rpcCount(.connect) == 1)
        #expect(gofer.filesystem.rpcCount(.connectWithCreds) == 0)
    }

    @Test func aDatagramSocketConnectsToADatagramSocketFile() throws {
        let gofer = try ServedGofer()
        let receiver = try HostUnix.socket(Int32(SOCK_DGRAM.rawValue))
        defer { close(receiver) }
        _ = try HostUnix.check(HostUnix.withAddress(gofer.scratch.host("dgram")) { bind(receiver, $0, $1) })
        let socket = try gofer.context.connectUnixSocket("/dgram", type: .datagram)
        try HostUnix.send(try #require(socket.descriptor).rawValue, "datagram")
        #expect(try HostUnix.receive(receiver) == "datagram")
    }

    @Test func connectFollowsAFinalSymlink() throws {
        let gofer = try ServedGofer()
        let listener = try HostUnix.listener(at: gofer.scratch.host("sock"))
        defer { close(listener) }
        symlink("sock", gofer.scratch.host("link"))
        let socket = try gofer.context.connectUnixSocket("/link")
        #expect(socket.descriptor != nil)
    }

    // MARK: - Errors

    @Test func connectToAMissingPathIsENOENT() throws {
        // Linux 6.18 on tmpfs gives ENOENT.
        let gofer = try ServedGofer()
        #expect(throws: Errno.noSuchFileOrDirectory) { try gofer.context.connectUnixSocket("/missing") }
    }

    @Test func connectToARegularFileIsECONNREFUSEDWithoutAConnectRPC() throws {
        // Linux 6.18 on tmpfs gives ECONNREFUSED (the file is not a socket).
        let gofer = try ServedGofer(prepare: { $0.write("regular", "x") })
        _ = try gofer.context.stat("/regular")
        gofer.filesystem.resetRPCCounts()
        #expect(throws: Errno.connectionRefused) { try gofer.context.connectUnixSocket("/regular") }
        #expect(gofer.filesystem.rpcCount(.connectWithCreds) + gofer.filesystem.rpcCount(.connect) == 0)
    }

    @Test func connectToADirectoryIsECONNREFUSED() throws {
        // Linux 6.18 on tmpfs gives ECONNREFUSED.
        let gofer = try ServedGofer(prepare: { $0.mkdir("dir") })
        #expect(throws: Errno.connectionRefused) { try gofer.context.connectUnixSocket("/dir") }
    }

    @Test func connectToASocketFileNobodyListensOnIsECONNREFUSED() throws {
        // Linux 6.18 on tmpfs gives ECONNREFUSED for a socket file whose socket was closed.
        let gofer = try ServedGofer()
        try HostUnix.staleSocketFile(at: gofer.scratch.host("stale"))
        #expect(throws: Errno.connectionRefused) { try gofer.context.connectUnixSocket("/stale") }
    }

    @Test func connectThroughARegularFileIsENOTDIR() throws {
        // Linux 6.18 on tmpfs gives ENOTDIR.
        let gofer = try ServedGofer(prepare: { $0.write("regular", "x") })
        #expect(throws: Errno.notDirectory) { try gofer.context.connectUnixSocket("/regular/sock") }
    }

    @Test func connectWithAnotherSocketTypeIsEPROTOTYPE() throws {
        // Linux 6.18 on tmpfs gives EPROTOTYPE for a datagram socket to a stream listener.
        let gofer = try ServedGofer()
        let listener = try HostUnix.listener(at: gofer.scratch.host("sock"))
        defer { close(listener) }
        #expect(throws: Errno.protocolWrongTypeForSocket) {
            try gofer.context.connectUnixSocket("/sock", type: .datagram)
        }
    }

    @Test func connectWithoutWritePermissionOnTheSocketIsEACCES() throws {
        // Linux 6.18 on tmpfs: uid 1000 connecting to a root-owned 0755 socket gets EACCES.
        let gofer = try ServedGofer()
        let listener = try HostUnix.listener(at: gofer.scratch.host("sock"))
        defer { close(listener) }
        chmod(gofer.scratch.host("sock"), 0o755)
        gofer.context.credentials = .user(1000, gid: 1000, groups: [])
        #expect(throws: Errno.permissionDenied) { try gofer.context.connectUnixSocket("/sock") }
    }

    @Test func connectWithWritePermissionOnTheSocketWorksForAnUnprivilegedUser() throws {
        let gofer = try ServedGofer()
        let listener = try HostUnix.listener(at: gofer.scratch.host("sock"))
        defer { close(listener) }
        chmod(gofer.scratch.host("sock"), 0o777)
        gofer.context.credentials = .user(1000, gid: 1000, groups: [])
        #expect(try gofer.context.connectUnixSocket("/sock").descriptor != nil)
    }

    @Test func connectToARegularFileWithoutWritePermissionIsEACCESBeforeECONNREFUSED() throws {
        // Linux 6.18 on tmpfs: the write check comes before the type check.
        let gofer = try ServedGofer(prepare: { $0.write("regular", "x") })
        chmod(gofer.scratch.host("regular"), 0o644)
        gofer.context.credentials = .user(1000, gid: 1000, groups: [])
        #expect(throws: Errno.permissionDenied) { try gofer.context.connectUnixSocket("/regular") }
    }

    @Test func connectThroughADirectoryWithoutSearchPermissionIsEACCES() throws {
        // Linux 6.18 on tmpfs gives EACCES (uid 1000, directory 0700 owned by root).
        let gofer = try ServedGofer(prepare: { $0.mkdir("closed", mode: 0o700) })
        let listener = try HostUnix.listener(at: gofer.scratch.host("closed/sock"))
        defer { close(listener) }
        gofer.context.credentials = .user(1000, gid: 1000, groups: [])
        #expect(throws: Errno.permissionDenied) { try gofer.context.connectUnixSocket("/closed/sock") }
    }

    @Test func connectWorksOnAReadOnlyGofer() throws {
        // Linux 6.18: connect through a read-only bind mount of tmpfs succeeds.
        let gofer = try ServedGofer(server: GoferServerOptions(readOnly: true))
        let listener = try HostUnix.listener(at: gofer.scratch.host("sock"))
        defer { close(listener) }
        #expect(try gofer.context.connectUnixSocket("/sock").descriptor != nil)
    }

    @Test func aGoferThatRefusesHostSocketsIsECONNREFUSED() throws {
        // gVisor answers ECONNREFUSED for every failed gofer connect; ours passes the host's
        // errno on, except the gofer's own refusals (EPERM without --host-uds).
        let gofer = try ServedGofer(server: GoferServerOptions(hostUnixSockets: false))
        let listener = try HostUnix.listener(at: gofer.scratch.host("sock"))
        defer { close(listener) }
        #expect(throws: Errno.connectionRefused) { try gofer.context.connectUnixSocket("/sock") }
    }

    @Test func aSocketFileMadeWithMknodHasNoListenerAndIsECONNREFUSED() throws {
        // The synthetic socket file (kept in memory by the client) has no host socket.
        let gofer = try ServedGofer()
        try gofer.context.makeNode("/synthetic", mode: 0o140777)
        #expect(try gofer.context.stat("/synthetic").mode.type == .socket)
        #expect(throws: Errno.connectionRefused) { try gofer.context.connectUnixSocket("/synthetic") }
    }

    @Test func aFileSystemWithoutHostSocketsRefusesConnectAndBind() throws {
        // The FilesystemImpl defaults (tmpfs here): ECONNREFUSED for a socket file, as Linux
        // gives for one nobody listens on; EOPNOTSUPP for bind (no host socket to bind).
        let vfs = VirtualFilesystem()
        let tmpfs = TmpfsFilesystem()
        let context = FSContext(vfs: vfs, namespace: vfs.makeNamespace(root: tmpfs, rootDentry: tmpfs.root))
        try context.makeNode("/socket", mode: 0o140777)
        #expect(throws: Errno.connectionRefused) { try context.connectUnixSocket("/socket") }
        #expect(throws: Errno.notSupported) { try context.bindUnixSocket("/new") }
    }
}

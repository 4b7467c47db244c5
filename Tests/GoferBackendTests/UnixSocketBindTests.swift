import Foundation
import GoferBackend
import GoferServer
import LISAFS
import SystemPackage
import Testing
import VFSCore

#if canImport(Glibc)
    import Glibc
#endif

/// bind(2) at a path in a gofer mount (`FSContext.bindUnixSocket`): BindAt makes the socket
/// file on the host; Listen and Accept let the sandbox take connections from host programs.
/// The errnos are Linux's `unix_bind_bsd`, checked on Linux 6.18 with python's socket.bind on
/// /dev/shm (and a read-only bind mount of it).
@Suite struct UnixSocketBindTests {
    @Test func aHostClientConnectsAndTheAcceptedSocketExchangesBytes() throws {
        let gofer = try ServedGofer()
        let bound = try gofer.context.bindUnixSocket("/srv")
        try bound.listen(backlog: 4)
        let client = try HostUnix.connect(to: gofer.scratch.host("srv"))
        defer { close(client) }
        let accepted = try bound.accept()
        let sandboxEnd = try #require(accepted.descriptor).rawValue
        try HostUnix.send(client, "hello")
        #expect(try HostUnix.receive(sandboxEnd) == "hello")
        try HostUnix.send(sandboxEnd, "world")
        #expect(try HostUnix.receive(client) == "world")
    }

    @Test func acceptWaitsForAConnection() throws {
        let gofer = try ServedGofer()
        let bound = try gofer.context.bindUnixSocket("/srv")
        try bound.listen(backlog: 4)
        let path = gofer.scratch.host("srv")
        // The client connects from another thread after accept has started waiting.
        let thread = Thread {
            usleep(50_000)
            if let fd = try? HostUnix.connect(to: path) {
                try? HostUnix.send(fd, "late")
                close(fd)
            }
        }
        thread.start()
        let accepted = try bound.accept()
        #expect(try HostUnix.receive(try #require(accepted.descriptor).rawValue) == "late")
    }

    @Test func theSocketFileIsVisibleInTheMountAndOnTheHost() throws {
        let gofer = try ServedGofer()
        let bound = try gofer.context.bindUnixSocket("/srv")
        let stat = try gofer.context.stat("/srv")
        #expect(stat.mode.type == .socket)
        #expect(try gofer.context.listDirectory("/").contains("srv"))
        #expect(HostUnix.fileType(gofer.scratch.host("srv")) == S_IFSOCK)
        _ = bound
    }

    @Test func theSocketFileModeIsAllBitsLessTheUmask() throws {
        // Linux 6.18 on tmpfs: umask 022 gives srwxr-xr-x, umask 077 srwx------.
        let gofer = try ServedGofer()
        _ = try gofer.context.bindUnixSocket("/a")
        #expect(try gofer.context.stat("/a").mode.permissions == 0o755)
        gofer.context.umask = 0o077
        _ = try gofer.context.bindUnixSocket("/b")
        #expect(try gofer.context.stat("/b").mode.permissions == 0o700)
        var st = stat()
        #expect(lstat(gofer.scratch.host("b"), &st) == 0)
        #expect(st.st_mode & 0o7777 == 0o700)
    }

    @Test func theSocketFileBelongsToTheCaller() throws {
        let gofer = try ServedGofer()
        gofer.context.credentials = .user(1000, gid: 1000, groups: [])
        _ = try gofer.context.bindUnixSocket("/mine")
        var st = stat()
        #expect(lstat(gofer.scratch.host("mine"), &st) == 0)
        #expect(st.st_uid == 1000 && st.st_gid == 1000)
        #expect(try gofer.context.stat("/mine").uid == 1000)
    }

    @Test func aSandboxClientCanConnectToTheBoundSocket() throws {
        // Both ends through the gofer: BindAt + Listen, then ConnectWithCreds, then Accept.
        let gofer = try ServedGofer()
        let bound = try gofer.context.bindUnixSocket("/srv")
        try bound.listen(backlog: 4)
        let client = try gofer.context.connectUnixSocket("/srv")
        let accepted = try bound.accept()
        try HostUnix.send(try #require(client.descriptor).rawValue, "loop")
        #expect(try HostUnix.receive(try #require(accepted.descriptor).rawValue) == "loop")
    }

    @Test func bindListenAndAcceptCostOneRPCEach() throws {
        let gofer = try ServedGofer()
        gofer.filesystem.resetRPCCounts()
        let bound = try gofer.context.bindUnixSocket("/srv")
        #expect(gofer.filesystem.rpcCount(.bindAt) == 1)
        #expect(gofer.filesystem.totalRPCCount == 1)
        try bound.listen(backlog: 4)
        #expect(gofer.filesystem.rpcCount(.listen) == 1)
        let client = try HostUnix.connect(to: gofer.scratch.host("srv"))
        defer { close(client) }
        _ = try bound.accept()
        #expect(gofer.filesystem.rpcCount(.accept) == 1)
        #expect(gofer.filesystem.totalRPCCount == 3)
    }

    @Test func acceptWithNothingPendingIsEAGAINWhenNotBlocking() throws {
        let gofer = try ServedGofer()
        let bound = try gofer.context.bindUnixSocket("/srv")
        try bound.listen(backlog: 4)
        #expect(throws: Errno.resourceTemporarilyUnavailable) { try bound.accept(blocking: false) }
    }

    @Test func acceptBeforeListenIsEINVAL() throws {
        // Linux 6.18: accept on a bound unix stream socket that is not listening is EINVAL.
        let gofer = try ServedGofer()
        let bound = try gofer.context.bindUnixSocket("/srv")
        #expect(throws: Errno.invalidArgument) { try bound.accept(blocking: false) }
    }

    @Test func aDatagramSocketCanBeBound() throws {
        let gofer = try ServedGofer()
        let bound = try gofer.context.bindUnixSocket("/dgram", type: .datagram)
        let sender = try HostUnix.socket(Int32(SOCK_DGRAM.rawValue))
        defer { close(sender) }
        _ = try HostUnix.check(HostUnix.withAddress(gofer.scratch.host("dgram")) { Glibc.connect(sender, $0, $1) })
        try HostUnix.send(sender, "datagram")
        #expect(try HostUnix.receive(try #require(bound.hostSocket.descriptor).rawValue) == "datagram")
    }

    @Test func theSocketFileStaysAfterTheBoundSocketGoes() throws {
        // As on Linux, closing a bound socket leaves its socket file (now refusing connects).
        let gofer = try ServedGofer()
        do {
            let bound = try gofer.context.bindUnixSocket("/srv")
            try bound.listen(backlog: 1)
        }
        gofer.filesystem.flushPendingCloses()
        #expect(try gofer.context.stat("/srv").mode.type == .socket)
        #expect(throws: Errno.connectionRefused) { try gofer.context.connectUnixSocket("/srv") }
    }

    // MARK: - Errors

    @Test func bindAtAnExistingRegularFileIsEADDRINUSE() throws {
        // Linux 6.18 on tmpfs gives EADDRINUSE.
        let gofer = try ServedGofer(prepare: { $0.write("regular", "x") })
        #expect(throws: Errno.addressInUse) { try gofer.context.bindUnixSocket("/regular") }
    }

    @Test func bindAtACachedExistingNameIsEADDRINUSEWithoutABindAt() throws {
        let gofer = try ServedGofer(prepare: { $0.write("regular", "x") })
        _ = try gofer.context.stat("/regular")
        gofer.filesystem.resetRPCCounts()
        #expect(throws: Errno.addressInUse) { try gofer.context.bindUnixSocket("/regular") }
        #expect(gofer.filesystem.rpcCount(.bindAt) == 0)
    }

    @Test func bindAtAnExistingSocketFileIsEADDRINUSE() throws {
        // Linux 6.18 on tmpfs gives EADDRINUSE for a stale socket file too.
        let gofer = try ServedGofer()
        try HostUnix.staleSocketFile(at: gofer.scratch.host("stale"))
        #expect(throws: Errno.addressInUse) { try gofer.context.bindUnixSocket("/stale") }
    }

    @Test func bindAtADanglingSymlinkIsEADDRINUSE() throws {
        // Linux 6.18 on tmpfs gives EADDRINUSE: bind does not follow the link.
        let gofer = try ServedGofer()
        symlink("nowhere", gofer.scratch.host("dangling"))
        #expect(throws: Errno.addressInUse) { try gofer.context.bindUnixSocket("/dangling") }
    }

    @Test func bindTwiceAtTheSamePathIsEADDRINUSE() throws {
        let gofer = try ServedGofer()
        let first = try gofer.context.bindUnixSocket("/srv")
        #expect(throws: Errno.addressInUse) { try gofer.context.bindUnixSocket("/srv") }
        _ = first
    }

    @Test func bindInAMissingDirectoryIsENOENT() throws {
        // Linux 6.18 on tmpfs gives ENOENT.
        let gofer = try ServedGofer()
        #expect(throws: Errno.noSuchFileOrDirectory) { try gofer.context.bindUnixSocket("/nodir/srv") }
    }

    @Test func bindThroughARegularFileIsENOTDIR() throws {
        // Linux 6.18 on tmpfs gives ENOTDIR.
        let gofer = try ServedGofer(prepare: { $0.write("regular", "x") })
        #expect(throws: Errno.notDirectory) { try gofer.context.bindUnixSocket("/regular/srv") }
    }

    @Test func bindOnAReadOnlyGoferIsEROFS() throws {
        // Linux 6.18: bind in a read-only bind mount of tmpfs gives EROFS.
        let gofer = try ServedGofer(server: GoferServerOptions(readOnly: true))
        #expect(throws: Errno.readOnlyFileSystem) { try gofer.context.bindUnixSocket("/srv") }
        #expect(HostUnix.fileType(gofer.scratch.host("srv")) == 0)
    }

    @Test func bindAtAnExistingNameOnAReadOnlyGoferIsEADDRINUSE() throws {
        // Linux 6.18: on a read-only mount an existing name is EADDRINUSE before EROFS.
        let gofer = try ServedGofer(
            server: GoferServerOptions(readOnly: true), prepare: { $0.write("regular", "x") })
        #expect(throws: Errno.addressInUse) { try gofer.context.bindUnixSocket("/regular") }
    }

    @Test func bindInAReadOnlyBindMountIsEROFSAndConnectStillWorks() throws {
        // Linux 6.18, a read-only bind mount of a tmpfs directory: bind of a new name is
        // EROFS, of an existing name EADDRINUSE, and connect to a listener works.
        let gofer = try ServedGofer(prepare: {
            $0.mkdir("dir")
            $0.mkdir("ro")
            $0.write("dir/regular", "x")
        })
        let listener = try HostUnix.listener(at: gofer.scratch.host("dir/sock"))
        defer { close(listener) }
        try gofer.context.bindMount("/dir", at: "/ro", readOnly: true)
        gofer.filesystem.resetRPCCounts()
        #expect(throws: Errno.readOnlyFileSystem) { try gofer.context.bindUnixSocket("/ro/new") }
        #expect(gofer.filesystem.rpcCount(.bindAt) == 0)
        #expect(throws: Errno.addressInUse) { try gofer.context.bindUnixSocket("/ro/regular") }
        #expect(try gofer.context.connectUnixSocket("/ro/sock").descriptor != nil)
    }

    @Test func bindWithoutWritePermissionOnTheDirectoryIsEACCES() throws {
        // Linux 6.18 on tmpfs: uid 1000 binding in a root-owned 0755 directory gets EACCES.
        let gofer = try ServedGofer(prepare: { $0.mkdir("dir", mode: 0o755) })
        gofer.context.credentials = .user(1000, gid: 1000, groups: [])
        #expect(throws: Errno.permissionDenied) { try gofer.context.bindUnixSocket("/dir/srv") }
    }

    @Test func bindAtAnExistingNameInADirectoryWithoutWritePermissionIsEADDRINUSE() throws {
        // Linux 6.18 on tmpfs: EADDRINUSE comes before EACCES.
        let gofer = try ServedGofer(prepare: {
            $0.mkdir("dir", mode: 0o755)
            $0.write("dir/regular", "x")
        })
        gofer.context.credentials = .user(1000, gid: 1000, groups: [])
        #expect(throws: Errno.addressInUse) { try gofer.context.bindUnixSocket("/dir/regular") }
    }

    @Test func bindOnAGoferThatRefusesHostSocketsIsEPERM() throws {
        // The gofer refuses (fsgofer without --host-uds=create answers EPERM too).
        let gofer = try ServedGofer(server: GoferServerOptions(hostUnixSockets: false))
        #expect(throws: Errno.notPermitted) { try gofer.context.bindUnixSocket("/srv") }
    }
}

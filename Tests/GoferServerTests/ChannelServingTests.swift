import Foundation
import Glibc
import GoferServer
import LISAFS
import SystemPackage
import Testing

/// Channel (MID 2) on the server: the window and FDs it donates, its limit, requests served on
/// a channel exactly as on the socket (donated FDs through the FD channel), hostile datagrams,
/// and channels ending with their connection — in process and across the process boundary
/// of a confined `vfs gofer`.
@Suite struct ChannelServingTests {
    static func setUp(_ options: GoferServerOptions = .init()) throws -> (ScratchTree, GoferHarness, FDID) {
        let tree = try ScratchTree()
        try tree.write("file", "contents")
        try tree.mkdir("dir")
        let harness = try GoferHarness(root: tree.path, options: options)
        let root = try harness.mount().root.controlFD
        return (tree, harness, root)
    }

    @Test func theAnswerIsASealedTwoMebibyteWindowAndAPacketSocket() throws {
        let (tree, harness, _) = try Self.setUp()
        _ = tree
        let result = try harness.call(ChannelRequest())
        // The recorded fsgofer answer (seq 95): data_offset 0, data_length 2097152, 2 FDs.
        #expect(result.response == ChannelResponse(dataOffset: 0, dataLength: 2_097_152))
        #expect(result.fds.count == 2)
        let memory = try #require(result.fds.first?.descriptor).rawValue
        #expect(fcntl(memory, 1034 /* F_GET_SEALS */) == 0x3)  // F_SEAL_SEAL | F_SEAL_SHRINK
        var info = stat()
        #expect(fstat(memory, &info) == 0 && info.st_size >= 2_097_152)
        #expect(FDChannel.isSequencedPacketSocket(try #require(result.fds.last?.descriptor)))
        // The next channel's window follows the first.
        #expect(try harness.call(ChannelRequest()).response.dataOffset == 2_097_152)
    }

    @Test func channelsBeyondTheConnectionsLimitAreENOSYS() throws {
        let (tree, harness, _) = try Self.setUp(GoferServerOptions(maxChannelsPerConnection: 2))
        _ = tree
        _ = try harness.call(ChannelRequest())
        _ = try harness.call(ChannelRequest())
        #expect(throws: Errno.noFunction) { try harness.call(ChannelRequest()) }
        let (tree2, none, _) = try Self.setUp(GoferServerOptions(maxChannelsPerConnection: 0))
        _ = tree2
        #expect(throws: Errno.noFunction) { try none.call(ChannelRequest()) }
    }

    @Test func aChannelBeforeMountIsEINVAL() throws {
        let tree = try ScratchTree()
        let harness = try GoferHarness(root: tree.path)
        #expect(throws: Errno.invalidArgument) { try harness.call(ChannelRequest()) }
    }

    @Test func requestsOnAChannelGetTheSocketsAnswers() throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        let channel = try Channel.connect(try harness.call(ChannelRequest()))
        let overSocket = try harness.walk(root, ["file"])
        let overChannel = try channel.call(WalkRequest(dirFD: root, path: [SizedString("file")])).response
        #expect(overChannel.status == overSocket.status)
        #expect(overChannel.inodes.map(\.stat) == overSocket.inodes.map(\.stat))
        // FDIDs are one table for the socket and the channels: the next one up.
        let socketFD = try #require(overSocket.inodes.first).controlFD
        #expect(try #require(overChannel.inodes.first).controlFD == FDID(socketFD.rawValue + 1))
        #expect(throws: Errno.badFileDescriptor) { try channel.call(FStatRequest(fd: 9999)) }
        let missing = try channel.call(WalkRequest(dirFD: root, path: [SizedString("missing")])).response
        #expect(missing.status == .componentDoesNotExist)
    }

    @Test func anOpenFileDonatesItsHostFDThroughTheFDChannel() throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        let channel = try Channel.connect(try harness.call(ChannelRequest()))
        let file = try #require(channel.call(WalkRequest(dirFD: root, path: [SizedString("file")])).response.inodes.first)
        let opened = try channel.call(OpenAtRequest(fd: file.controlFD, flags: 0))
        let donated = try #require(opened.fds.first?.descriptor).rawValue
        var buffer = [UInt8](repeating: 0, count: 8)
        #expect(pread(donated, &buffer, 8, 0) == 8)
        #expect(buffer == Array("contents".utf8))
        // PRead over the channel carries the bytes in the shared window.
        let read = try channel.call(PReadRequest(fd: opened.response.openFD, offset: 2, count: 100))
        #expect(read.response.data == Array("ntents".utf8))
    }

    @Test func aHostileDatagramEndsOnlyThatChannel() throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        let hostile = try harness.call(ChannelRequest())
        let memory = try #require(hostile.fds.first?.descriptor)
        // A client that waits for an answer at most a third of a second.
        let deadline = Date().addingTimeInterval(0.3)
        let endpoint = try FlipcallEndpoint(
            side: .client, window: PacketWindowDescriptor(fd: memory, offset: 0, length: 2_097_152),
            pollInterval: .milliseconds(10), peerIsAlive: { Date() < deadline })
        try endpoint.connect()
        // Shorter than a channel header: the server stops serving this channel and never
        // answers.
        endpoint.data[0] = 9
        #expect(throws: Errno.connectionReset) { try endpoint.sendReceive(1) }
        // The socket and a new channel still work.
        #expect(try harness.walk(root, ["dir"]).inodes.count == 1)
        let channel = try Channel.connect(try harness.call(ChannelRequest()))
        #expect(try channel.call(WalkRequest(dirFD: root, path: [SizedString("dir")])).response.inodes.count == 1)
    }

    @Test func anUnknownMessageOnAChannelIsEOPNOTSUPP() throws {
        let (tree, harness, _) = try Self.setUp()
        _ = tree
        let result = try harness.call(ChannelRequest())
        let memory = try #require(result.fds.first?.descriptor)
        let endpoint = try FlipcallEndpoint(
            side: .client, window: PacketWindowDescriptor(fd: memory, offset: 0, length: 2_097_152))
        try endpoint.connect()
        // Header: MID 200, no FDs; no payload.
        endpoint.data.storeBytes(of: UInt16(200).littleEndian, toByteOffset: 0, as: UInt16.self)
        endpoint.data[2] = 0
        endpoint.data[3] = 0
        let length = try endpoint.sendReceive(4)
        #expect(length == 8)
        let answer = Array(UnsafeRawBufferPointer(rebasing: endpoint.data[0..<8]))
        #expect(answer[0..<4] == [0, 0, 0, 0])  // MID 0 (Error), no FDs
        #expect(answer[4..<8] == [95, 0, 0, 0])  // EOPNOTSUPP
    }

    @Test func closingTheSocketEndsTheChannels() throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        let channel = try Channel.connect(try harness.call(ChannelRequest()))
        _ = try channel.call(WalkRequest(dirFD: root, path: [SizedString("dir")]))
        harness.communicator.close()
        // The connection's thread sees EOF and shuts its channels down: the next call fails
        // (the server shut it down, or finds the state "shut down" right away).
        var failed = false
        for _ in 0..<200 where !failed {
            do throws(Errno) {
                _ = try channel.call(WalkRequest(dirFD: root, path: [SizedString("dir")]))
                usleep(5_000)
            } catch {
                failed = true
                #expect(error == .connectionReset)
            }
        }
        #expect(failed)
        #expect(channel.endpoint.isShutDown)
    }

    /// A confined `vfs gofer` serving `tree` on a socketpair, and a client of it.
    static func confinedGofer(
        serving tree: ScratchTree
    ) throws -> (client: RPCClient, child: (pid: pid_t, stdout: Int32)) {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw Errno(rawValue: errno)
        }
        let child = try ConfinementTests.spawn(["gofer", "--root", tree.path, "--fd", "3"], socket: pair[1])
        Glibc.close(pair[1])
        return (RPCClient(socket: FileDescriptor(rawValue: pair[0])), child)
    }

    @Test func theConfinedGoferServesRPCsOnChannels() throws {
        let tree = try ScratchTree()
        try tree.write("file", "contents")
        let (client, child) = try Self.confinedGofer(serving: tree)
        let root = try client.mount().root.controlFD
        let opened = client.openChannels(2)
        #expect(opened.sent == 2 && opened.opened == 2)
        let walk = try client.call(WalkRequest(dirFD: root, path: [SizedString("file")])).response
        let file = try #require(walk.inodes.first)
        let open = try client.call(OpenAtRequest(fd: file.controlFD, flags: 0))
        #expect(open.fds.count == 1)
        let read = try client.call(PReadRequest(fd: open.response.openFD, offset: 0, count: 8))
        #expect(read.response.data == Array("contents".utf8))
        #expect(client.callsByTransport.channel == 3)
        #expect(client.callsByTransport.socket == 0)
        // The filter let every channel call through: the gofer is alive until we hang up.
        #expect(waitpid(child.pid, nil, WNOHANG) == 0)
        client.close()
        let status = ConfinementTests.wait(child.pid)
        _ = ConfinementTests.readAll(child.stdout)
        #expect(status & 0x7f == 0, "gofer died from signal \(status & 0x7f)")
    }

    @Test func aKilledGoferMakesTheNextChannelRPCFailWithEIO() throws {
        let tree = try ScratchTree()
        try tree.write("file", "contents")
        let (client, child) = try Self.confinedGofer(serving: tree)
        let root = try client.mount().root.controlFD
        #expect(client.openChannels(2).opened == 2)
        _ = try client.call(WalkRequest(dirFD: root, path: [SizedString("file")]))
        kill(child.pid, SIGKILL)
        _ = ConfinementTests.wait(child.pid)
        _ = ConfinementTests.readAll(child.stdout)
        #expect(throws: Errno.ioError) { try client.call(WalkRequest(dirFD: root, path: [SizedString("file")])) }
        #expect(client.isBroken)
        #expect(throws: Errno.ioError) { try client.call(FStatRequest(fd: root)) }
    }
}

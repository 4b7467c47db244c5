// CLinuxSupport (LISAFS's C shims: shared-word atomics, futex) is not a product of VFSKit; it is
// visible here as a dependency of the LISAFS product, for the hand-made hand-overs below.
import CLinuxSupport
import FuzzSupport
import GoferServer
import LISAFS
import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

// libFuzzer entry point for the gofer server's CHANNEL path: a hostile client writing arbitrary
// datagrams into a flipcall channel's shared window. Built with `-sanitize=fuzzer,address`
// (main.swift starts libFuzzer's driver); run by `Fuzz/run-gofer-channel-fuzz`.
//
// For every input a fresh connection is served by a real `GoferServer` (the same tree, rebuild
// period and options as GoferServerFuzz) over a socketpair. On the socket the client sends
// Mount and one Channel RPC (`RPCClient`), maps the window it gets as a client
// (`FlipcallEndpoint(side: .client)`), connects (the "{}\n" handshake), and then plays the
// input's records, stopping at the first one that fails:
//
//   record = u16 little-endian word, then (word & 0x3FFF) bytes (fewer if the input ends);
//   the word's two top bits pick what the record does:
//     00, 01  datagram: the bytes are copied into the window and handed over
//             (`sendReceive(count)`); count 0 is the end-of-channel datagram, 1–3 bytes are
//             shorter than a channel header;
//     10      bogus length: the first 4 bytes (u32 LE) are written as the packet's length word
//             instead of the real count (may exceed the window), the rest is the datagram;
//             the hand-over is done by hand, as a hostile client would;
//     11      bogus state: the first 4 bytes (u32 LE) are stored into the state word and the
//             server is woken, then, if the state is ours again, the rest is sent as a
//             datagram (state 1 makes the server serve whatever is in the window).
//   Datagrams are clamped to the window's data capacity (2 MiB − 16, far above -max_len).
//
// Every wait is bounded: the endpoint's `peerIsAlive` allows `datagramBudget` per datagram and
// also reports the server gone as soon as our end of the FD channel hangs up (the server drops
// a channel it stops serving, which closes its end), so a server that stops answering on a
// malformed datagram — it must — costs ~a poll interval, not the budget.
//
// Oracles, besides sanitizers and traps: every answer the server hands back must be a
// well-formed datagram (at least a channel header, within the window) carrying the request's
// MID or Error (MID 0), and exactly as many FDs must be queued on the FD channel as its header
// announces (they are all closed). At the end the socket is closed: the server must shut the
// channel down, which we see as the FD channel hanging up within `channelEndLimit`, so that no
// server thread outlives its input. The process's descriptor count is checked at every tree
// rebuild (fd leaks are invisible to LeakSanitizer).
//
// `GoferChannelFuzz --write-seeds DIR` writes the seed inputs (see `writeSeeds`).

/// FuzzSupport's served tree; after every rebuild the descriptor count is checked.
let servedTree = ServedTree(name: "gofer-channel-fuzz", channels: true, afterRebuild: checkDescriptors)
nonisolated(unsafe) var baselineDescriptors: Int?

/// How long the server may take to answer one datagram.
let datagramBudgetNanoseconds: Int64 = 200_000_000
/// How often a waiting client looks at the deadline and the FD channel.
let clientPollInterval = Duration.milliseconds(2)
/// How long the server may take to end a channel once the connection's socket is closed.
let channelEndLimitMilliseconds: Int32 = 5_000
/// More descriptors than this above the first rebuild's count is a leak.
let descriptorSlack = 64

@_cdecl("LLVMFuzzerTestOneInput")
public func goferChannelFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0, let server = servedTree.current() else { return 0 }
    _ = play(UnsafeRawBufferPointer(start: data, count: size), on: server)
    return 0
}

/// Plays one input on a fresh connection with one channel; returns the MIDs of the answers the
/// server handed back (used by `writeSeeds` to check the seeds).
func play(_ input: UnsafeRawBufferPointer, on server: GoferServer) -> [UInt16] {
    let session = ChannelSession(server: server)
    var cursor = 0
    while cursor + 2 <= input.count {
        let word = UInt16(input[cursor]) | UInt16(input[cursor + 1]) << 8
        cursor += 2
        let count = min(Int(word & 0x3FFF), input.count - cursor)
        let record = UnsafeRawBufferPointer(rebasing: input[cursor..<cursor + count])
        cursor += count
        let keepGoing: Bool
        switch word >> 14 {
        case 0b10:
            keepGoing = session.sendWithBogusLength(
                claimed: leadingWord(record), UnsafeRawBufferPointer(rebasing: record.dropFirst(4)))
        case 0b11:
            keepGoing =
                session.storeBogusState(leadingWord(record))
                && session.send(UnsafeRawBufferPointer(rebasing: record.dropFirst(4)))
        default:
            keepGoing = session.send(record)
        }
        if !keepGoing { break }
    }
    session.end()
    return session.answers
}

/// The first four bytes as a u32, little-endian (missing bytes are zero).
func leadingWord(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    var value: UInt32 = 0
    for (index, byte) in bytes.prefix(4).enumerated() { value |= UInt32(byte) << (8 * index) }
    return value
}

/// The per-datagram deadline and the FD channel's hang-up, read by the endpoint's
/// `peerIsAlive` whenever a wait's poll interval passes.
final class Liveness: Sendable {
    private let deadline = Atomic<Int64>(0)
    let fdSocket: Int32

    init(fdSocket: Int32) { self.fdSocket = fdSocket }

    /// Starts a new datagram's budget.
    func arm() {
        deadline.store(monotonicNanoseconds() + datagramBudgetNanoseconds, ordering: .relaxed)
    }

    var expired: Bool { monotonicNanoseconds() >= deadline.load(ordering: .relaxed) }

    var peerIsAlive: Bool { !expired && !hungUp(fdSocket, waitingMilliseconds: 0) }
}

/// One hostile client: a connection with a mounted root and one connected channel.
final class ChannelSession {
    let client: RPCClient
    let endpoint: FlipcallEndpoint
    let fdChannel: FDChannel
    let liveness: Liveness
    /// The packet header's words (the endpoint's window starts `headerSize` before its data).
    let stateWord: UnsafeMutablePointer<UInt32>
    let lengthWord: UnsafeMutablePointer<UInt32>
    let root: FDID
    private(set) var answers: [UInt16] = []
    /// The server's thread for this connection, joined at the end.
    let served: ServedConnection

    /// Setting a session up on a fresh connection must always work: a failure is a finding.
    init(server: GoferServer) {
        var pair: [Int32] = [-1, -1]
        guard
            socketpair(
                AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0
        else {
            fatalError("socketpair: errno \(errno)")
        }
        served = ServedConnection(server, socket: pair[1])
        client = RPCClient(socket: FileDescriptor(rawValue: pair[0]))
        let mounted: MountResponse
        let result: RPCResult<ChannelResponse>
        do throws(Errno) {
            mounted = try client.mount()
            result = try client.call(ChannelRequest())
        } catch {
            fatalError("Mount or Channel on a fresh connection failed: \(error)")
        }
        root = mounted.root.controlFD
        guard result.fds.count == 2, let memory = result.fds[0].descriptor,
            let socket = result.fds[1].take(),
            let length = Int(exactly: result.response.dataLength)
        else { fatalError("Channel answered \(result.response) with \(result.fds.count) FDs") }
        fdChannel = FDChannel(socket: OwnedFileDescriptor(socket))
        let liveness = Liveness(fdSocket: socket.rawValue)
        self.liveness = liveness
        do throws(Errno) {
            endpoint = try FlipcallEndpoint(
                side: .client,
                window: PacketWindowDescriptor(
                    fd: memory, offset: result.response.dataOffset, length: length),
                pollInterval: clientPollInterval, peerIsAlive: { liveness.peerIsAlive })
            result.fds[0].close()
            liveness.arm()
            try endpoint.connect()
        } catch {
            fatalError("mapping or connecting the channel failed: \(error)")
        }
        guard let data = endpoint.data.baseAddress else {
            fatalError("the window has no data area")
        }
        let header = data - FlipcallEndpoint.headerSize
        stateWord = header.assumingMemoryBound(to: UInt32.self)
        lengthWord = (header + 4).assumingMemoryBound(to: UInt32.self)
    }

    /// Copies `bytes` (clamped to the capacity) to the start of the datagram; returns the count.
    private func place(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let count = min(bytes.count, Int(endpoint.dataCapacity))
        if count > 0, let source = bytes.baseAddress, let destination = endpoint.data.baseAddress {
            destination.copyMemory(from: source, byteCount: count)
        }
        return UInt32(count)
    }

    /// The MID at the start of the datagram (what the server reads, or what it answered).
    private var midInWindow: UInt16 {
        UInt16(endpoint.data[0]) | UInt16(endpoint.data[1]) << 8
    }

    /// A datagram the ordinary way; false once the channel failed.
    func send(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let count = place(bytes)
        let requested = midInWindow
        liveness.arm()
        guard let length = try? endpoint.sendReceive(count) else { return false }
        check(answerLength: length, to: requested)
        return true
    }

    /// A datagram whose length word says `claimed`, handed over by hand (the endpoint refuses a
    /// length beyond the capacity); false once the channel failed.
    func sendWithBogusLength(claimed: UInt32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        _ = place(bytes)
        let requested = midInWindow
        vfs_shared_store32(lengthWord, claimed)
        guard vfs_shared_cas32(stateWord, 0, 1) != 0 else { return false }
        _ = vfs_futex_wake(stateWord, 1)
        liveness.arm()
        guard waitWhileServerActive(), vfs_shared_load32(stateWord) == 0 else { return false }
        check(answerLength: vfs_shared_load32(lengthWord), to: requested)
        return true
    }

    /// Stores `state` into the state word and wakes the server, then lets it react: state 1
    /// makes it serve the window's current contents (whatever answer is there, under the
    /// length word's current value), 2 ends the channel, anything else is a protocol error it
    /// must stop on. True if the state is ours afterwards (then the record's datagram follows).
    func storeBogusState(_ state: UInt32) -> Bool {
        _ = vfs_shared_swap32(stateWord, state)
        _ = vfs_futex_wake(stateWord, Int32.max)
        liveness.arm()
        guard waitWhileServerActive(), vfs_shared_load32(stateWord) == 0 else { return false }
        // An answer to that stale request (if it was served) is not checked against a MID,
        // but its FDs are collected.
        if state == 1 { drainDescriptors() }
        return true
    }

    /// Sleeps while the state says "server active", until the server hands back, stops, or the
    /// budget is spent; false for the last two.
    private func waitWhileServerActive() -> Bool {
        while vfs_shared_load32(stateWord) == 1 {
            guard liveness.peerIsAlive else { return false }
            _ = vfs_futex_wait(stateWord, 1, 2_000_000)
        }
        return true
    }

    /// The oracle for one answer the server handed back.
    private func check(answerLength length: UInt32, to requested: UInt16) {
        guard length >= UInt32(ChannelHeader.size), length <= endpoint.dataCapacity else {
            fatalError("the server handed back a datagram of \(length) bytes")
        }
        let mid = midInWindow
        let announced = Int(endpoint.data[2])
        guard mid == MessageID.error.rawValue || mid == requested else {
            fatalError("the server answered MID \(requested) with MID \(mid)")
        }
        answers.append(mid)
        let received = drainDescriptors()
        guard received == announced else {
            fatalError(
                "the answer (MID \(mid)) announces \(announced) FDs, the FD channel held \(received)"
            )
        }
    }

    /// Takes and closes every FD queued on the FD channel; returns how many there were.
    @discardableResult
    private func drainDescriptors() -> Int {
        var received = 0
        // Stops at EAGAIN (none left) or EIO (a datagram without exactly one FD, which the
        // server never sends, or the end of the stream once the server dropped its end).
        while received < 1024, let fd = try? fdChannel.receiveNow() {
            fd.close()
            received += 1
        }
        return received
    }

    /// Closes the connection; the server must then shut the channel down and drop it.
    func end() {
        drainDescriptors()
        client.close()
        guard hungUp(liveness.fdSocket, waitingMilliseconds: channelEndLimitMilliseconds) else {
            fatalError(
                "the server still serves the channel \(channelEndLimitMilliseconds) ms after its connection closed"
            )
        }
        drainDescriptors()
        served.join()
    }
}

// MARK: Seeds

/// Writes the seed inputs into `directory`, each one a session on a fresh connection, built
/// with the LISAFS encoders. The FDIDs in them are those a fresh connection hands out (learned
/// here by running the same requests through a `Channel`), and every seed is played once to
/// check that the server answers each of its datagrams (Error answers only where expected):
/// * `walk`: Walk(root, ["hello.txt"]);
/// * `fstat`: FStat(root);
/// * `open-read`: Walk(root, ["hello.txt"]), OpenAt(file, O_RDONLY) (donates an FD), PRead(64);
/// * `session`: open-read, FStat(file), Walk(root, ["sub", "inner.txt"]), then the
///   end-of-channel datagram (length 0);
/// * `bogus-length`: Walk, then FStat(root) under a length word one past the capacity;
/// * `bogus-state`: Walk, then state 1 stored by hand (the server serves the window again),
///   then FStat(root).
func writeSeeds(into directory: String) -> Bool {
    guard let server = servedTree.current() else {
        print("cannot build the tree under \(servedTree.root) or serve it")
        return false
    }
    // Learn the FDIDs on a session shaped like the fuzzer's (Mount, Channel, then datagrams).
    let learning = ChannelSession(server: server)
    let channel = Channel(endpoint: learning.endpoint, fdChannel: learning.fdChannel)
    let root = learning.root
    let file: FDID
    let opened: FDID
    do throws(Errno) {
        guard
            let inode = try channel.call(WalkRequest(dirFD: root, path: ["hello.txt"])).response
                .inodes.first
        else { throw Errno.noSuchFileOrDirectory }
        file = inode.controlFD
        opened = try channel.call(OpenAtRequest(fd: file, flags: UInt32(O_RDONLY))).response.openFD
    } catch {
        print("learning the FDIDs failed: \(error)")
        return false
    }
    learning.end()
    let capacity = learning.endpoint.dataCapacity

    let walk = datagram(WalkRequest(dirFD: root, path: ["hello.txt"]))
    let openRead = [
        walk, datagram(OpenAtRequest(fd: file, flags: UInt32(O_RDONLY))),
        datagram(PReadRequest(fd: opened, offset: 0, count: 64)),
    ]
    let fstatRoot = datagram(FStatRequest(fd: root))
    let seeds: [(name: String, records: [[UInt8]], answers: Int)] = [
        ("walk", [record(walk)], 1),
        ("fstat", [record(fstatRoot)], 1),
        ("open-read", openRead.map { record($0) }, 3),
        (
            "session",
            (openRead + [
                datagram(FStatRequest(fd: file)),
                datagram(WalkRequest(dirFD: root, path: ["sub", "inner.txt"])), [],
            ]).map { record($0) }, 5
        ),
        ("bogus-length", [record(walk), record(fstatRoot, kind: 0b10, word: capacity + 1)], 1),
        ("bogus-state", [record(walk), record(fstatRoot, kind: 0b11, word: 1)], 2),
    ]
    for seed in seeds {
        let bytes = seed.records.flatMap { $0 }
        let answers = bytes.withUnsafeBytes { play($0, on: server) }
        guard answers.count == seed.answers, !answers.contains(MessageID.error.rawValue) else {
            print(
                "seed \(seed.name): expected \(seed.answers) non-Error answers, got MIDs \(answers)"
            )
            return false
        }
        let fd = open(directory + "/" + seed.name, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0, (try? FileDescriptor(rawValue: fd).writeAll(bytes)) != nil else {
            print("cannot write \(directory)/\(seed.name): errno \(errno)")
            return false
        }
        close(fd)
    }
    print("wrote \(seeds.count) channel seeds to \(directory)")
    return true
}

/// A channel datagram: the channel header (MID, no FDs, padding), then the request's payload.
func datagram<R: RequestMessage>(_ request: R) -> [UInt8] {
    let mid = R.messageID.rawValue
    return [UInt8(mid & 0xFF), UInt8(mid >> 8), 0, 0] + ((try? request.encoded()) ?? [])
}

/// One input record: the u16 LE word (kind in the top two bits, byte count below), then the
/// bytes; bogus-length and bogus-state records start with their u32 LE `word`.
func record(_ bytes: [UInt8], kind: UInt16 = 0, word: UInt32? = nil) -> [UInt8] {
    var body: [UInt8] = []
    if let word { body = (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
    body += bytes
    let header = kind << 14 | UInt16(body.count & 0x3FFF)
    return [UInt8(header & 0xFF), UInt8(header >> 8)] + body
}

/// Whether the peer of `socket` has gone (hang-up, error), waiting up to `waitingMilliseconds`.
func hungUp(_ socket: Int32, waitingMilliseconds: Int32) -> Bool {
    let peerHungUp: Int16 = 0x2000  // POLLRDHUP (declared by Glibc only under _GNU_SOURCE)
    var descriptor = pollfd(fd: socket, events: peerHungUp, revents: 0)
    while true {
        let ready = poll(&descriptor, 1, waitingMilliseconds)
        if ready < 0 && errno == EINTR { continue }
        return ready > 0
            && descriptor.revents & (Int16(POLLHUP | POLLERR | POLLNVAL) | peerHungUp) != 0
    }
}

func monotonicNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

/// The process's descriptor count against the first rebuild's (fd leaks are invisible to
/// LeakSanitizer).
func checkDescriptors() {
    let descriptors = openDescriptorCount()
    if let baseline = baselineDescriptors {
        guard descriptors <= baseline + descriptorSlack else {
            fatalError(
                "\(descriptors) descriptors open, \(baseline) at the first rebuild: a descriptor leak"
            )
        }
    } else {
        baselineDescriptors = descriptors
    }
}

/// The number of entries in /proc/self/fd.
func openDescriptorCount() -> Int {
    guard let directory = opendir("/proc/self/fd") else { return 0 }
    defer { closedir(directory) }
    var count = 0
    while readdir(directory) != nil { count += 1 }
    return count
}

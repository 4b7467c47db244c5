import Foundation
import GoferBackend
import GoferServer
import LISAFS
import Synchronization
import SystemPackage
import Testing
import VFSCore

#if canImport(Glibc)
    import Glibc
#endif

/// The gofer client's flipcall channels: opened at mount (counted), carrying the RPCs that the
/// socket carried before, several threads' at once, and the socket kept as the fallback.
@Suite struct ChannelTransportTests {
    @Test func mountOpensTheDefaultNumberOfChannels() throws {
        let fixture = try GoferFixture()
        let expected = min(4, max(2, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
        #expect(RPCClient.defaultChannelCount == expected)
        #expect(fixture.filesystem.channelCount == expected)
        #expect(fixture.filesystem.rpcCount(.channel) == expected)
    }

    @Test func rpcsTravelOnChannelsNotOnTheSocket() throws {
        let scratch = try HostScratch()
        scratch.mkdir("a")
        scratch.write("a/f", "contents")
        let fixture = try GoferFixture(scratch: scratch)
        let before = fixture.filesystem.callsByTransport
        #expect(try fixture.context.readFile("/a/f") == Array("contents".utf8))
        try fixture.context.makeDirectory("/a/d")
        let after = fixture.filesystem.callsByTransport
        #expect(after.channel > before.channel)
        #expect(after.socket == before.socket)
        #expect(scratch.inode("a/d") != 0)
    }

    @Test func zeroChannelsKeepsEveryRPCOnTheSocket() throws {
        let scratch = try HostScratch()
        scratch.write("f", "x")
        let fixture = try GoferFixture(options: GoferOptions(channels: 0), scratch: scratch)
        #expect(fixture.filesystem.channelCount == 0)
        #expect(fixture.filesystem.rpcCount(.channel) == 0)
        _ = try fixture.context.stat("/f")
        #expect(fixture.filesystem.callsByTransport.channel == 0)
        #expect(fixture.filesystem.callsByTransport.socket > 0)
    }

    @Test func aGoferThatRefusesChannelsIsServedOnTheSocket() throws {
        let gofer = try ServedGofer(server: GoferServerOptions(maxChannelsPerConnection: 0))
        // One Channel RPC was tried and refused (ENOSYS); nothing else changes.
        #expect(gofer.filesystem.channelCount == 0)
        #expect(gofer.filesystem.rpcCount(.channel) == 1)
        try gofer.context.makeDirectory("/d")
        #expect(try gofer.context.stat("/d").mode.type == .directory)
        #expect(gofer.filesystem.callsByTransport.channel == 0)
    }

    @Test func aGoferWithFewerChannelsThanAskedGivesWhatItHas() throws {
        let gofer = try ServedGofer(
            server: GoferServerOptions(maxChannelsPerConnection: 1), options: GoferOptions(channels: 3))
        #expect(gofer.filesystem.channelCount == 1)
        // The second request was refused; no third was sent.
        #expect(gofer.filesystem.rpcCount(.channel) == 2)
    }

    @Test func manyThreadsShareTheChannelsAndTheSocket() throws {
        let scratch = try HostScratch()
        let fixture = try GoferFixture(scratch: scratch)
        let failures = Mutex<[String]>([])
        let threads = 8
        let rounds = 40
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            do {
                try fixture.context.makeDirectory("/t\(thread)")
                for round in 0..<rounds {
                    let path = "/t\(thread)/f\(round % 5)"
                    let contents = Array("thread \(thread) round \(round)".utf8)
                    try fixture.context.writeFile(path, contents: contents)
                    let back = try fixture.context.readFile(path)
                    if back != contents { failures.withLock { $0.append("\(path): \(back)") } }
                    if round % 7 == 0 { try fixture.context.unlink(path) }
                }
            } catch {
                failures.withLock { $0.append("thread \(thread): \(error)") }
            }
        }
        #expect(failures.withLock { $0 } == [])
        // Every thread's directory holds the files it left, on the host too.
        for thread in 0..<threads {
            let names = try fixture.context.listDirectory("/t\(thread)").filter { $0 != "." && $0 != ".." }
            let onHost = try FileManager.default.contentsOfDirectory(atPath: scratch.host("t\(thread)"))
            #expect(Set(names) == Set(onHost))
        }
        let carried = fixture.filesystem.callsByTransport
        #expect(carried.channel > 0)
        #expect(fixture.filesystem.channelCount == RPCClient.defaultChannelCount)
    }

    @Test func attachingANewGoferOpensItsOwnChannels() throws {
        let scratch = try HostScratch()
        scratch.write("f", "contents")
        let fixture = try GoferFixture(scratch: scratch)
        fixture.killGofer()
        #expect(throws: Errno.ioError) { try fixture.context.stat("/f") }
        #expect(fixture.filesystem.channelCount == 0)
        fixture.filesystem.resetRPCCounts()
        try fixture.attachNewGofer()
        #expect(fixture.filesystem.channelCount == RPCClient.defaultChannelCount)
        #expect(fixture.filesystem.rpcCount(.channel) == RPCClient.defaultChannelCount)
        #expect(try fixture.context.readFile("/f") == Array("contents".utf8))
        #expect(fixture.filesystem.callsByTransport.channel > 0)
    }
}

import Foundation
import GoferBackend
import LISAFS
import Testing
import VFSCore

/// When the gofer dies, operations fail with EIO at once, and a new gofer can be attached.
@Suite struct GoferDeathTests {
    @Test func uncachedWalkAfterGoferDeathIsEIO() throws {
        let scratch = try HostScratch()
        scratch.write("f", "x")
        let fixture = try GoferFixture(scratch: scratch)
        fixture.killGofer()
        #expect(throws: Errno.ioError) { try fixture.context.stat("/f") }
        #expect(!fixture.filesystem.isConnected)
    }

    @Test func everyLaterRPCIsEIO() throws {
        let fixture = try GoferFixture()
        fixture.killGofer()
        #expect(throws: Errno.ioError) { try fixture.context.stat("/a") }
        #expect(throws: Errno.ioError) { try fixture.context.makeDirectory("/d") }
        #expect(throws: Errno.ioError) { try fixture.context.open("/n", flags: OpenOptions.create | OpenOptions.writeOnly) }
        #expect(throws: Errno.ioError) { _ = try fixture.context.listDirectory("/") }
    }

    @Test func disconnectActsAsDeath() throws {
        let fixture = try GoferFixture()
        fixture.filesystem.disconnect()
        #expect(throws: Errno.ioError) { try fixture.context.makeDirectory("/d") }
    }

    @Test func aNewGoferCanBeAttached() throws {
        let scratch = try HostScratch()
        scratch.write("f", "contents")
        let fixture = try GoferFixture(scratch: scratch)
        _ = try fixture.context.stat("/f")
        fixture.killGofer()
        #expect(throws: Errno.ioError) { try fixture.context.makeDirectory("/d") }
        try fixture.attachNewGofer()
        #expect(fixture.filesystem.isConnected)
        #expect(try fixture.context.readFile("/f") == Array("contents".utf8))
        try fixture.context.makeDirectory("/d")
        #expect(try fixture.context.stat("/d").mode.type == .directory)
    }

    @Test func openFileKeepsReadingThroughItsDonatedFDAcrossReattach() throws {
        let scratch = try HostScratch()
        scratch.write("f", "contents")
        let fixture = try GoferFixture(scratch: scratch)
        let file = try fixture.context.open("/f", flags: OpenOptions.readOnly)
        fixture.killGofer()
        try fixture.attachNewGofer()
        var buffer = [UInt8](repeating: 0, count: 8)
        let count = try buffer.withUnsafeMutableBytes { (b) throws(Errno) -> Int in try file.read(into: b, at: 0) }
        #expect(count == 8)
        #expect(buffer == Array("contents".utf8))
        // Its open FDID belonged to the old connection.
        #expect(throws: Errno.ioError) { try file.sync(dataOnly: false) }
    }

    @Test func aWorkingDirectoryIsWalkedAgainAfterReattach() throws {
        let scratch = try HostScratch()
        scratch.mkdir("d")
        scratch.write("d/f", "x")
        let fixture = try GoferFixture(scratch: scratch)
        try fixture.context.changeDirectory("/d")
        fixture.killGofer()
        try fixture.attachNewGofer()
        #expect(try fixture.context.stat("f").size == 1)
    }
}

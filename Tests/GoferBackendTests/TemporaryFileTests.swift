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

/// O_TMPFILE on a gofer mount: our gofer's OpenCreateAt extension (an empty name with
/// O_TMPFILE), and the EOPNOTSUPP a client falls back to with a gofer that refuses it as
/// fsgofer does (EINVAL for the empty name).
@Suite struct TemporaryFileTests {
    static let temporaryFile: Int32 = 0o20200000

    @Test func anUnnamedFileIsMadeOnTheHostThroughOneOpenCreateAt() throws {
        // (linkat(AT_EMPTY_PATH) naming it: GoferDifferentialTests.temporaryFilesAgreeWithLinux.)
        let gofer = try ServedGofer()
        try gofer.context.makeDirectory("/d")
        gofer.filesystem.resetRPCCounts()
        let file = try gofer.context.open("/d", flags: Self.temporaryFile | O_RDWR, mode: 0o600)
        // One OpenCreateAt; the open that follows uses its open FD and donated host fd.
        #expect(gofer.filesystem.rpcCount(.openCreateAt) == 1)
        #expect(gofer.filesystem.rpcCount(.openAt) == 0)
        let written = try Array("unnamed".utf8).withUnsafeBytes { (b) throws(Errno) -> Int in
            try file.write(from: b, credentials: gofer.context.credentials)
        }
        #expect(written == 7)
        let stat = try file.stat()
        #expect(stat.nlink == 0)
        #expect(stat.size == 7)
        #expect(stat.mode.permissions == 0o600)
        #expect(try gofer.context.listDirectory("/d").filter { $0 != "." && $0 != ".." } == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: gofer.scratch.host("d")) == [])
    }

    @Test func aGoferThatRefusesItGivesEOPNOTSUPPOnce() throws {
        let gofer = try ServedGofer(server: GoferServerOptions(supportsTemporaryFiles: false))
        try gofer.context.makeDirectory("/d")
        gofer.filesystem.resetRPCCounts()
        #expect(throws: Errno.notSupported) {
            try gofer.context.open("/d", flags: Self.temporaryFile | O_RDWR, mode: 0o600)
        }
        #expect(gofer.filesystem.rpcCount(.openCreateAt) == 1)
        // Known refused: no second request.
        #expect(throws: Errno.notSupported) {
            try gofer.context.open("/d", flags: Self.temporaryFile | O_RDWR, mode: 0o600)
        }
        #expect(gofer.filesystem.rpcCount(.openCreateAt) == 1)
    }
}

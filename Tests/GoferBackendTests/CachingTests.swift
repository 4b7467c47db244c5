import Foundation
import GoferBackend
import LISAFS
import Testing
import VFSCore

#if canImport(Glibc)
    import Glibc
#endif

/// Caching modes and the bounded dentry cache.
@Suite struct GoferCachingTests {
    @Test func sharedModeDetectsAFileReplacedOnTheHost() throws {
        let scratch = try HostScratch()
        scratch.mkdir("d")
        scratch.write("d/f", "old")
        let fixture = try GoferFixture(options: GoferOptions(caching: .shared), scratch: scratch)
        let before = try fixture.context.stat("/d/f")
        #expect(before.inode == scratch.inode("d/f"))
        // Replace d/f on the host with a new inode (rename over it).
        scratch.write("d/g", "brand new")
        #expect(rename(scratch.host("d/g"), scratch.host("d/f")) == 0)
        let after = try fixture.context.stat("/d/f")
        #expect(after.inode == scratch.inode("d/f"))
        #expect(after.inode != before.inode)
        #expect(after.size == 9)
        #expect(try fixture.context.readFile("/d/f") == Array("brand new".utf8))
    }

    @Test func sharedModeDetectsADirectoryReplacedByAFile() throws {
        let scratch = try HostScratch()
        scratch.mkdir("d")
        scratch.write("d/f", "x")
        let fixture = try GoferFixture(options: GoferOptions(caching: .shared), scratch: scratch)
        _ = try fixture.context.stat("/d/f")
        #expect(unlink(scratch.host("d/f")) == 0)
        #expect(rmdir(scratch.host("d")) == 0)
        scratch.write("d", "now a file")
        #expect(throws: Errno.notDirectory) { try fixture.context.stat("/d/f") }
        #expect(try fixture.context.stat("/d").mode.type == .regular)
    }

    @Test func sharedModeSeesAHostDeletion() throws {
        let scratch = try HostScratch()
        scratch.write("f", "x")
        let fixture = try GoferFixture(options: GoferOptions(caching: .shared), scratch: scratch)
        _ = try fixture.context.stat("/f")
        #expect(unlink(scratch.host("f")) == 0)
        #expect(throws: Errno.noSuchFileOrDirectory) { try fixture.context.stat("/f") }
    }

    @Test func sharedModeSeesAttributesChangedOnTheHost() throws {
        let scratch = try HostScratch()
        scratch.write("f", "x")
        let fixture = try GoferFixture(options: GoferOptions(caching: .shared), scratch: scratch)
        _ = try fixture.context.stat("/f")
        #expect(chmod(scratch.host("f"), 0o600) == 0)
        #expect(try fixture.context.stat("/f").mode.permissions == 0o600)
    }

    @Test func nothingNegativeIsCached() throws {
        for mode in [GoferCachingMode.exclusive, .shared] {
            let scratch = try HostScratch()
            let fixture = try GoferFixture(options: GoferOptions(caching: mode), scratch: scratch)
            #expect(throws: Errno.noSuchFileOrDirectory) { try fixture.context.stat("/late") }
            scratch.write("late", "here")
            #expect(try fixture.context.stat("/late").size == 4)
        }
    }

    @Test func exclusiveModeTrustsItsCache() throws {
        let scratch = try HostScratch()
        scratch.write("f", "x")
        let fixture = try GoferFixture(options: GoferOptions(caching: .exclusive), scratch: scratch)
        _ = try fixture.context.stat("/f")
        #expect(unlink(scratch.host("f")) == 0)
        // The sandbox owns the tree: the cached dentry is used without asking.
        fixture.filesystem.resetRPCCounts()
        _ = try fixture.context.stat("/f")
        #expect(fixture.filesystem.totalRPCCount == 0)
    }

    @Test func dentryCacheStaysWithinItsLimit() throws {
        let scratch = try HostScratch()
        scratch.mkdir("d")
        for index in 0..<60 { scratch.write("d/f\(index)", "x") }
        let fixture = try GoferFixture(
            options: GoferOptions(dentryCacheLimit: 8, closeBatchSize: 4), scratch: scratch)
        for index in 0..<60 { _ = try fixture.context.stat("/d/f\(index)") }
        #expect(fixture.filesystem.cachedDentryCount <= 8)
        // The evicted dentries' control FDIDs were closed in batches.
        #expect(fixture.filesystem.rpcCount(.close) > 0)
        #expect(fixture.filesystem.rpcCount(.close) < 60)
    }

    @Test func evictedDentriesAreWalkedAgain() throws {
        let scratch = try HostScratch()
        for index in 0..<20 { scratch.write("f\(index)", "x") }
        let fixture = try GoferFixture(options: GoferOptions(dentryCacheLimit: 4), scratch: scratch)
        for index in 0..<20 { _ = try fixture.context.stat("/f\(index)") }
        fixture.filesystem.resetRPCCounts()
        _ = try fixture.context.stat("/f0")
        #expect(fixture.filesystem.rpcCount(.walk) == 1)
    }

    @Test func aDentryInUseIsNotEvicted() throws {
        let scratch = try HostScratch()
        scratch.write("keep", "kept")
        for index in 0..<20 { scratch.write("f\(index)", "x") }
        let fixture = try GoferFixture(options: GoferOptions(dentryCacheLimit: 2), scratch: scratch)
        let file = try fixture.context.open("/keep", flags: OpenOptions.readOnly)
        for index in 0..<20 { _ = try fixture.context.stat("/f\(index)") }
        fixture.filesystem.resetRPCCounts()
        // Still cached (an open file holds it): the walk costs nothing.
        _ = try fixture.context.stat("/keep")
        #expect(fixture.filesystem.walkRPCCount == 0)
        _ = file
    }

    @Test func trimmingClosesEveryUnusedFDID() throws {
        let scratch = try HostScratch()
        for index in 0..<5 { scratch.write("f\(index)", "x") }
        let fixture = try GoferFixture(scratch: scratch)
        for index in 0..<5 { _ = try fixture.context.stat("/f\(index)") }
        #expect(fixture.filesystem.cachedDentryCount == 5)
        fixture.filesystem.trimCache()
        #expect(fixture.filesystem.cachedDentryCount == 0)
        #expect(fixture.filesystem.pendingCloseCount == 0)
        #expect(fixture.filesystem.rpcCount(.close) == 1)
    }
}

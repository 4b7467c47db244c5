import GoferBackend
import LISAFS
import Testing
import VFSCore

/// How many RPCs a path operation costs: the point of LISAFS's Walk is one round trip per walk,
/// not one per component.
@Suite struct RPCCountTests {
    private func fixtureWithABC(_ options: GoferOptions) throws -> GoferFixture {
        let scratch = try HostScratch()
        scratch.mkdir("a")
        scratch.mkdir("a/b")
        scratch.write("a/b/c", "data")
        return try GoferFixture(options: options, scratch: scratch)
    }

    @Test func coldStatOfThreeComponentsCostsOneWalk() throws {
        let fixture = try fixtureWithABC(GoferOptions(caching: .exclusive))
        fixture.filesystem.resetRPCCounts()
        let stat = try fixture.context.stat("/a/b/c")
        #expect(stat.size == 4)
        #expect(fixture.filesystem.rpcCount(.walk) == 1)
        #expect(fixture.filesystem.totalRPCCount == 1)
    }

    @Test func warmStatInExclusiveModeCostsNoRPC() throws {
        let fixture = try fixtureWithABC(GoferOptions(caching: .exclusive))
        _ = try fixture.context.stat("/a/b/c")
        fixture.filesystem.resetRPCCounts()
        let stat = try fixture.context.stat("/a/b/c")
        #expect(stat.size == 4)
        #expect(fixture.filesystem.totalRPCCount == 0)
    }

    @Test func warmStatInWritethroughModeCostsNoRPC() throws {
        let fixture = try fixtureWithABC(GoferOptions(caching: .writethrough))
        _ = try fixture.context.stat("/a/b/c")
        fixture.filesystem.resetRPCCounts()
        _ = try fixture.context.stat("/a/b/c")
        #expect(fixture.filesystem.totalRPCCount == 0)
    }

    @Test func warmStatInSharedModeCostsOneWalkStat() throws {
        let fixture = try fixtureWithABC(GoferOptions(caching: .shared))
        _ = try fixture.context.stat("/a/b/c")
        fixture.filesystem.resetRPCCounts()
        let stat = try fixture.context.stat("/a/b/c")
        #expect(stat.size == 4)
        #expect(fixture.filesystem.rpcCount(.walkStat) == 1)
        #expect(fixture.filesystem.totalRPCCount == 1)
    }

    @Test func coldStatInSharedModeCostsOneWalk() throws {
        let fixture = try fixtureWithABC(GoferOptions(caching: .shared))
        fixture.filesystem.resetRPCCounts()
        _ = try fixture.context.stat("/a/b/c")
        #expect(fixture.filesystem.rpcCount(.walk) == 1)
        #expect(fixture.filesystem.totalRPCCount == 1)
    }

    @Test func perComponentWalkCostsOneWalkPerComponent() throws {
        let fixture = try fixtureWithABC(GoferOptions(caching: .exclusive, perComponentWalk: true))
        fixture.filesystem.resetRPCCounts()
        _ = try fixture.context.stat("/a/b/c")
        #expect(fixture.filesystem.rpcCount(.walk) == 3)
    }

    @Test func warmPrefixCostsOneWalkForTheRest() throws {
        let fixture = try fixtureWithABC(GoferOptions(caching: .exclusive))
        _ = try fixture.context.stat("/a")
        fixture.filesystem.resetRPCCounts()
        _ = try fixture.context.stat("/a/b/c")
        #expect(fixture.filesystem.rpcCount(.walk) == 1)
        #expect(fixture.filesystem.totalRPCCount == 1)
    }

    @Test func missingComponentCostsOneWalkAndIsENOENT() throws {
        let fixture = try fixtureWithABC(GoferOptions(caching: .exclusive))
        fixture.filesystem.resetRPCCounts()
        #expect(throws: Errno.noSuchFileOrDirectory) { try fixture.context.stat("/a/nope/c/d") }
        #expect(fixture.filesystem.walkRPCCount == 1)
    }

    @Test func createAndOpenIsOneOpenCreateAt() throws {
        let fixture = try fixtureWithABC(GoferOptions(caching: .exclusive))
        _ = try fixture.context.stat("/a/b")
        fixture.filesystem.resetRPCCounts()
        let file = try fixture.context.open(
            "/a/b/new", flags: OpenOptions.create | OpenOptions.readWrite, mode: 0o644)
        #expect(fixture.filesystem.rpcCount(.openCreateAt) == 1)
        #expect(fixture.filesystem.rpcCount(.openAt) == 0)
        _ = file
    }

    @Test func countsCanBeReset() throws {
        let fixture = try fixtureWithABC(GoferOptions())
        _ = try fixture.context.stat("/a/b/c")
        #expect(fixture.filesystem.totalRPCCount > 0)
        fixture.filesystem.resetRPCCounts()
        #expect(fixture.filesystem.rpcCounts.isEmpty)
    }
}

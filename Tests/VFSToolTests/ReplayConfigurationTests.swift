import Replay
import Testing

@testable import vfs

/// `vfs replay --config gofer gofer-shared`: the gofer configurations serve a scratch tree
/// in-process and report the client's RPCs through the target's counter.
@Suite struct ReplayConfigurationTests {
    let atFDCWD: Int32 = -100

    func makeTarget(_ name: String) throws -> any ReplayTarget {
        let target = try ReplaySubcommand.makeTarget(name, scratch: "/dev/shm")
        try target.setUp()
        return target
    }

    @Test func goferConfigurationCountsTheRPCsOfAMkdir() throws {
        let target = try makeTarget("gofer")
        defer { target.tearDown() }
        let before = try #require(target.rpcCount)
        #expect(target.mkdirat(atFDCWD, ReplayPath("/d"), 0o755) == 0)
        let after = try #require(target.rpcCount)
        #expect(after > before)
    }

    @Test func goferConfigurationAnswersACachedStatWithoutAnRPC() throws {
        let target = try makeTarget("gofer")
        defer { target.tearDown() }
        #expect(target.mkdirat(atFDCWD, ReplayPath("/d"), 0o755) == 0)
        var stat = StatSummary(mode: 0, size: 0)
        #expect(target.fstatat(atFDCWD, ReplayPath("/d"), 0, &stat) == 0)
        let before = try #require(target.rpcCount)
        #expect(target.fstatat(atFDCWD, ReplayPath("/d"), 0, &stat) == 0)
        #expect(target.rpcCount == before)
    }

    @Test func goferSharedConfigurationRevalidatesACachedPath() throws {
        let target = try makeTarget("gofer-shared")
        defer { target.tearDown() }
        #expect(target.name == "gofer-shared")
        #expect(target.mkdirat(atFDCWD, ReplayPath("/d"), 0o755) == 0)
        var stat = StatSummary(mode: 0, size: 0)
        #expect(target.fstatat(atFDCWD, ReplayPath("/d"), 0, &stat) == 0)
        let before = try #require(target.rpcCount)
        #expect(target.fstatat(atFDCWD, ReplayPath("/d"), 0, &stat) == 0)
        let after = try #require(target.rpcCount)
        #expect(after > before)
    }

    @Test func unknownConfigurationIsRejected() {
        #expect(throws: (any Error).self) { try ReplaySubcommand.makeTarget("nfs", scratch: "/dev/shm") }
    }
}

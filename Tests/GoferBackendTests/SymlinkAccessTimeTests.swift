import Foundation
import GoferBackend
import LISAFS
import Testing
import VFSCore

#if canImport(Glibc)
    import Glibc
#endif

/// A symlink's atime when a walk follows it or readlink reads it: Linux stamps it under
/// relatime (only when atime is not after mtime or ctime, or a day old). The client follows
/// with the target it cached, so it sends one ReadLinkAt (the host then stamps it under its own
/// relatime rule) only when its cached attributes say the stamp would happen.
/// Kernel facts checked with python3 on /dev/shm (Linux 6.18 tmpfs).
@Suite struct SymlinkAccessTimeTests {
    /// /f (one byte) and /l → f on a fresh gofer mount.
    static func fileAndLink() throws -> (GoferFixture, FSContext) {
        let fixture = try GoferFixture()
        try fixture.context.writeFile("/f", contents: [1])
        try fixture.context.makeSymlink(target: "f", at: "/l")
        return (fixture, fixture.context)
    }

    private func hostAccessTime(_ fixture: GoferFixture, _ relative: String) -> Timespec {
        var st = stat()
        _ = lstat(fixture.scratch.host(relative), &st)
        return Timespec(seconds: Int64(st.st_atim.tv_sec), nanoseconds: Int64(st.st_atim.tv_nsec))
    }

    @Test func followingAFreshSymlinkStampsItsAtime() throws {
        // Linux 6.18 on tmpfs: a new link has atime == mtime, so the first follow moves atime.
        let (fixture, context) = try Self.fileAndLink()
        let before = try context.stat("/l", followSymlink: false)
        usleep(20_000)
        fixture.filesystem.resetRPCCounts()
        #expect(try context.stat("/l").size == 1)
        #expect(fixture.filesystem.rpcCount(.readLinkAt) == 1)
        let after = try context.stat("/l", followSymlink: false)
        #expect(after.accessTime > before.accessTime)
        // The client shows the host's value.
        #expect(after.accessTime == hostAccessTime(fixture, "l"))
    }

    @Test func aFollowRelatimeWouldNotStampSendsNothing() throws {
        // Linux 6.18 on tmpfs: once atime is after mtime and ctime, a second follow leaves it.
        let (fixture, context) = try Self.fileAndLink()
        usleep(20_000)
        _ = try context.stat("/l")
        let stamped = try context.stat("/l", followSymlink: false)
        usleep(20_000)
        fixture.filesystem.resetRPCCounts()
        _ = try context.stat("/l")
        #expect(fixture.filesystem.totalRPCCount == 0)
        #expect(try context.stat("/l", followSymlink: false).accessTime == stamped.accessTime)
        #expect(hostAccessTime(fixture, "l") == stamped.accessTime)
    }

    @Test func aFollowAfterTheLinkChangedStampsAgain() throws {
        // Linux 6.18 on tmpfs: a chown of the link moves ctime past atime; the next follow
        // stamps atime again.
        let (fixture, context) = try Self.fileAndLink()
        usleep(20_000)
        _ = try context.stat("/l")
        usleep(20_000)
        try context.changeOwner("/l", uid: 1, gid: 1, followSymlink: false)
        let changed = try context.stat("/l", followSymlink: false)
        usleep(20_000)
        _ = try context.stat("/l")
        let after = try context.stat("/l", followSymlink: false)
        #expect(after.accessTime > changed.accessTime)
        #expect(after.accessTime == hostAccessTime(fixture, "l"))
    }

    @Test func readlinkOfACachedTargetStampsAtime() throws {
        // Linux 6.18 on tmpfs: readlink of a new link moves its atime.
        let fixture = try GoferFixture()
        let context = fixture.context
        try context.makeSymlink(target: "nowhere", at: "/l")
        let before = try context.stat("/l", followSymlink: false)
        usleep(20_000)
        #expect(try context.readSymlink("/l") == "nowhere")
        let after = try context.stat("/l", followSymlink: false)
        #expect(after.accessTime > before.accessTime)
        #expect(after.accessTime == hostAccessTime(fixture, "l"))
    }

    @Test func aColdFollowReadsTheTargetOnce() throws {
        // A link the client never saw: one ReadLinkAt reads the target, and that read is the
        // access the host stamps; no second ReadLinkAt for the same follow.
        let scratch = try HostScratch()
        scratch.write("f", "abc")
        #expect(symlink("f", scratch.host("l")) == 0)
        let fixture = try GoferFixture(scratch: scratch)
        #expect(try fixture.context.stat("/l").size == 3)
        #expect(fixture.filesystem.rpcCount(.readLinkAt) == 1)
        #expect(
            try fixture.context.stat("/l", followSymlink: false).accessTime
                == hostAccessTime(fixture, "l"))
    }

    @Test func aFollowThroughAReadOnlyMountLeavesAtime() throws {
        // Linux 6.18: touch_atime skips a read-only mount (a read-only bind mount of tmpfs:
        // neither a follow nor readlink moves the link's atime).
        let fixture = try GoferFixture()
        let context = fixture.context
        try context.makeDirectory("/d", mode: 0o755)
        try context.makeDirectory("/ro", mode: 0o755)
        try context.writeFile("/d/f", contents: [1])
        try context.makeSymlink(target: "f", at: "/d/l")
        _ = try context.bindMount("/d", at: "/ro", readOnly: true)
        let before = try context.stat("/d/l", followSymlink: false)
        usleep(20_000)
        fixture.filesystem.resetRPCCounts()
        #expect(try context.stat("/ro/l").size == 1)
        #expect(try context.readSymlink("/ro/l") == "f")
        #expect(fixture.filesystem.rpcCount(.readLinkAt) == 0)
        #expect(hostAccessTime(fixture, "d/l") == before.accessTime)
    }

    @Test func aHostThatKeepsAtimeIsAskedOnce() throws {
        // A noatime host mount never stamps: after one ReadLinkAt left the link's old atime as
        // it was, later follows send nothing (relatime's condition stays true there forever).
        let scratch = try HostScratch()
        scratch.mkdir("m")
        let noAccessTime: UInt = 1024  // MS_NOATIME
        guard mount("tmpfs", scratch.host("m"), "tmpfs", noAccessTime, nil) == 0 else {
            Issue.record("cannot mount a noatime tmpfs: errno \(errno)")
            return
        }
        defer { umount2(scratch.host("m"), Int32(MNT_DETACH)) }
        scratch.write("m/f", "x")
        #expect(symlink("f", scratch.host("m/l")) == 0)
        // atime and mtime ten seconds ago; ctime now: relatime would stamp.
        var old = timespec()
        clock_gettime(CLOCK_REALTIME, &old)
        old.tv_sec -= 10
        let times = [old, old]
        #expect(utimensat(AT_FDCWD, scratch.host("m/l"), times, AT_SYMLINK_NOFOLLOW) == 0)
        let fixture = try GoferFixture(scratch: scratch)
        #expect(try fixture.context.stat("/m/l").size == 1)
        #expect(try fixture.context.stat("/m/l").size == 1)
        #expect(fixture.filesystem.rpcCount(.readLinkAt) == 1)
        fixture.filesystem.resetRPCCounts()
        #expect(try fixture.context.stat("/m/l").size == 1)
        #expect(fixture.filesystem.totalRPCCount == 0)
        #expect(hostAccessTime(fixture, "m/l").seconds == Int64(old.tv_sec))
    }

    @Test func aLinkPastTheSymlinkLimitIsELOOPWithoutReadingIt() throws {
        // pick_link refuses the 41st link before touching its atime: a link never read is
        // not read (nor stamped) then.
        let scratch = try HostScratch()
        for index in 0..<40 {
            #expect(symlink("s\(index + 1)", scratch.host("s\(index)")) == 0)
        }
        #expect(symlink("f", scratch.host("s40")) == 0)
        scratch.write("f", "x")
        let fixture = try GoferFixture(scratch: scratch)
        let before = hostAccessTime(fixture, "s40")
        usleep(20_000)
        #expect(throws: Errno.tooManySymbolicLinkLevels) { try fixture.context.stat("/s0") }
        #expect(fixture.filesystem.rpcCount(.readLinkAt) == 40)
        #expect(hostAccessTime(fixture, "s40") == before)
    }
}

import TmpfsBackend
import Testing
import VFSCore

/// Which of atime, mtime and ctime each operation sets, with a clock the test steps by hand so
/// every step has its own time. Each rule was observed with python3 on /dev/shm (tmpfs, Linux
/// 6.18, mounted relatime): os.stat st_{a,m,c}time_ns before and after each call, sleeping
/// 20 ms between steps.
@Suite struct TimestampTests {
    struct Times: Equatable, CustomStringConvertible {
        var a: Timespec
        var m: Timespec
        var c: Timespec
        var description: String { "a=\(a) m=\(m) c=\(c)" }
    }

    let clock = StepClock()
    let world: TmpfsWorld

    init() {
        world = TmpfsWorld(clock: clock)
    }

    private func times(_ path: String) throws -> Times {
        let stat = try world.ctx.stat(path, followSymlink: false)
        return Times(a: stat.accessTime, m: stat.modificationTime, c: stat.changeTime)
    }

    private func times(_ file: FileDescription) throws -> Times {
        let stat = try file.stat()
        return Times(a: stat.accessTime, m: stat.modificationTime, c: stat.changeTime)
    }

    // MARK: Creation

    @Test func createSetsAllThreeTimesWithNanoseconds() throws {
        try world.ctx.makeDirectory("/d")
        let now = clock.tick()
        _ = try world.ctx.open("/d/f", flags: OpenOptions.create | OpenOptions.writeOnly)
        let stat = try world.ctx.stat("/d/f")
        #expect(now.nanoseconds != 0)
        #expect(stat.accessTime == now)
        #expect(stat.modificationTime == now)
        #expect(stat.changeTime == now)
        #expect(stat.birthTime == now)
    }

    @Test func createSetsParentModificationAndChangeButNotAccess() throws {
        try world.ctx.makeDirectory("/d")
        let before = try times("/d")
        let now = clock.tick()
        // Linux 6.18 on tmpfs: creating d/f changes d's m and c only.
        try world.ctx.writeFile("/d/f", contents: [])
        #expect(try times("/d") == Times(a: before.a, m: now, c: now))
    }

    @Test func mkdirSymlinkAndMknodEachStampTheParent() throws {
        try world.ctx.makeDirectory("/e")
        let creations: [() throws -> Void] = [
            { try world.ctx.makeDirectory("/e/sub") },
            { try world.ctx.makeSymlink(target: "t", at: "/e/l") },
            { try world.ctx.makeNode("/e/p", mode: FileType.fifo.rawValue | 0o644) },
        ]
        for (index, create) in creations.enumerated() {
            let before = try times("/e")
            let now = clock.tick()
            try create()
            #expect(try times("/e") == Times(a: before.a, m: now, c: now), "step \(index)")
        }
    }

    // MARK: Data

    @Test func writeSetsModificationAndChange() throws {
        try world.ctx.makeDirectory("/d")
        try world.ctx.writeFile("/d/f", contents: [])
        let file = try world.ctx.open("/d/f", flags: OpenOptions.readWrite)
        let before = try times("/d/f")
        let parent = try times("/d")
        let now = clock.tick()
        try TmpfsWorld.write(file, Array("abc".utf8))
        #expect(try times("/d/f") == Times(a: before.a, m: now, c: now))
        #expect(try times("/d") == parent)
    }

    @Test func zeroLengthWriteChangesNothing() throws {
        try world.ctx.writeFile("/f", contents: [1])
        let file = try world.ctx.open("/f", flags: OpenOptions.readWrite)
        let before = try times("/f")
        clock.tick()
        #expect(try TmpfsWorld.write(file, []) == 0)
        #expect(try times("/f") == before)
    }

    @Test func firstReadAfterWriteSetsAccessTimeAndSecondDoesNot() throws {
        try world.ctx.writeFile("/f", contents: Array("abc".utf8))
        let file = try world.ctx.open("/f", flags: OpenOptions.readOnly)
        let before = try times("/f")
        let first = clock.tick()
        _ = try TmpfsWorld.read(file, count: 3, at: 0)
        #expect(try times("/f") == Times(a: first, m: before.m, c: before.c))
        clock.tick()
        _ = try TmpfsWorld.read(file, count: 3, at: 0)
        #expect(try times("/f").a == first)
    }

    @Test func readAtEndOfFileStillSetsAccessTimeAfterWrite() throws {
        try world.ctx.writeFile("/f", contents: Array("abc".utf8))
        let file = try world.ctx.open("/f", flags: OpenOptions.readOnly)
        let now = clock.tick()
        // Linux 6.18 on tmpfs: pread(fd, 10, 100) on a 3-byte file updates a stale atime.
        #expect(try TmpfsWorld.read(file, count: 10, at: 100) == [])
        #expect(try times("/f").a == now)
    }

    @Test func zeroLengthReadStillSetsAccessTimeAfterWrite() throws {
        try world.ctx.writeFile("/f", contents: Array("abc".utf8))
        let file = try world.ctx.open("/f", flags: OpenOptions.readOnly)
        let now = clock.tick()
        // Linux 6.18 on tmpfs: pread(fd, 0, 0) right after a write updates atime.
        #expect(try TmpfsWorld.read(file, count: 0, at: 0) == [])
        #expect(try times("/f").a == now)
    }

    @Test func readAfterChmodSetsAccessTimeAgain() throws {
        try world.ctx.writeFile("/f", contents: Array("abc".utf8))
        let file = try world.ctx.open("/f", flags: OpenOptions.readOnly)
        clock.tick()
        _ = try TmpfsWorld.read(file, count: 3, at: 0)
        clock.tick()
        try world.ctx.changeMode("/f", 0o600)
        let now = clock.tick()
        // relatime: a ctime newer than atime makes the next read update it.
        _ = try TmpfsWorld.read(file, count: 3, at: 0)
        #expect(try times("/f").a == now)
    }

    // MARK: Size changes

    @Test func truncateByPathToSameSizeWithoutDataChangesNothing() throws {
        try world.ctx.writeFile("/f", contents: [])
        try world.ctx.truncate("/f", size: 10)
        let before = try times("/f")
        clock.tick()
        // Linux 6.18 on tmpfs: truncate("f", 10) on a 10-byte file with no data pages (made by
        // truncate alone) leaves all three times alone; so does truncating an empty file to 0.
        try world.ctx.truncate("/f", size: 10)
        #expect(try times("/f") == before)
        try world.ctx.writeFile("/g", contents: [])
        let empty = try times("/g")
        clock.tick()
        try world.ctx.truncate("/g", size: 0)
        #expect(try times("/g") == empty)
    }

    @Test func truncateByPathToSameSizeWithDataSetsModificationAndChange() throws {
        try world.ctx.writeFile("/f", contents: Array("abc".utf8))
        let before = try times("/f")
        let now = clock.tick()
        // Linux 6.18 on tmpfs: truncate("f", 3) on a written 3-byte file changes m and c:
        // shmem_setattr calls shmem_truncate_range (which stamps them) whenever the new size is
        // not larger and the file has pages.
        try world.ctx.truncate("/f", size: 3)
        #expect(try times("/f") == Times(a: before.a, m: now, c: now))
    }

    @Test func truncateByPathToNewSizeSetsModificationAndChange() throws {
        try world.ctx.writeFile("/f", contents: Array("abc".utf8))
        let before = try times("/f")
        let grow = clock.tick()
        try world.ctx.truncate("/f", size: 5)
        #expect(try times("/f") == Times(a: before.a, m: grow, c: grow))
        let shrink = clock.tick()
        try world.ctx.truncate("/f", size: 1)
        #expect(try times("/f") == Times(a: before.a, m: shrink, c: shrink))
    }

    @Test func ftruncateToSameSizeSetsModificationAndChange() throws {
        try world.ctx.writeFile("/f", contents: [])
        try world.ctx.truncate("/f", size: 5)
        let file = try world.ctx.open("/f", flags: OpenOptions.readWrite)
        let before = try times("/f")
        let now = clock.tick()
        // Linux 6.18 on tmpfs: ftruncate(fd, 5) on a 5-byte file changes m and c.
        try world.truncate(file, to: 5)
        #expect(try times("/f") == Times(a: before.a, m: now, c: now))
    }

    @Test func openWithTruncateSetsModificationAndChangeEvenWhenEmpty() throws {
        try world.ctx.writeFile("/f", contents: [])
        let before = try times("/f")
        let now = clock.tick()
        // Linux 6.18 on tmpfs: open("f", O_WRONLY|O_TRUNC) of an empty file changes m and c.
        _ = try world.ctx.open("/f", flags: OpenOptions.writeOnly | OpenOptions.truncate)
        #expect(try times("/f") == Times(a: before.a, m: now, c: now))
    }

    @Test func fallocateSetsModificationAndChange() throws {
        try world.ctx.writeFile("/f", contents: [])
        let file = try world.ctx.open("/f", flags: OpenOptions.readWrite)
        let before = try times("/f")
        let keep = clock.tick()
        // Linux 6.18 on tmpfs: fallocate with KEEP_SIZE, with mode 0 over pages that already
        // exist, and PUNCH_HOLE|KEEP_SIZE each change m and c.
        try file.allocate(mode: .keepSize, offset: 200_000, length: 4096)
        #expect(try times("/f") == Times(a: before.a, m: keep, c: keep))
        let plain = clock.tick()
        try file.allocate(mode: [], offset: 200_000, length: 4096)
        #expect(try times("/f") == Times(a: before.a, m: plain, c: plain))
        let punch = clock.tick()
        try file.allocate(mode: [.punchHole, .keepSize], offset: 0, length: 4096)
        #expect(try times("/f") == Times(a: before.a, m: punch, c: punch))
    }

    // MARK: Attributes

    @Test func chmodSetsOnlyChangeTime() throws {
        try world.ctx.writeFile("/f", contents: [])
        let before = try times("/f")
        let now = clock.tick()
        try world.ctx.changeMode("/f", 0o600)
        #expect(try times("/f") == Times(a: before.a, m: before.m, c: now))
        // Linux 6.18: chmod to the mode it already has still changes c.
        let again = clock.tick()
        try world.ctx.changeMode("/f", 0o600)
        #expect(try times("/f") == Times(a: before.a, m: before.m, c: again))
    }

    @Test func chownSetsOnlyChangeTimeEvenForMinusOneMinusOne() throws {
        try world.ctx.writeFile("/f", contents: [])
        let before = try times("/f")
        let now = clock.tick()
        try world.ctx.changeOwner("/f", uid: 5, gid: 6)
        #expect(try times("/f") == Times(a: before.a, m: before.m, c: now))
        let again = clock.tick()
        try world.ctx.changeOwner("/f", uid: nil, gid: nil)
        #expect(try times("/f") == Times(a: before.a, m: before.m, c: again))
    }

    @Test func utimensWithExplicitValuesSetsThemAndStampsChangeTime() throws {
        try world.ctx.writeFile("/f", contents: [])
        let now = clock.tick()
        let access = Timespec(seconds: 1, nanoseconds: 123)
        let modification = Timespec(seconds: 2, nanoseconds: 456)
        // Linux 6.18: os.utime(ns=(1000000123, 2000000456)) reads back exactly, c is now.
        try world.ctx.setTimes("/f", access: .set(access), modification: .set(modification))
        #expect(try times("/f") == Times(a: access, m: modification, c: now))
    }

    @Test func utimensWithOnlyOneTimeLeavesTheOther() throws {
        try world.ctx.writeFile("/f", contents: [])
        let before = try times("/f")
        let now = clock.tick()
        let modification = Timespec(seconds: 2, nanoseconds: 456)
        try world.ctx.setTimes("/f", access: nil, modification: .set(modification))
        #expect(try times("/f") == Times(a: before.a, m: modification, c: now))
    }

    @Test func utimensNowSetsAllThreeToTheSameTime() throws {
        try world.ctx.writeFile("/f", contents: [])
        try world.ctx.setTimes(
            "/f", access: .set(Timespec(seconds: 1, nanoseconds: 1)),
            modification: .set(Timespec(seconds: 2, nanoseconds: 2)))
        let now = clock.tick()
        // Linux 6.18: os.utime(path) leaves a == m == c.
        try world.ctx.setTimes("/f", access: .now, modification: .now)
        #expect(try times("/f") == Times(a: now, m: now, c: now))
    }

    @Test func setAndRemoveXattrSetChangeTimeAndGetDoesNot() throws {
        try world.ctx.writeFile("/f", contents: [])
        let before = try times("/f")
        let set = clock.tick()
        try world.vfs.setExtendedAttribute(
            .root, world.ctx.operation("/f"), name: Array("user.x".utf8), value: [1], flags: 0)
        #expect(try times("/f") == Times(a: before.a, m: before.m, c: set))
        clock.tick()
        _ = try world.vfs.getExtendedAttribute(
            .root, world.ctx.operation("/f"), name: Array("user.x".utf8))
        _ = try world.vfs.listExtendedAttributes(.root, world.ctx.operation("/f"))
        #expect(try times("/f") == Times(a: before.a, m: before.m, c: set))
        let remove = clock.tick()
        try world.vfs.removeExtendedAttribute(
            .root, world.ctx.operation("/f"), name: Array("user.x".utf8))
        #expect(try times("/f") == Times(a: before.a, m: before.m, c: remove))
    }

    @Test func statAndOpenWithoutReadingChangeNothing() throws {
        try world.ctx.writeFile("/f", contents: [1])
        let before = try times("/f")
        clock.tick()
        _ = try world.ctx.open("/f", flags: OpenOptions.readOnly)
        _ = try world.ctx.stat("/f")
        #expect(try times("/f") == before)
    }

    // MARK: Names

    @Test func linkSetsInodeChangeTimeAndDirectoryModificationAndChange() throws {
        try world.ctx.makeDirectory("/d")
        try world.ctx.writeFile("/d/f", contents: [])
        let file = try times("/d/f")
        let directory = try times("/d")
        let now = clock.tick()
        try world.ctx.makeLink(existing: "/d/f", new: "/d/g")
        #expect(try times("/d/f") == Times(a: file.a, m: file.m, c: now))
        #expect(try times("/d") == Times(a: directory.a, m: now, c: now))
    }

    @Test func unlinkSetsInodeChangeTimeAndDirectoryModificationAndChange() throws {
        try world.ctx.makeDirectory("/d")
        try world.ctx.writeFile("/d/f", contents: [])
        try world.ctx.makeLink(existing: "/d/f", new: "/d/g")
        let file = try times("/d/f")
        let directory = try times("/d")
        let now = clock.tick()
        try world.ctx.unlink("/d/g")
        #expect(try times("/d/f") == Times(a: file.a, m: file.m, c: now))
        #expect(try times("/d") == Times(a: directory.a, m: now, c: now))
    }

    @Test func rmdirSetsParentModificationAndChange() throws {
        try world.ctx.makeDirectory("/e")
        try world.ctx.makeDirectory("/e/sub")
        let before = try times("/e")
        let now = clock.tick()
        try world.ctx.removeDirectory("/e/sub")
        #expect(try times("/e") == Times(a: before.a, m: now, c: now))
    }

    @Test func renameAcrossDirectoriesSetsMovedChangeTimeAndBothParents() throws {
        try world.ctx.makeDirectory("/d")
        try world.ctx.makeDirectory("/e")
        try world.ctx.writeFile("/d/f", contents: [])
        let file = try times("/d/f")
        let d = try times("/d")
        let e = try times("/e")
        let now = clock.tick()
        try world.ctx.rename("/d/f", to: "/e/f")
        // Linux 6.18 on tmpfs: the file's c, and m and c of both directories.
        #expect(try times("/e/f") == Times(a: file.a, m: file.m, c: now))
        #expect(try times("/d") == Times(a: d.a, m: now, c: now))
        #expect(try times("/e") == Times(a: e.a, m: now, c: now))
    }

    @Test func renameWithinDirectoryLeavesOtherDirectoriesAlone() throws {
        try world.ctx.makeDirectory("/d")
        try world.ctx.makeDirectory("/e")
        try world.ctx.writeFile("/e/f", contents: [])
        let d = try times("/d")
        let e = try times("/e")
        let now = clock.tick()
        try world.ctx.rename("/e/f", to: "/e/f2")
        #expect(try times("/e/f2").c == now)
        #expect(try times("/e") == Times(a: e.a, m: now, c: now))
        #expect(try times("/d") == d)
    }

    @Test func renamedDirectorySetsItsChangeTime() throws {
        try world.ctx.makeDirectory("/d")
        try world.ctx.makeDirectory("/e")
        try world.ctx.makeDirectory("/d/sd")
        let sd = try times("/d/sd")
        let now = clock.tick()
        try world.ctx.rename("/d/sd", to: "/e/sd")
        #expect(try times("/e/sd") == Times(a: sd.a, m: sd.m, c: now))
    }

    @Test func renameOverFileSetsReplacedInodeChangeTime() throws {
        try world.ctx.writeFile("/f", contents: [])
        try world.ctx.writeFile("/t", contents: [])
        let victim = try world.ctx.open("/t", flags: OpenOptions.readOnly)
        let before = try times(victim)
        let now = clock.tick()
        try world.ctx.rename("/f", to: "/t")
        #expect(try times(victim) == Times(a: before.a, m: before.m, c: now))
    }

    @Test func renameOntoAnotherLinkOfTheSameInodeChangesNoTime() throws {
        try world.ctx.makeDirectory("/e")
        try world.ctx.writeFile("/e/t", contents: [])
        try world.ctx.makeLink(existing: "/e/t", new: "/e/t2")
        let file = try times("/e/t")
        let directory = try times("/e")
        clock.tick()
        try world.ctx.rename("/e/t", to: "/e/t2")
        #expect(try times("/e/t") == file)
        #expect(try times("/e") == directory)
    }

    // MARK: Directories

    @Test func readdirSetsDirectoryAccessTimeUnderRelatime() throws {
        try world.ctx.makeDirectory("/e")
        let before = try times("/e")
        let first = clock.tick()
        // Linux 6.18 on tmpfs: the first listdir of a new directory changes a; a second does
        // not; after creating an entry the next one does again.
        _ = try world.ctx.listDirectory("/e")
        #expect(try times("/e") == Times(a: first, m: before.m, c: before.c))
        clock.tick()
        _ = try world.ctx.listDirectory("/e")
        #expect(try times("/e").a == first)
        clock.tick()
        try world.ctx.writeFile("/e/x", contents: [])
        let third = clock.tick()
        _ = try world.ctx.listDirectory("/e")
        #expect(try times("/e").a == third)
    }
}

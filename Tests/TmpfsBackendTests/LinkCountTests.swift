import TmpfsBackend
import Testing
import VFSCore

/// st_nlink after every operation that adds or removes a name. Each expected count was
/// observed with python3's os module on /dev/shm (tmpfs, Linux 6.18).
@Suite struct LinkCountTests {
    private func nlink(_ world: TmpfsWorld, _ path: String) throws -> UInt32 {
        try world.ctx.stat(path, followSymlink: false).nlink
    }

    @Test func newFileHasOneLink() throws {
        let world = TmpfsWorld()
        try world.ctx.writeFile("/n", contents: [])
        #expect(try nlink(world, "/n") == 1)
    }

    @Test func eachHardLinkAddsOneAndEachUnlinkTakesOne() throws {
        let world = TmpfsWorld()
        try world.ctx.writeFile("/n", contents: [])
        // Linux 6.18 on tmpfs: 1, link -> 2, link -> 3, unlink -> 2.
        try world.ctx.makeLink(existing: "/n", new: "/n2")
        #expect(try nlink(world, "/n") == 2)
        try world.ctx.makeLink(existing: "/n", new: "/n3")
        #expect(try nlink(world, "/n") == 3)
        #expect(try nlink(world, "/n3") == 3)
        try world.ctx.unlink("/n3")
        #expect(try nlink(world, "/n") == 2)
        try world.ctx.unlink("/n")
        #expect(try nlink(world, "/n2") == 1)
    }

    @Test func linksToSymlinksFifosAndSocketsCountToo() throws {
        let world = TmpfsWorld()
        try world.ctx.makeSymlink(target: "nowhere", at: "/l")
        try world.ctx.makeNode("/p", mode: FileType.fifo.rawValue | 0o644)
        try world.ctx.makeLink(existing: "/l", new: "/l2")
        try world.ctx.makeLink(existing: "/p", new: "/p2")
        #expect(try nlink(world, "/l") == 2)
        #expect(try nlink(world, "/p") == 2)
    }

    @Test func newDirectoryHasTwoLinks() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/p")
        #expect(try nlink(world, "/p") == 2)
    }

    @Test func emptyRootHasTwoLinksPlusOnePerSubdirectory() throws {
        let world = TmpfsWorld()
        // Linux 6.18: a fresh tmpfs mount's root has st_nlink 2.
        #expect(try nlink(world, "/") == 2)
        try world.ctx.makeDirectory("/a")
        try world.ctx.makeDirectory("/b")
        try world.ctx.writeFile("/f", contents: [])
        #expect(try nlink(world, "/") == 4)
    }

    @Test func mkdirAndRmdirAdjustTheParent() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/p")
        try world.ctx.makeDirectory("/p/s1")
        try world.ctx.makeDirectory("/p/s2")
        // Linux 6.18 on tmpfs: 2, then 4 with two subdirectories, 3 after one rmdir.
        #expect(try nlink(world, "/p") == 4)
        try world.ctx.removeDirectory("/p/s2")
        #expect(try nlink(world, "/p") == 3)
    }

    @Test func filesDoNotAddToTheDirectoryLinkCount() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/p")
        try world.ctx.writeFile("/p/f", contents: [])
        try world.ctx.makeSymlink(target: "f", at: "/p/l")
        #expect(try nlink(world, "/p") == 2)
    }

    @Test func movingSubdirectoryBetweenParentsAdjustsBoth() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/p")
        try world.ctx.makeDirectory("/p/s1")
        try world.ctx.makeDirectory("/p/s2")
        try world.ctx.makeDirectory("/q")
        try world.ctx.rename("/p/s1", to: "/q/s1")
        // Linux 6.18 on tmpfs: p 4 -> 3, q 2 -> 3.
        #expect(try nlink(world, "/p") == 3)
        #expect(try nlink(world, "/q") == 3)
    }

    @Test func renamingDirectoryOverEmptyDirectoryAcrossParents() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/p")
        try world.ctx.makeDirectory("/p/s2")
        try world.ctx.makeDirectory("/q")
        try world.ctx.makeDirectory("/q/s1")
        try world.ctx.makeDirectory("/q/e")
        try world.ctx.rename("/p/s2", to: "/q/e")
        // Linux 6.18 on tmpfs: p 3 -> 2; q stays 4 (lost e, gained s2).
        #expect(try nlink(world, "/p") == 2)
        #expect(try nlink(world, "/q") == 4)
        #expect(try nlink(world, "/q/e") == 2)
    }

    @Test func renamingDirectoryOverEmptyDirectoryInOneParent() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/p")
        try world.ctx.makeDirectory("/p/a")
        try world.ctx.makeDirectory("/p/b")
        try world.ctx.rename("/p/a", to: "/p/b")
        #expect(try nlink(world, "/p") == 3)
    }

    @Test func replacedDirectoryOpenBeforeHasNoLinks() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/a")
        try world.ctx.makeDirectory("/b")
        let victim = try world.ctx.open("/b", flags: OpenOptions.readOnly | OpenOptions.directory)
        try world.ctx.rename("/a", to: "/b")
        #expect(try victim.stat().nlink == 0)
    }

    @Test func hardLinkToDirectoryIsEPERM() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/q")
        // Linux 6.18 on tmpfs: os.link("q", "q2") raises EPERM, even for root.
        #expect(throws: Errno.notPermitted) { try world.ctx.makeLink(existing: "/q", new: "/q2") }
        #expect(try nlink(world, "/q") == 2)
    }

    @Test func renameOntoAnotherLinkOfTheSameInodeKeepsBothNames() throws {
        let world = TmpfsWorld()
        try world.ctx.writeFile("/n", contents: [7])
        try world.ctx.makeLink(existing: "/n", new: "/n2")
        // Linux 6.18 on tmpfs: rename("n", "n2") succeeds, both names stay, st_nlink stays 2.
        try world.ctx.rename("/n", to: "/n2")
        #expect(try nlink(world, "/n") == 2)
        #expect(try nlink(world, "/n2") == 2)
        #expect(try world.ctx.listDirectory("/").sorted() == ["n", "n2"])
    }

    @Test func renameOverHardLinkOfAnotherFileDropsItsCount() throws {
        let world = TmpfsWorld()
        try world.ctx.writeFile("/a", contents: [])
        try world.ctx.writeFile("/t", contents: [])
        try world.ctx.makeLink(existing: "/t", new: "/t2")
        try world.ctx.rename("/a", to: "/t")
        #expect(try nlink(world, "/t2") == 1)
        #expect(try nlink(world, "/t") == 1)
    }

    @Test func exchangingTwoLinksOfTheSameInodeChangesNothing() throws {
        let world = TmpfsWorld()
        try world.ctx.writeFile("/n", contents: [])
        try world.ctx.makeLink(existing: "/n", new: "/n2")
        // Linux 6.18 on tmpfs: renameat2(RENAME_EXCHANGE) of two links of one inode succeeds.
        try world.ctx.rename("/n", to: "/n2", flags: .exchange)
        #expect(try nlink(world, "/n") == 2)
    }

    @Test func hardLinkInodeNumberIsShared() throws {
        let world = TmpfsWorld()
        try world.ctx.writeFile("/n", contents: [])
        try world.ctx.makeLink(existing: "/n", new: "/n2")
        #expect(try world.ctx.stat("/n").inode == world.ctx.stat("/n2").inode)
    }
}

import TmpfsBackend
import Testing
import VFSCore

/// tmpfs's size= and nr_inodes= limits, statfs, and mount-option parsing. Each figure was
/// observed on Linux 6.18 with python3 against a scratch `mount -t tmpfs -o size=16k` (and
/// `nr_inodes=4`, `size=1m,nr_inodes=10,mode=700,uid=5,gid=6`) and os.statvfs / statfs(2).
@Suite struct SpaceLimitTests {
    /// A 16 KiB tmpfs: four pages.
    private func smallWorld() -> TmpfsWorld {
        TmpfsWorld(options: TmpfsOptions(sizeLimit: 16384))
    }

    @Test func writePastSizeLimitIsShortThenENOSPC() throws {
        let world = smallWorld()
        let file = try world.ctx.open("/f", flags: OpenOptions.create | OpenOptions.readWrite)
        // Linux 6.18, size=16k: write of 12288 bytes gives 12288, of 8192 gives 4096, then
        // a further write of 10 gives ENOSPC; the file is 16384 bytes.
        #expect(try TmpfsWorld.write(file, [UInt8](repeating: 0x61, count: 12288)) == 12288)
        #expect(try TmpfsWorld.write(file, [UInt8](repeating: 0x62, count: 8192)) == 4096)
        #expect(throws: Errno.noSpace) { try TmpfsWorld.write(file, [UInt8](repeating: 0x63, count: 10)) }
        #expect(try file.stat().size == 16384)
        #expect(try TmpfsWorld.read(file, count: 1, at: 16383) == [0x62])
    }

    @Test func spaceOfUnlinkedFileIsFreedOnlyWhenTheLastDescriptionGoes() throws {
        let world = smallWorld()
        var first: FileDescription? = try world.ctx.open(
            "/f", flags: OpenOptions.create | OpenOptions.readWrite)
        if let first { try TmpfsWorld.write(first, [UInt8](repeating: 1, count: 16384)) }
        try world.ctx.unlink("/f")
        let second = try world.ctx.open("/g", flags: OpenOptions.create | OpenOptions.readWrite)
        // Linux 6.18, size=16k: with the unlinked file still open, ENOSPC; after close, the
        // write of 10 bytes succeeds and statfs shows 3 of 4 blocks free.
        withExtendedLifetime(first) {
            #expect(throws: Errno.noSpace) { try TmpfsWorld.write(second, [1]) }
            #expect((try? world.statfs().freeBlocks) == 0)
        }
        first = nil
        #expect(try TmpfsWorld.write(second, [UInt8](repeating: 2, count: 10)) == 10)
        #expect(try world.statfs().freeBlocks == 3)
    }

    @Test func truncateGivesPagesBack() throws {
        let world = smallWorld()
        try world.ctx.writeFile("/f", contents: [UInt8](repeating: 1, count: 16384))
        #expect(try world.statfs().freeBlocks == 0)
        try world.ctx.truncate("/f", size: 4096)
        #expect(try world.statfs().freeBlocks == 3)
    }

    @Test func fallocatePastSizeLimitIsENOSPCAndAllocatesNothing() throws {
        let world = smallWorld()
        let file = try world.ctx.open("/g", flags: OpenOptions.create | OpenOptions.readWrite)
        try TmpfsWorld.write(file, [UInt8](repeating: 1, count: 10))
        // Linux 6.18, size=16k with one page used: fallocate(0, 5 pages) gives ENOSPC with
        // st_blocks still 8 and st_size 10; fallocate(0, 4 pages) then succeeds (st_blocks 32).
        #expect(throws: Errno.noSpace) {
            try file.allocate(mode: [], offset: 0, length: 5 * 4096)
        }
        #expect(try file.stat().blocks == 8)
        #expect(try file.stat().size == 10)
        try file.allocate(mode: [], offset: 0, length: 4 * 4096)
        #expect(try file.stat().blocks == 32)
        #expect(try world.statfs().freeBlocks == 0)
    }

    @Test func statfsReflectsPageUsage() throws {
        let world = smallWorld()
        var stat = try world.statfs()
        // Linux 6.18, size=16k: f_bsize 4096, f_blocks 4, f_bfree 4, f_bavail 4.
        #expect(stat.blockSize == 4096)
        #expect(stat.blocks == 4)
        #expect(stat.freeBlocks == 4)
        #expect(stat.availableBlocks == 4)
        try world.ctx.writeFile("/f", contents: [UInt8](repeating: 1, count: 12288))
        stat = try world.statfs()
        #expect(stat.freeBlocks == 1)
        #expect(stat.availableBlocks == 1)
    }

    @Test func statfsTypeAndNameLength() throws {
        let world = TmpfsWorld()
        let stat = try world.statfs()
        // Linux 6.18, statfs("/dev/shm"): f_type 0x1021994, f_namelen 255, f_frsize 4096.
        #expect(stat.type == 0x0102_1994)
        #expect(stat.nameLength == 255)
        #expect(stat.fragmentSize == 4096)
    }

    // MARK: nr_inodes

    /// nr_inodes=4: the root and three more.
    private func fullInodeWorld() throws -> TmpfsWorld {
        let world = TmpfsWorld(options: TmpfsOptions(inodeLimit: 4))
        try world.ctx.makeDirectory("/d")
        try world.ctx.makeNode("/p", mode: FileType.fifo.rawValue | 0o600)
        try world.ctx.makeSymlink(target: "x", at: "/l")
        return world
    }

    @Test func statfsCountsTheRootAgainstTheInodeLimit() throws {
        let world = TmpfsWorld(options: TmpfsOptions(inodeLimit: 4))
        // Linux 6.18, nr_inodes=4: f_files 4, f_ffree 3 on a fresh mount.
        #expect(try world.statfs().files == 4)
        #expect(try world.statfs().freeFiles == 3)
    }

    @Test func everyKindOfCreateIsENOSPCWhenInodesRunOut() throws {
        let world = try fullInodeWorld()
        // Linux 6.18, nr_inodes=4 with 3 used beyond the root: f_ffree 0; mkdir, mknod, symlink
        // and open(O_CREAT) all give ENOSPC.
        #expect(try world.statfs().freeFiles == 0)
        #expect(throws: Errno.noSpace) { try world.ctx.makeDirectory("/d2") }
        #expect(throws: Errno.noSpace) {
            try world.ctx.makeNode("/p2", mode: FileType.fifo.rawValue | 0o600)
        }
        #expect(throws: Errno.noSpace) { try world.ctx.makeSymlink(target: "x", at: "/l2") }
        #expect(throws: Errno.noSpace) {
            try world.ctx.open("/f", flags: OpenOptions.create | OpenOptions.readWrite)
        }
        #expect(throws: Errno.noSuchFileOrDirectory) { try world.ctx.stat("/f") }
    }

    @Test func unlinkingGivesTheInodeBack() throws {
        let world = try fullInodeWorld()
        try world.ctx.unlink("/l")
        #expect(try world.statfs().freeFiles == 1)
        try world.ctx.writeFile("/f", contents: [])
        #expect(try world.statfs().freeFiles == 0)
    }

    @Test func unlinkedOpenFileKeepsItsInodeUntilClosed() throws {
        let world = try fullInodeWorld()
        try world.ctx.unlink("/l")
        try world.ctx.writeFile("/f", contents: [])
        var file: FileDescription? = try world.ctx.open("/f", flags: OpenOptions.readOnly)
        try world.ctx.unlink("/f")
        // Linux 6.18, nr_inodes=4: f_ffree stays 0 while the unlinked file is open, 1 after.
        withExtendedLifetime(file) {
            #expect((try? world.statfs().freeFiles) == 0)
        }
        file = nil
        #expect(try world.statfs().freeFiles == 1)
    }

    @Test func hardLinksCountAgainstTheInodeLimit() throws {
        let world = try fullInodeWorld()
        try world.ctx.unlink("/l")
        try world.ctx.writeFile("/f", contents: [])
        // Linux 6.18, nr_inodes=4 (shmem_link reserves an inode for each extra link): with no
        // inode free, link gives ENOSPC; after freeing one it succeeds and f_ffree is 0;
        // unlinking the link gives it back.
        #expect(throws: Errno.noSpace) { try world.ctx.makeLink(existing: "/f", new: "/f2") }
        try world.ctx.unlink("/p")
        #expect(try world.statfs().freeFiles == 1)
        try world.ctx.makeLink(existing: "/f", new: "/f2")
        #expect(try world.statfs().freeFiles == 0)
        try world.ctx.unlink("/f2")
        #expect(try world.statfs().freeFiles == 1)
    }

    @Test func renameOverAHardLinkGivesItsInodeBack() throws {
        let world = TmpfsWorld(options: TmpfsOptions(inodeLimit: 10))
        try world.ctx.writeFile("/a", contents: [])
        try world.ctx.writeFile("/t", contents: [])
        try world.ctx.makeLink(existing: "/t", new: "/t2")
        #expect(try world.statfs().freeFiles == 6)
        // shmem_rename2 unlinks the replaced name with shmem_unlink, which frees a link's share.
        try world.ctx.rename("/a", to: "/t")
        #expect(try world.statfs().freeFiles == 7)
    }

    // MARK: Mount options

    @Test func parsedOptionsSetRootModeOwnerAndLimits() throws {
        let options = try TmpfsOptions(parsing: "size=1m,nr_inodes=10,mode=700,uid=5,gid=6")
        let world = TmpfsWorld(options: options)
        let root = try world.ctx.stat("/")
        // Linux 6.18: that mount's root is 040700, uid 5, gid 6; statfs f_blocks 256,
        // f_bfree 256, f_files 10, f_ffree 9.
        #expect(root.mode.rawValue == 0o40700)
        #expect(root.uid == 5)
        #expect(root.gid == 6)
        let stat = try world.statfs()
        #expect(stat.blocks == 256)
        #expect(stat.freeBlocks == 256)
        #expect(stat.files == 10)
        #expect(stat.freeFiles == 9)
    }

    @Test func defaultRootIsStickyAndWorldWritable() throws {
        let world = TmpfsWorld(options: try TmpfsOptions(parsing: ""))
        // Linux 6.18: mount -t tmpfs with no options gives a root of 041777 owned by 0:0.
        #expect(try world.ctx.stat("/").mode.rawValue == 0o41777)
    }

    @Test(arguments: [
        "size=1x", "nr_inodes=abc", "bogus=1", "mode=999", "uid=abc", "size", "nr_inodes=5%",
        "size=-1", "gid=-1", "uid=4294967295",
    ])
    func badMountOptionIsEINVAL(_ data: String) {
        // Linux 6.18: mount(2) of tmpfs with each of these data strings gives EINVAL.
        #expect(throws: Errno.invalidArgument) { try TmpfsOptions(parsing: data) }
    }

    @Test func modeOptionKeepsOnlyPermissionBits() throws {
        // Linux 6.18: mount -o mode=10000 succeeds and the root's mode is 040000.
        let options = try TmpfsOptions(parsing: "mode=10000")
        #expect(TmpfsWorld(options: options).tmpfs.options.rootMode == 0)
        #expect(try TmpfsWorld(options: options).ctx.stat("/").mode.rawValue == 0o40000)
    }

    @Test func sizeSuffixesArePowersOf1024() throws {
        #expect(try TmpfsOptions(parsing: "size=16k").sizeLimit == 16384)
        #expect(try TmpfsOptions(parsing: "size=2M").sizeLimit == 2 << 20)
        #expect(try TmpfsOptions(parsing: "nr_inodes=1k").inodeLimit == 1024)
    }
}

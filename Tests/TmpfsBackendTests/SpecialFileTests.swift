import TmpfsBackend
import Testing
import VFSCore

/// mknod's file types, symlink and directory sizes. Every value was observed with python3
/// (os.mknod, os.symlink, os.lstat) on /dev/shm (tmpfs, Linux 6.18), as root and as uid 1000.
@Suite struct SpecialFileTests {
    let world = TmpfsWorld()

    @Test(arguments: [
        (FileType.fifo, UInt64(0)), (FileType.socket, UInt64(0)),
        (FileType.characterDevice, UInt64(0x103)), (FileType.blockDevice, UInt64(0x801)),
    ])
    func mknodMakesTheTypeWithItsDevice(_ type: FileType, _ device: UInt64) throws {
        try world.ctx.makeNode("/n", mode: type.rawValue | 0o644, device: device)
        let stat = try world.ctx.stat("/n", followSymlink: false)
        // Linux 6.18 on tmpfs: mode 010644 / 0140644 / 020644 rdev 0x103 (1,3) / 060644 rdev
        // 0x801 (8,1); size 0, blocks 0, nlink 1.
        #expect(stat.mode.rawValue == type.rawValue | 0o644)
        #expect(stat.mode.type == type)
        #expect(stat.rdev == device)
        #expect(stat.size == 0)
        #expect(stat.blocks == 0)
        #expect(stat.nlink == 1)
    }

    @Test func fifoIgnoresTheDeviceNumber() throws {
        // Linux 6.18 on tmpfs: os.mknod("fifodev", S_IFIFO|0644, makedev(1,3)) has st_rdev 0.
        try world.ctx.makeNode("/p", mode: FileType.fifo.rawValue | 0o644, device: 0x103)
        #expect(try world.ctx.stat("/p").rdev == 0)
    }

    @Test func mknodWithoutTypeMakesARegularFile() throws {
        try world.ctx.makeNode("/r", mode: 0o644)
        #expect(try world.ctx.stat("/r").mode.rawValue == 0o100644)
    }

    @Test func devicesNeedCapMknod() throws {
        world.ctx.credentials = TmpfsWorld.user
        // Linux 6.18 on tmpfs, uid 1000 in a 01777 directory: character and block devices give
        // EPERM; a FIFO and a socket are fine.
        #expect(throws: Errno.notPermitted) {
            try world.ctx.makeNode("/c", mode: FileType.characterDevice.rawValue | 0o644, device: 0x103)
        }
        #expect(throws: Errno.notPermitted) {
            try world.ctx.makeNode("/b", mode: FileType.blockDevice.rawValue | 0o644, device: 0x103)
        }
        try world.ctx.makeNode("/f", mode: FileType.fifo.rawValue | 0o644)
        try world.ctx.makeNode("/s", mode: FileType.socket.rawValue | 0o644)
        world.ctx.credentials = TmpfsWorld.user(with: .mknod)
        try world.ctx.makeNode("/c", mode: FileType.characterDevice.rawValue | 0o644, device: 0x103)
        #expect(try world.ctx.stat("/c").rdev == 0x103)
    }

    @Test func existingNameIsEEXISTBeforeTheCapabilityCheck() throws {
        try world.ctx.makeNode("/chr", mode: FileType.characterDevice.rawValue | 0o644, device: 0x103)
        world.ctx.credentials = TmpfsWorld.user
        // Linux 6.18 on tmpfs: uid 1000's mknod of a device over an existing name is EEXIST.
        #expect(throws: Errno.fileExists) {
            try world.ctx.makeNode("/chr", mode: FileType.characterDevice.rawValue | 0o644)
        }
    }

    @Test func mknodOfDirectoryIsEPERMEvenOverAnExistingName() throws {
        try world.ctx.makeNode("/fifo", mode: FileType.fifo.rawValue | 0o644)
        // Linux 6.18 on tmpfs, root: S_IFDIR gives EPERM, on a new name and an existing one.
        #expect(throws: Errno.notPermitted) {
            try world.ctx.makeNode("/d", mode: FileType.directory.rawValue | 0o755)
        }
        #expect(throws: Errno.notPermitted) {
            try world.ctx.makeNode("/fifo", mode: FileType.directory.rawValue | 0o755)
        }
    }

    @Test func mknodOfInvalidTypeOrSymlinkIsEINVAL() throws {
        try world.ctx.makeNode("/fifo", mode: FileType.fifo.rawValue | 0o644)
        // Linux 6.18 on tmpfs, root: type 0o030000 and S_IFLNK give EINVAL, even over an
        // existing name.
        #expect(throws: Errno.invalidArgument) { try world.ctx.makeNode("/x", mode: 0o030000 | 0o755) }
        #expect(throws: Errno.invalidArgument) { try world.ctx.makeNode("/fifo", mode: 0o030000 | 0o755) }
        #expect(throws: Errno.invalidArgument) {
            try world.ctx.makeNode("/l", mode: FileType.symlink.rawValue | 0o755)
        }
    }

    // MARK: Symlinks

    @Test(arguments: [(3, Int64(0)), (127, Int64(0)), (128, Int64(8)), (200, Int64(8))])
    func symlinkSizeIsTargetLengthAndLongTargetsTakeAPage(_ length: Int, _ blocks: Int64) throws {
        let target = String(repeating: "a", count: length)
        try world.ctx.makeSymlink(target: target, at: "/s")
        let stat = try world.ctx.stat("/s", followSymlink: false)
        // Linux 6.18 on tmpfs: lstat gives st_size 3/127/128/200 and st_blocks 0/0/8/8, mode
        // 0120777.
        #expect(stat.size == Int64(length))
        #expect(stat.blocks == blocks)
        #expect(stat.mode.rawValue == 0o120777)
        #expect(try world.ctx.readSymlink("/s") == target)
    }

    // MARK: Directory sizes

    @Test func emptyDirectoryIsFortyBytes() throws {
        try world.ctx.makeDirectory("/d")
        // Linux 6.18 on tmpfs: an empty directory has st_size 40, st_blocks 0.
        #expect(try world.ctx.stat("/d").size == 40)
        #expect(try world.ctx.stat("/d").blocks == 0)
    }

    @Test func directorySizeGrowsTwentyBytesAnEntry() throws {
        try world.ctx.makeDirectory("/d")
        try world.ctx.makeDirectory("/d/a")
        try world.ctx.writeFile("/d/b", contents: [])
        try world.ctx.makeSymlink(target: "x", at: "/d/c")
        // Linux 6.18 on tmpfs: 3 entries -> 100; unlink one -> 80; rename in place -> 80.
        #expect(try world.ctx.stat("/d").size == 100)
        try world.ctx.unlink("/d/b")
        #expect(try world.ctx.stat("/d").size == 80)
        try world.ctx.rename("/d/c", to: "/d/c2")
        #expect(try world.ctx.stat("/d").size == 80)
    }

    @Test func hardLinksEachCountAsADirectoryEntry() throws {
        try world.ctx.makeDirectory("/d")
        try world.ctx.writeFile("/d/f", contents: [])
        try world.ctx.makeLink(existing: "/d/f", new: "/d/g")
        #expect(try world.ctx.stat("/d").size == 80)
    }
}

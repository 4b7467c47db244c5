import TmpfsBackend
import Testing
import VFSCore

/// A regular file's bytes through `FileDescription`: holes, SEEK_DATA / SEEK_HOLE, fallocate,
/// offsets at the edges of the 64-bit range, and set-ID clearing on write. Every value was
/// observed with python3 (os.pread/pwrite/lseek, fallocate(2) through ctypes) on /dev/shm
/// (tmpfs, Linux 6.18).
@Suite struct FileDataTests {
    let world = TmpfsWorld()

    /// "abc" at 0 and "xyz" at 100000: a 100003-byte file with data in pages 0 and 24.
    private func sparseFile() throws -> FileDescription {
        let file = try world.ctx.open(
            "/f", flags: OpenOptions.create | OpenOptions.readWrite, mode: 0o644)
        try TmpfsWorld.write(file, Array("abc".utf8), at: 0)
        try TmpfsWorld.write(file, Array("xyz".utf8), at: 100_000)
        return file
    }

    // MARK: Holes

    @Test func holeAfterWriteFarPastEndReadsAsZeros() throws {
        let file = try sparseFile()
        let all = try TmpfsWorld.read(file, count: 100_003, at: 0)
        // Linux 6.18 on tmpfs: st_size 100003, the middle all zeros, st_blocks 16.
        #expect(try file.stat().size == 100_003)
        #expect(all.count == 100_003)
        #expect(all[0..<3] == Array("abc".utf8)[...])
        #expect(all[3..<100_000].allSatisfy { $0 == 0 })
        #expect(all[100_000...] == Array("xyz".utf8)[...])
        #expect(try file.stat().blocks == 16)
    }

    @Test func seekDataAndSeekHoleFindThePages() throws {
        let file = try sparseFile()
        // Linux 6.18 on tmpfs, same layout: SEEK_DATA 0 -> 0, SEEK_HOLE 0 -> 4096,
        // SEEK_DATA 5000 -> 98304, SEEK_HOLE 99000 -> 100003 (EOF), SEEK_DATA 100001 -> 100001,
        // SEEK_HOLE 100001 -> 100003.
        #expect(try file.seek(0, whence: .data) == 0)
        #expect(try file.seek(0, whence: .hole) == 4096)
        #expect(try file.seek(5000, whence: .data) == 98304)
        #expect(try file.seek(99000, whence: .hole) == 100_003)
        #expect(try file.seek(100_001, whence: .data) == 100_001)
        #expect(try file.seek(100_001, whence: .hole) == 100_003)
        #expect(file.offset == 100_003)
    }

    @Test func seekDataOrHoleAtEndOfFileIsENXIO() throws {
        let file = try sparseFile()
        _ = try file.seek(7, whence: .set)
        // Linux 6.18 on tmpfs: SEEK_DATA and SEEK_HOLE from 100003 give ENXIO.
        #expect(throws: Errno.noSuchAddressOrDevice) { try file.seek(100_003, whence: .data) }
        #expect(throws: Errno.noSuchAddressOrDevice) { try file.seek(100_003, whence: .hole) }
        #expect(file.offset == 7)
    }

    // MARK: fallocate

    @Test func fallocateKeepSizeAllocatesWithoutGrowing() throws {
        let file = try sparseFile()
        // Linux 6.18 on tmpfs: KEEP_SIZE over 200000..208192 leaves st_size 100003 and takes
        // st_blocks from 16 to 40 (three pages).
        try file.allocate(mode: .keepSize, offset: 200_000, length: 8192)
        #expect(try file.stat().size == 100_003)
        #expect(try file.stat().blocks == 40)
    }

    @Test func fallocateWithoutKeepSizeGrowsTheFile() throws {
        let file = try sparseFile()
        // Linux 6.18 on tmpfs: fallocate(fd, 0, 300000, 10) makes st_size 300010.
        try file.allocate(mode: [], offset: 300_000, length: 10)
        #expect(try file.stat().size == 300_010)
        #expect(try TmpfsWorld.read(file, count: 10, at: 300_000) == [UInt8](repeating: 0, count: 10))
    }

    @Test func fallocatedPagesAreHolesForSeekData() throws {
        let file = try world.ctx.open("/g", flags: OpenOptions.create | OpenOptions.readWrite)
        try file.allocate(mode: [], offset: 0, length: 16384)
        // Linux 6.18 on tmpfs: after fallocate(0, 16384), SEEK_DATA from 0 gives ENXIO.
        #expect(throws: Errno.noSuchAddressOrDevice) { try file.seek(0, whence: .data) }
    }

    @Test func punchHoleWithKeepSizeFreesAndZeroes() throws {
        let file = try sparseFile()
        try file.allocate(mode: .keepSize, offset: 200_000, length: 8192)
        // Linux 6.18 on tmpfs: PUNCH_HOLE|KEEP_SIZE over 0..4096 keeps st_size 100003, takes
        // st_blocks 40 -> 32, the bytes read as zeros and SEEK_DATA from 0 gives 98304.
        try file.allocate(mode: [.punchHole, .keepSize], offset: 0, length: 4096)
        #expect(try file.stat().size == 100_003)
        #expect(try file.stat().blocks == 32)
        #expect(try TmpfsWorld.read(file, count: 3, at: 0) == [0, 0, 0])
        #expect(try file.seek(0, whence: .data) == 98304)
    }

    @Test func punchHoleWithoutKeepSizeIsEOPNOTSUPP() throws {
        let file = try sparseFile()
        // Linux 6.18 on tmpfs: fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096) gives EOPNOTSUPP.
        #expect(throws: Errno.notSupported) {
            try file.allocate(mode: .punchHole, offset: 0, length: 4096)
        }
        #expect(try TmpfsWorld.read(file, count: 3, at: 0) == Array("abc".utf8))
    }

    @Test func unsupportedFallocateModesAndBadRangesAreRejected() throws {
        let file = try sparseFile()
        // Linux 6.18 on tmpfs: ZERO_RANGE and COLLAPSE_RANGE give EOPNOTSUPP; length 0 and a
        // negative offset give EINVAL; (2^63-1, 1) gives EFBIG.
        #expect(throws: Errno.notSupported) { try file.allocate(mode: .zeroRange, offset: 0, length: 10) }
        #expect(throws: Errno.notSupported) {
            try file.allocate(mode: .collapseRange, offset: 0, length: 4096)
        }
        #expect(throws: Errno.invalidArgument) { try file.allocate(mode: [], offset: 0, length: 0) }
        #expect(throws: Errno.invalidArgument) { try file.allocate(mode: [], offset: -1, length: 10) }
        #expect(throws: Errno.fileTooLarge) {
            try file.allocate(mode: [], offset: Int64.max, length: 1)
        }
    }

    @Test func fallocateOnReadOnlyDescriptionIsEBADF() throws {
        _ = try sparseFile()
        let readOnly = try world.ctx.open("/f", flags: OpenOptions.readOnly)
        // Linux 6.18 on tmpfs, O_RDONLY fd: mode 0 and PUNCH_HOLE|KEEP_SIZE give EBADF, but
        // PUNCH_HOLE alone gives EOPNOTSUPP (the mode is checked first).
        #expect(throws: Errno.badFileDescriptor) {
            try readOnly.allocate(mode: [], offset: 0, length: 10)
        }
        #expect(throws: Errno.badFileDescriptor) {
            try readOnly.allocate(mode: [.punchHole, .keepSize], offset: 0, length: 10)
        }
        #expect(throws: Errno.notSupported) {
            try readOnly.allocate(mode: .punchHole, offset: 0, length: 10)
        }
    }

    // MARK: Offsets

    @Test func negativeOffsetIsEINVALForPreadAndPwrite() throws {
        let file = try sparseFile()
        #expect(throws: Errno.invalidArgument) { try TmpfsWorld.read(file, count: 1, at: -1) }
        #expect(throws: Errno.invalidArgument) { try TmpfsWorld.write(file, [1], at: -1) }
    }

    @Test func transfersEndingPastInt64MaxAreEINVAL() throws {
        let file = try sparseFile()
        // Linux 6.18 on tmpfs: pread/pwrite of 1 byte at 2^63-1 give EINVAL; of 0 bytes, 0.
        #expect(throws: Errno.invalidArgument) { try TmpfsWorld.read(file, count: 1, at: Int64.max) }
        #expect(throws: Errno.invalidArgument) { try TmpfsWorld.write(file, [1], at: Int64.max) }
        #expect(try TmpfsWorld.read(file, count: 0, at: Int64.max) == [])
        #expect(try TmpfsWorld.write(file, [], at: Int64.max) == 0)
    }

    @Test func oneByteWriteJustBelowInt64MaxSucceeds() throws {
        let file = try sparseFile()
        // Linux 6.18 on tmpfs: pwrite of 1 byte at 2^63-2 returns 1 and st_size becomes 2^63-1;
        // pread of 1 byte there gives it back, of 2 bytes EINVAL (the range would pass 2^63-1).
        #expect(try TmpfsWorld.write(file, [0x5A], at: Int64.max - 1) == 1)
        #expect(try file.stat().size == Int64.max)
        #expect(try TmpfsWorld.read(file, count: 1, at: Int64.max - 1) == [0x5A])
        #expect(throws: Errno.invalidArgument) {
            try TmpfsWorld.read(file, count: 2, at: Int64.max - 1)
        }
    }

    @Test func readAndWriteAtOffsetInt64MaxAreEINVAL() throws {
        let file = try sparseFile()
        // Linux 6.18 on tmpfs: lseek(2^63-1, SEEK_SET) succeeds; read and write there give
        // EINVAL; lseek(1, SEEK_CUR) from there and lseek(2^63-1, SEEK_END) give EINVAL.
        #expect(try file.seek(Int64.max, whence: .set) == Int64.max)
        #expect(throws: Errno.invalidArgument) { try TmpfsWorld.read(file, count: 1) }
        #expect(throws: Errno.invalidArgument) { try TmpfsWorld.write(file, [1]) }
        #expect(throws: Errno.invalidArgument) { try file.seek(1, whence: .current) }
        #expect(throws: Errno.invalidArgument) { try file.seek(Int64.max, whence: .end) }
        #expect(file.offset == Int64.max)
    }

    @Test func truncateToInt64MaxIsAllowed() throws {
        let file = try sparseFile()
        // Linux 6.18 on tmpfs: ftruncate(fd, 2^63-1) succeeds.
        try world.truncate(file, to: Int64.max)
        #expect(try file.stat().size == Int64.max)
        try world.truncate(file, to: 10)
        #expect(try TmpfsWorld.read(file, count: 20, at: 0) == Array("abc".utf8) + [0, 0, 0, 0, 0, 0, 0])
    }

    // MARK: Set-ID clearing

    /// A 06777 regular file owned by root:`group`, the root directory made 0777.
    private func setIDFile(mode: UInt32 = 0o6777, group: UInt32 = 0) throws {
        try world.ctx.writeFile("/g", contents: [])
        try world.ctx.changeOwner("/g", uid: 0, gid: group)
        try world.ctx.changeMode("/g", mode)
    }

    @Test func writeByUnprivilegedWriterClearsSetUIDAndSetGID() throws {
        try setIDFile()
        let file = try world.ctx.open("/g", flags: OpenOptions.writeOnly)
        // Linux 6.18 on tmpfs: uid 1000 writing 1 byte to root's 06777 file leaves 0777.
        try TmpfsWorld.write(file, [1], as: TmpfsWorld.user)
        #expect(try world.ctx.stat("/g").mode.rawValue == 0o100777)
    }

    @Test func zeroLengthWriteKeepsSetIDBits() throws {
        try setIDFile()
        let file = try world.ctx.open("/g", flags: OpenOptions.writeOnly)
        // Linux 6.18 on tmpfs: write(fd, b"") by uid 1000 leaves 06777.
        try TmpfsWorld.write(file, [], as: TmpfsWorld.user)
        #expect(try world.ctx.stat("/g").mode.rawValue == 0o106777)
    }

    @Test func writeWithFsetidKeepsSetIDBits() throws {
        try setIDFile()
        let file = try world.ctx.open("/g", flags: OpenOptions.writeOnly)
        // Linux 6.18 on tmpfs: root (with CAP_FSETID) writing leaves 06777.
        try TmpfsWorld.write(file, [1], as: .root)
        try TmpfsWorld.write(file, [1], as: TmpfsWorld.user(with: .fsetid))
        #expect(try world.ctx.stat("/g").mode.rawValue == 0o106777)
    }

    @Test func setGIDWithoutGroupExecuteIsClearedForWriterOutsideTheGroup() throws {
        try setIDFile(mode: 0o2666, group: 0)
        let file = try world.ctx.open("/g", flags: OpenOptions.writeOnly)
        // Linux 6.18 on tmpfs: uid/gid 1000 writing to a 02666 file of group 0 leaves 0666
        // (setattr_should_drop_sgid: not in the file's group and no CAP_FSETID).
        try TmpfsWorld.write(file, [1], as: TmpfsWorld.user)
        #expect(try world.ctx.stat("/g").mode.rawValue == 0o100666)
    }

    @Test func setGIDWithoutGroupExecuteStaysForWriterInTheGroup() throws {
        try setIDFile(mode: 0o2666, group: 1000)
        let file = try world.ctx.open("/g", flags: OpenOptions.writeOnly)
        // Linux 6.18 on tmpfs: the same write by a member of the file's group leaves 02666.
        try TmpfsWorld.write(file, [1], as: TmpfsWorld.user)
        #expect(try world.ctx.stat("/g").mode.rawValue == 0o102666)
    }

    @Test func fallocateByUnprivilegedOpenerClearsSetIDBits() throws {
        try setIDFile()
        world.ctx.credentials = TmpfsWorld.user
        let file = try world.ctx.open("/g", flags: OpenOptions.writeOnly)
        // Linux 6.18 on tmpfs: fallocate(fd, 0, 0, 10) by uid 1000 leaves 0777.
        try file.allocate(mode: [], offset: 0, length: 10)
        #expect(try world.ctx.stat("/g").mode.rawValue == 0o100777)
    }
}

import SystemPackage
import Testing

@testable import TmpfsBackend

/// Expected values come from the same operations run on Linux 6.18 tmpfs
/// (/dev/shm, and a 16 KiB tmpfs mount for ENOSPC) with python3.
@Suite struct SparsePagesTests {
    private static let page = 4096
    private static let p = Int64(page)

    /// Page accounting stand-in for the filesystem: `available` pages left.
    private final class Budget {
        var available: Int
        var released = 0
        init(_ available: Int = .max) { self.available = available }
        func reserve(_ n: Int) -> Bool {
            guard n <= available else { return false }
            available -= n
            return true
        }
        func release(_ n: Int) { released += n }
    }

    @discardableResult
    private func write(_ pages: inout SparsePages, _ bytes: [UInt8], at offset: Int64, budget: Budget = Budget()) throws(Errno) -> Int {
        var result: Result<Int, Errno> = .success(0)
        bytes.withUnsafeBytes { buffer in
            result = Result { () throws(Errno) in try pages.write(from: buffer, at: offset, reservePages: budget.reserve) }
        }
        return try result.get()
    }

    private func read(_ pages: SparsePages, count: Int, at offset: Int64) throws(Errno) -> [UInt8] {
        var bytes = [UInt8](repeating: 0xEE, count: count)
        var result: Result<Int, Errno> = .success(0)
        bytes.withUnsafeMutableBytes { buffer in
            result = Result { () throws(Errno) in try pages.read(into: buffer, at: offset) }
        }
        return Array(bytes.prefix(try result.get()))
    }

    // MARK: read / write

    @Test func holesReadAsZeros() throws {
        var file = SparsePages()
        try write(&file, [7], at: 3 * Self.p)
        let bytes = try read(file, count: 3 * Self.page + 1, at: 0)
        #expect(bytes == [UInt8](repeating: 0, count: 3 * Self.page) + [7])
        #expect(file.allocatedPageCount == 1)
    }

    @Test func writeExtendsSize() throws {
        var file = SparsePages()
        #expect(try write(&file, [1, 2, 3], at: 10) == 3)
        #expect(file.size == 13)
        try write(&file, [9], at: 0)
        #expect(file.size == 13)
        #expect(try read(file, count: 20, at: 0) == [9] + [UInt8](repeating: 0, count: 9) + [1, 2, 3])
    }

    @Test func writeSpanningPagesRoundTrips() throws {
        var file = SparsePages()
        let data = (0..<(2 * Self.page + 100)).map { UInt8(truncatingIfNeeded: $0) }
        try write(&file, data, at: Self.p - 50)
        #expect(file.allocatedPageCount == 4)
        #expect(try read(file, count: data.count, at: Self.p - 50) == data)
    }

    @Test func readStopsAtEndOfFile() throws {
        var file = SparsePages()
        try write(&file, [1, 2, 3, 4], at: 0)
        #expect(try read(file, count: 10, at: 2) == [3, 4])
        #expect(try read(file, count: 10, at: 4) == [])
        #expect(try read(file, count: 10, at: 1 << 40) == [])
    }

    @Test func shortWriteWhenSpaceRunsOut() throws {
        // Kernel: 6 pages at offset 100 into a 4-page tmpfs wrote 16284 bytes.
        var file = SparsePages()
        let budget = Budget(4)
        let n = try write(&file, [UInt8](repeating: 1, count: 6 * Self.page), at: 100, budget: budget)
        #expect(n == 4 * Self.page - 100)
        #expect(file.size == 4 * Self.p)
        #expect(file.allocatedPageCount == 4)
    }

    @Test func writeWithNoSpaceThrowsENOSPC() throws {
        var file = SparsePages()
        #expect(throws: Errno.noSpace) { try write(&file, [1], at: 0, budget: Budget(0)) }
        #expect(file.size == 0)
    }

    @Test func overwritingExistingPagesNeedsNoReservation() throws {
        var file = SparsePages()
        try write(&file, [UInt8](repeating: 1, count: Self.page), at: 0)
        #expect(try write(&file, [2, 2], at: 5, budget: Budget(0)) == 2)
    }

    @Test func hugeOrNegativeOffsetsAreRejectedNotCrashing() throws {
        // Kernel: pwrite of 2 bytes at 2^63-2 or 2^63-1 → EINVAL; at -1 → EINVAL;
        // pread of 10 bytes at 2^63-5 → EINVAL.
        var file = SparsePages()
        #expect(throws: Errno.invalidArgument) { try write(&file, [1, 2], at: .max - 1) }
        #expect(throws: Errno.invalidArgument) { try write(&file, [1, 2], at: .max) }
        #expect(throws: Errno.invalidArgument) { try write(&file, [1], at: -1) }
        #expect(throws: Errno.invalidArgument) { try write(&file, [], at: -1) }
        #expect(throws: Errno.invalidArgument) { try read(file, count: 10, at: .max - 4) }
        #expect(throws: Errno.invalidArgument) { try read(file, count: 0, at: -1) }
        #expect(try read(file, count: 4, at: .max - 4) == [])
    }

    @Test func writeEndingAtMaxFileSizeSucceeds() throws {
        var file = SparsePages()
        #expect(try write(&file, [1, 2], at: .max - 2) == 2)
        #expect(file.size == .max)
        #expect(try read(file, count: 2, at: .max - 2) == [1, 2])
    }

    // MARK: truncate

    @Test func truncateFreesPagesAndZeroesTail() throws {
        var file = SparsePages()
        let budget = Budget()
        try write(&file, [UInt8](repeating: 0x77, count: 3 * Self.page), at: 0)
        try file.truncate(to: 10, releasePages: budget.release)
        #expect(file.size == 10)
        #expect(file.allocatedPageCount == 1)
        #expect(budget.released == 2)
        #expect(try read(file, count: 20, at: 0) == [UInt8](repeating: 0x77, count: 10))
    }

    @Test func reExtendAfterTruncateReadsZeros() throws {
        // Kernel: write 4096 'w', truncate 10, truncate 4096 → 10 'w' then zeros.
        var file = SparsePages()
        try write(&file, [UInt8](repeating: 0x77, count: Self.page), at: 0)
        try file.truncate(to: 10, releasePages: { _ in })
        try file.truncate(to: Self.p, releasePages: { _ in })
        let bytes = try read(file, count: 20, at: 0)
        #expect(bytes == [UInt8](repeating: 0x77, count: 10) + [UInt8](repeating: 0, count: 10))
        #expect(file.blocks512 == 8)
    }

    @Test func truncateToSameSizeFreesPreallocationBeyondEOF() throws {
        // Kernel: size 4096 + KEEP_SIZE fallocate of 4 pages → st_blocks 32;
        // ftruncate(4096) → st_blocks 8.
        var file = SparsePages()
        try file.truncate(to: Self.p, releasePages: { _ in })
        try file.allocate(offset: 0, length: 4 * Self.p, keepSize: true, reservePages: { _ in true })
        #expect(file.blocks512 == 32)
        try file.truncate(to: Self.p, releasePages: { _ in })
        #expect(file.blocks512 == 8)
    }

    @Test func truncateToNegativeSizeIsEINVAL() {
        var file = SparsePages()
        #expect(throws: Errno.invalidArgument) { try file.truncate(to: -1, releasePages: { _ in }) }
    }

    @Test func truncateOfOneTebibyteSparseFileTouchesOnlyAllocatedPages() throws {
        let tib: Int64 = 1 << 40
        var file = SparsePages()
        let budget = Budget()
        try write(&file, [1], at: 0)
        try write(&file, [2], at: tib / 2)
        try write(&file, [3], at: tib - 1)
        try file.truncate(to: 2 * tib, releasePages: budget.release)
        #expect(try file.seekHole(from: tib) == tib)
        try file.punchHole(offset: 0, length: tib / 2, releasePages: budget.release)
        #expect(try file.seekData(from: 0) == tib / 2)
        try file.truncate(to: 0, releasePages: budget.release)
        #expect(budget.released == 3)
        #expect(file.allocatedPageCount == 0)
    }

    // MARK: fallocate

    @Test func allocateExtendsSizeToRangeEnd() throws {
        // Kernel: fallocate(mode 0, 10, 5) on an empty file → size 15, st_blocks 8.
        var file = SparsePages()
        try file.allocate(offset: 10, length: 5, keepSize: false, reservePages: { _ in true })
        #expect(file.size == 15)
        #expect(file.blocks512 == 8)
        #expect(try read(file, count: 20, at: 0) == [UInt8](repeating: 0, count: 15))
    }

    @Test func keepSizeAllocatesWithoutChangingSize() throws {
        // Kernel: 1-byte file, fallocate(KEEP_SIZE, 0, 8 pages) → size 1, st_blocks 64.
        var file = SparsePages()
        try write(&file, [0x61], at: 0)
        try file.allocate(offset: 0, length: 8 * Self.p, keepSize: true, reservePages: { _ in true })
        #expect(file.size == 1)
        #expect(file.blocks512 == 64)
        #expect(try file.seekData(from: 0) == 0)
        #expect(try file.seekHole(from: 0) == 1)
    }

    @Test func allocateIsAllOrNothing() throws {
        // Kernel: 4-page tmpfs, page 1 written, size 4097; fallocate(0, 5 pages)
        // needs 4 new pages with 3 free → ENOSPC, size and st_blocks unchanged.
        var file = SparsePages()
        let budget = Budget(4)
        try write(&file, [0x61], at: Self.p, budget: budget)
        #expect(throws: Errno.noSpace) {
            try file.allocate(offset: 0, length: 5 * Self.p, keepSize: false, reservePages: budget.reserve)
        }
        #expect(file.size == 4097)
        #expect(file.blocks512 == 8)
        #expect(budget.available == 3)
        try file.allocate(offset: 0, length: 4 * Self.p, keepSize: false, reservePages: budget.reserve)
        #expect(file.size == 4 * Self.p)
        #expect(budget.available == 0)
    }

    @Test func fallocateRangeErrors() {
        // Kernel: len 0 or offset -1 → EINVAL; (2^62, 2^62) and (2^63-4096, 4096) → EFBIG.
        var file = SparsePages()
        let yes: (Int) -> Bool = { _ in true }
        #expect(throws: Errno.invalidArgument) { try file.allocate(offset: 0, length: 0, keepSize: false, reservePages: yes) }
        #expect(throws: Errno.invalidArgument) { try file.allocate(offset: -1, length: 10, keepSize: false, reservePages: yes) }
        #expect(throws: Errno.fileTooLarge) { try file.allocate(offset: 1 << 62, length: 1 << 62, keepSize: false, reservePages: yes) }
        #expect(throws: Errno.fileTooLarge) { try file.allocate(offset: .max - 4095, length: 4096, keepSize: false, reservePages: yes) }
        #expect(throws: Errno.fileTooLarge) { try file.punchHole(offset: .max - 9, length: 10, releasePages: { _ in }) }
        #expect(throws: Errno.invalidArgument) { try file.punchHole(offset: 0, length: 0, releasePages: { _ in }) }
    }

    @Test func allocateEndingAtMaxFileSizeSucceeds() throws {
        // Kernel: fallocate(mode 0, 2^63-1-4096, 4096) → size 2^63-1.
        var file = SparsePages()
        try file.allocate(offset: .max - Self.p, length: Self.p, keepSize: false, reservePages: { _ in true })
        #expect(file.size == .max)
        #expect(file.allocatedPageCount == 2)
    }

    @Test func fallocatedPagesAreHolesUntilWritten() throws {
        // Kernel: posix_fallocate(0, 16384): SEEK_DATA(0) ENXIO, SEEK_HOLE(4096) 4096.
        // After writing 1 byte at 4099: SEEK_DATA(0) 4096, SEEK_HOLE(4096) 8192.
        var file = SparsePages()
        try file.allocate(offset: 0, length: 4 * Self.p, keepSize: false, reservePages: { _ in true })
        #expect(throws: Errno.noSuchAddressOrDevice) { try file.seekData(from: 0) }
        #expect(try file.seekHole(from: Self.p) == Self.p)
        try write(&file, [0x7A], at: Self.p + 3)
        #expect(try file.seekData(from: 0) == Self.p)
        #expect(try file.seekHole(from: Self.p) == 2 * Self.p)
        #expect(throws: Errno.noSuchAddressOrDevice) { try file.seekData(from: 2 * Self.p) }
        #expect(file.blocks512 == 32)
    }

    @Test func punchHoleFreesWholePagesAndZeroesEdges() throws {
        // Kernel: 4 pages of 'q', punch(100, 3*4096) → bytes 0..<100 and 12388..<16384 stay,
        // st_blocks 16, SEEK_DATA(4096) 12288, SEEK_HOLE(0) 4096.
        var file = SparsePages()
        let budget = Budget()
        try write(&file, [UInt8](repeating: 0x71, count: 4 * Self.page), at: 0)
        try file.punchHole(offset: 100, length: 3 * Self.p, releasePages: budget.release)
        #expect(file.size == 4 * Self.p)
        #expect(file.blocks512 == 16)
        #expect(budget.released == 2)
        let bytes = try read(file, count: 4 * Self.page, at: 0)
        let q = UInt8(0x71)
        #expect(bytes[0..<100].allSatisfy { $0 == q })
        #expect(bytes[100..<12388].allSatisfy { $0 == 0 })
        #expect(bytes[12388...].allSatisfy { $0 == q })
        #expect(try file.seekData(from: Self.p) == 3 * Self.p)
        #expect(try file.seekHole(from: 0) == Self.p)
    }

    @Test func punchHoleWithinOnePageOnlyZeroes() throws {
        var file = SparsePages()
        try write(&file, [UInt8](repeating: 5, count: 10), at: 0)
        try file.punchHole(offset: 2, length: 3, releasePages: { _ in })
        #expect(try read(file, count: 10, at: 0) == [5, 5, 0, 0, 0, 5, 5, 5, 5, 5])
        #expect(file.allocatedPageCount == 1)
    }

    @Test func punchHoleBeyondEndOfFileIsAccepted() throws {
        var file = SparsePages()
        try write(&file, [1], at: 0)
        try file.punchHole(offset: 100 * Self.p, length: Self.p, releasePages: { _ in })
        #expect(file.size == 1)
    }

    // MARK: SEEK_DATA / SEEK_HOLE layouts (values observed on /dev/shm)

    @Test func seekOnEmptyFileIsENXIO() {
        let file = SparsePages()
        for offset: Int64 in [-1, 0, 1] {
            #expect(throws: Errno.noSuchAddressOrDevice) { try file.seekData(from: offset) }
            #expect(throws: Errno.noSuchAddressOrDevice) { try file.seekHole(from: offset) }
        }
    }

    /// (offset, SEEK_DATA, SEEK_HOLE); nil is ENXIO.
    private func expectSeeks(_ file: SparsePages, _ rows: [(Int64, Int64?, Int64?)]) {
        for (offset, data, hole) in rows {
            #expect((try? file.seekData(from: offset)) == data, "SEEK_DATA from \(offset)")
            #expect((try? file.seekHole(from: offset)) == hole, "SEEK_HOLE from \(offset)")
            if data == nil {
                #expect(throws: Errno.noSuchAddressOrDevice) { try file.seekData(from: offset) }
            }
        }
    }

    @Test func seekWithHoleAtStartDataInMiddleAndUnalignedTrailingHole() throws {
        // One byte at 2P+10, then ftruncate to 5P+100.
        var file = SparsePages()
        try write(&file, [0x78], at: 2 * Self.p + 10)
        try file.truncate(to: 5 * Self.p + 100, releasePages: { _ in })
        expectSeeks(file, [
            (-1, nil, nil), (0, 8192, 0), (4096, 8192, 4096), (8192, 8192, 12288),
            (8202, 8202, 12288), (12287, 12287, 12288), (12288, nil, 12288),
            (20480, nil, 20480), (20579, nil, 20579), (20580, nil, nil),
            (20581, nil, nil), (1_000_000_000_000, nil, nil),
        ])
    }

    @Test func seekWithDataAtBothEndsAndUnalignedSize() throws {
        // 10 bytes at 0, 10 bytes at 3P+5 → size 12303.
        var file = SparsePages()
        try write(&file, [UInt8](repeating: 0x78, count: 10), at: 0)
        try write(&file, [UInt8](repeating: 0x79, count: 10), at: 3 * Self.p + 5)
        #expect(file.size == 12303)
        expectSeeks(file, [
            (0, 0, 4096), (9, 9, 4096), (10, 10, 4096), (4095, 4095, 4096),
            (4096, 12288, 4096), (8192, 12288, 8192), (12288, 12288, 12303),
            (12302, 12302, 12303), (12303, nil, nil),
        ])
    }

    @Test func seekInFullySparseFile() throws {
        var file = SparsePages()
        try file.truncate(to: 3 * Self.p + 1, releasePages: { _ in })
        expectSeeks(file, [(0, nil, 0), (12288, nil, 12288), (12289, nil, nil)])
    }

    @Test func seekAfterPunchingHolesInFullFile() throws {
        var file = SparsePages()
        try write(&file, [UInt8](repeating: 0x71, count: 4 * Self.page), at: 0)
        try file.punchHole(offset: 100, length: 3 * Self.p, releasePages: { _ in })
        expectSeeks(file, [
            (0, 0, 4096), (100, 100, 4096), (4096, 12288, 4096),
            (12288, 12288, 16384), (12388, 12388, 16384),
        ])
    }
}

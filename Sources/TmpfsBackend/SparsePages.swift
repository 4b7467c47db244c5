import SystemPackage

/// The bytes of one tmpfs regular file, kept in 4 KiB pages that exist only
/// where the file has been written or fallocated: holes cost nothing and read
/// as zeros.
///
/// Not thread-safe and deliberately lock-free: the owning inode's lock must be
/// held for every call. Pages are reference types, so a copy of this struct
/// would share page contents with the original; tmpfs never copies a file's
/// data, so copy-on-write is intentionally absent — do not copy it.
///
/// Memory accounting is the caller's: `reservePages(n)` must reserve either
/// all `n` pages and return true, or nothing and return false; every page
/// this type frees is reported through `releasePages`. Call `truncate(to: 0)`
/// before dropping a file so its pages are released.
///
/// Offset arithmetic: every entry point bounds `offset + length` with a
/// reporting-overflow add, so later sums stay at or below that end and page
/// indices (`offset >> 12`) cannot overflow when shifted back.
struct SparsePages: Sendable {
    static let pageSize = 4096
    private static let pageShift: Int64 = 12
    private static let pageMask: Int64 = 4095

    /// Logical file size (st_size), independent of which pages exist: pages
    /// can lie beyond it (FALLOC_FL_KEEP_SIZE) and holes can lie before it.
    private(set) var size: Int64 = 0

    private var pages: [Int64: Page] = [:]

    init() {}

    var allocatedPageCount: Int { pages.count }

    /// st_blocks in 512-byte units. Fallocated-but-unwritten pages count, as
    /// on Linux (posix_fallocate of 4 pages on /dev/shm gave st_blocks 32).
    var blocks512: Int64 {
        // At most 2^51 page indices exist, so the product cannot overflow.
        Int64(pages.count) * Int64(Self.pageSize / 512)
    }

    // MARK: read / write

    /// pread(2) on the file: copies `min(buffer.count, size - offset)` bytes,
    /// zeros for holes; 0 at or after EOF.
    ///
    /// Like Linux's rw_verify_area, a negative offset or an `offset + count`
    /// past Int64.max is EINVAL even beyond EOF (verified: pread of 10 bytes
    /// at 2^63-5 gives EINVAL, of 4 bytes gives b'').
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        _ = try Self.checkedIORange(offset: offset, count: buffer.count)
        guard offset < size, let base = buffer.baseAddress else { return 0 }
        let total = Int(min(Int64(buffer.count), size - offset))
        var done = 0
        while done < total {
            let pos = offset + Int64(done)
            let inPage = Int(pos & Self.pageMask)
            let chunk = min(Self.pageSize - inPage, total - done)
            if let page = pages[pos >> Self.pageShift] {
                (base + done).copyMemory(from: page.bytes + inPage, byteCount: chunk)
            } else {
                (base + done).initializeMemory(as: UInt8.self, repeating: 0, count: chunk)
            }
            done += chunk
        }
        return total
    }

    /// pwrite(2) on the file; extends `size` when writing past it.
    ///
    /// New pages are reserved in one `reservePages(n)` call; if that fails,
    /// one page at a time so that, as on Linux, the write stops at the first
    /// page that cannot be allocated and returns the short count (verified on
    /// a 16 KiB tmpfs: 6 pages written at offset 100 returned 16284). ENOSPC
    /// is thrown only when nothing at all was written.
    ///
    /// A negative offset or `offset + count` past Int64.max is EINVAL, not
    /// EFBIG: Linux rejects it in rw_verify_area before the filesystem's
    /// size limit (MAX_LFS_FILESIZE == Int64.max) can apply (verified:
    /// pwrite of 2 bytes at 2^63-2 and at 2^63-1 gives EINVAL).
    mutating func write(
        from source: UnsafeRawBufferPointer,
        at offset: Int64,
        reservePages: (Int) -> Bool
    ) throws(Errno) -> Int {
        let end = try Self.checkedIORange(offset: offset, count: source.count)
        guard let base = source.baseAddress, end > offset else { return 0 }

        let needed = missingPages(in: (offset >> Self.pageShift)...((end - 1) >> Self.pageShift))
        let reservedUpFront = needed == 0 || reservePages(needed)

        var done = 0
        while done < source.count {
            let pos = offset + Int64(done)
            let index = pos >> Self.pageShift
            let inPage = Int(pos & Self.pageMask)
            let chunk = min(Self.pageSize - inPage, source.count - done)
            let page: Page
            if let existing = pages[index] {
                page = existing
            } else if reservedUpFront || reservePages(1) {
                page = Page()
                pages[index] = page
            } else {
                break
            }
            (page.bytes + inPage).copyMemory(from: base + done, byteCount: chunk)
            page.isUnwrittenPreallocation = false
            done += chunk
        }
        guard done > 0 else { throw .noSpace }
        size = max(size, offset + Int64(done))
        return done
    }

    // MARK: truncate / fallocate

    /// ftruncate(2). Shrinking (or truncating to the current size) frees every
    /// page wholly at or beyond `newSize` — including KEEP_SIZE preallocation
    /// past EOF, as Linux does (verified: ftruncate to the same size dropped
    /// st_blocks from 32 to 8) — and zeroes the tail of the partial last page
    /// so that re-extending reads zeros. Growing only changes `size`.
    mutating func truncate(to newSize: Int64, releasePages: (Int) -> Void) throws(Errno) {
        guard newSize >= 0 else { throw .invalidArgument }
        defer { size = newSize }
        guard newSize <= size else { return }
        let firstFreed = Self.pageIndexRoundingUp(newSize)
        let freed = pages.keys.filter { $0 >= firstFreed }
        for index in freed { pages[index] = nil }
        zero(page: newSize >> Self.pageShift, from: Int(newSize & Self.pageMask), to: Self.pageSize)
        if !freed.isEmpty { releasePages(freed.count) }
    }

    /// fallocate(2) mode 0 or FALLOC_FL_KEEP_SIZE: makes every page in the
    /// range exist (zeroed); extends `size` to the range end unless `keepSize`.
    ///
    /// All-or-nothing, as on Linux tmpfs, which undoes this call's pages on
    /// ENOSPC (verified: a 5-page fallocate with 3 pages free left st_blocks
    /// and st_size unchanged). The missing pages are reserved in a single
    /// call, so a failed reservation has nothing to undo.
    ///
    /// The new pages stay holes for SEEK_DATA/SEEK_HOLE until written,
    /// matching Linux, where fallocated tmpfs folios are not uptodate
    /// (verified: after posix_fallocate(0, 16384) SEEK_DATA from 0 is ENXIO;
    /// after writing 1 byte at 4099, SEEK_DATA from 0 is 4096).
    mutating func allocate(
        offset: Int64,
        length: Int64,
        keepSize: Bool,
        reservePages: (Int) -> Bool
    ) throws(Errno) {
        let end = try Self.checkedFallocateRange(offset: offset, length: length)
        let range = (offset >> Self.pageShift)...((end - 1) >> Self.pageShift)
        let needed = missingPages(in: range)
        if needed > 0 {
            guard reservePages(needed) else { throw .noSpace }
        }
        // shmem_get_folio with SGP_FALLOC initializes a folio an earlier fallocate left not
        // uptodate ("lest undo on failure cancel our earlier guarantee"): it becomes data
        // (verified: fallocate 0..4096 then 0..8192 gives SEEK_DATA 0, SEEK_HOLE 4096).
        for index in existingPages(in: range) {
            pages[index]?.isUnwrittenPreallocation = false
        }
        if needed > 0 {
            for index in range where pages[index] == nil {
                let page = Page()
                page.isUnwrittenPreallocation = true
                pages[index] = page
            }
        }
        if !keepSize { size = max(size, end) }
    }

    /// fallocate(2) FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE: frees pages
    /// wholly inside the range, zeroes the covered parts of the pages at its
    /// edges, and leaves `size` alone. Pages past EOF in the range are freed
    /// too; a range entirely past EOF is not an error (verified).
    mutating func punchHole(offset: Int64, length: Int64, releasePages: (Int) -> Void) throws(Errno) {
        let end = try Self.checkedFallocateRange(offset: offset, length: length)
        let firstPage = offset >> Self.pageShift
        // The page holding `end`; `end` itself is outside the range.
        let lastPage = end >> Self.pageShift
        let startInPage = Int(offset & Self.pageMask)
        let endInPage = Int(end & Self.pageMask)

        if firstPage == lastPage {
            zero(page: firstPage, from: startInPage, to: endInPage)
            return
        }
        if startInPage != 0 { zero(page: firstPage, from: startInPage, to: Self.pageSize) }
        zero(page: lastPage, from: 0, to: endInPage)
        let wholeStart = Self.pageIndexRoundingUp(offset)
        guard wholeStart < lastPage else { return }
        let freed = existingPages(in: wholeStart...(lastPage - 1))
        for index in freed { pages[index] = nil }
        if !freed.isEmpty { releasePages(freed.count) }
    }

    // MARK: SEEK_DATA / SEEK_HOLE

    /// lseek(2) SEEK_DATA at page granularity, as on tmpfs. ENXIO when
    /// `offset` is negative, at or past EOF, or no data follows (verified on
    /// /dev/shm; see SparsePagesTests for the layouts).
    func seekData(from offset: Int64) throws(Errno) -> Int64 {
        guard offset >= 0, offset < size else { throw .noSuchAddressOrDevice }
        let startPage = offset >> Self.pageShift
        let next = pages.lazy
            .filter { $0.key >= startPage && !$0.value.isUnwrittenPreallocation }
            .map(\.key)
            .min()
        guard let next, next << Self.pageShift < size else { throw .noSuchAddressOrDevice }
        return next == startPage ? offset : next << Self.pageShift
    }

    /// lseek(2) SEEK_HOLE at page granularity, as on tmpfs: the implicit hole
    /// at EOF means the answer never exceeds `size`. ENXIO when `offset` is
    /// negative or at/past EOF (verified on /dev/shm).
    func seekHole(from offset: Int64) throws(Errno) -> Int64 {
        guard offset >= 0, offset < size else { throw .noSuchAddressOrDevice }
        var index = offset >> Self.pageShift
        guard isData(index) else { return offset }
        // Each step lands on an existing page, so this is bounded by the
        // number of allocated pages, and index stays below 2^51.
        while isData(index) { index += 1 }
        return min(index << Self.pageShift, size)
    }

    // MARK: helpers

    private func isData(_ index: Int64) -> Bool {
        guard let page = pages[index] else { return false }
        return !page.isUnwrittenPreallocation
    }

    private func zero(page index: Int64, from start: Int, to end: Int) {
        guard start < end, let page = pages[index] else { return }
        (page.bytes + start).initializeMemory(as: UInt8.self, repeating: 0, count: end - start)
    }

    /// Indices of existing pages in `range`, walking whichever is smaller —
    /// the range or the page table — so huge sparse ranges stay cheap.
    private func existingPages(in range: ClosedRange<Int64>) -> [Int64] {
        let span = range.upperBound - range.lowerBound  // one less than the count; cannot overflow
        if span < Int64(pages.count) {
            return range.filter { pages[$0] != nil }
        }
        return pages.keys.filter { range.contains($0) }
    }

    /// Counts without building the array `existingPages` returns: this runs on every write,
    /// and the array cost log2(pages)+1 heap allocations per pwrite even when every page
    /// already existed (package-benchmark: 1 malloc per 4 KiB overwrite, 9 per 1 MiB).
    private func missingPages(in range: ClosedRange<Int64>) -> Int {
        let span = range.upperBound - range.lowerBound  // one less than the count; cannot overflow
        var existing = 0
        if span < Int64(pages.count) {
            for index in range where pages[index] != nil { existing += 1 }
        } else {
            for index in pages.keys where range.contains(index) { existing += 1 }
        }
        // Page indices are below 2^51, so the count fits in Int.
        return Int(span + 1) - existing
    }

    private static func pageIndexRoundingUp(_ offset: Int64) -> Int64 {
        (offset >> pageShift) + (offset & pageMask == 0 ? 0 : 1)
    }

    /// rw_verify_area: negative offsets and ends past Int64.max are EINVAL.
    private static func checkedIORange(offset: Int64, count: Int) throws(Errno) -> Int64 {
        guard offset >= 0, let count = Int64(exactly: count) else { throw .invalidArgument }
        let (end, overflow) = offset.addingReportingOverflow(count)
        guard !overflow else { throw .invalidArgument }
        return end
    }

    /// vfs_fallocate: EINVAL for a negative offset or non-positive length,
    /// EFBIG when the end passes s_maxbytes (Int64.max on tmpfs); verified:
    /// (2^62, 2^62) and (2^63-10, 10) give EFBIG, (2^63-10, 9) succeeds.
    private static func checkedFallocateRange(offset: Int64, length: Int64) throws(Errno) -> Int64 {
        guard offset >= 0, length > 0 else { throw .invalidArgument }
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow else { throw .fileTooLarge }
        return end
    }
}

/// One zero-initialised 4 KiB page.
///
/// `@unchecked Sendable` because it owns raw memory; it is only touched under
/// the owning inode's lock (see `SparsePages`).
private final class Page: @unchecked Sendable {
    let bytes: UnsafeMutableRawPointer

    /// Set for pages created by fallocate and cleared by the first write,
    /// mirroring Linux tmpfs's not-uptodate fallocated folios, which
    /// SEEK_DATA skips and reads treat as holes.
    var isUnwrittenPreallocation = false

    init() {
        bytes = .allocate(byteCount: SparsePages.pageSize, alignment: SparsePages.pageSize)
        bytes.initializeMemory(as: UInt8.self, repeating: 0, count: SparsePages.pageSize)
    }

    deinit { bytes.deallocate() }
}

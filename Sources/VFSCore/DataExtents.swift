// Copying out a sparse file's data, extent by extent, without touching its holes: what a
// file's content observer gets when it attaches (tmpfs) and what `vfs run` copies into a memfd
// for a mapping (Sandbox). Takes no locks: the caller holds whatever keeps the file still.

public enum DataExtents {
    /// Reads the data of a file of `size` bytes in chunks of at most 1 MiB and hands each to
    /// `body` with its offset. `nextData(position)` gives the next data extent at or after
    /// `position` (start, end), or nil when no data follows (SEEK_DATA's ENXIO); `read` reads
    /// into a buffer at an offset and returns the count (0: the file shrank meanwhile, the rest
    /// of that extent is skipped).
    public static func forEachChunk(
        size: Int64,
        nextData: (Int64) throws(Errno) -> (start: Int64, end: Int64)?,
        read: (UnsafeMutableRawBufferPointer, Int64) throws(Errno) -> Int,
        _ body: (UnsafeRawBufferPointer, Int64) throws(Errno) -> Void
    ) throws(Errno) {
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var position: Int64 = 0
        while position < size {
            guard let (start, end) = try nextData(position) else { break }
            var offset = start
            while offset < end {
                let want = Int(min(Int64(chunk.count), end - offset))
                let got = try chunk.withUnsafeMutableBytes { buffer in
                    Result { () throws(Errno) -> Int in
                        let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[..<want])
                        let count = try read(slice, offset)
                        try body(UnsafeRawBufferPointer(rebasing: slice[..<count]), offset)
                        return count
                    }
                }.get()
                if got == 0 { break }
                offset += Int64(got)
            }
            position = max(end, offset)
        }
    }
}

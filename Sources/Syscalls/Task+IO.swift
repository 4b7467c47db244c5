import VFSCore

/// read, write, pread64, pwrite64, readv, writev, preadv, pwritev, lseek, fsync, fdatasync.
extension Task {
    /// read(2) into `buffer`.
    public func read(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try files.get(fd).read(into: buffer)
    }

    /// read(2) of up to `count` bytes, returned.
    public func read(_ fd: Int32, count: Int) throws(Errno) -> [UInt8] {
        guard count >= 0 else { throw .invalidArgument }
        let description = try files.get(fd)
        return try Task.filling(count) { (buffer, _) throws(Errno) in
            try description.read(into: buffer)
        }
    }

    /// write(2).
    public func write(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try files.get(fd).write(from: buffer, credentials: credentials)
    }

    public func write(_ fd: Int32, _ bytes: [UInt8]) throws(Errno) -> Int {
        let description = try files.get(fd)
        let credentials = self.credentials
        let outcome = bytes.withUnsafeBytes { buffer in
            Result { () throws(Errno) -> Int in
                try description.write(from: buffer, credentials: credentials)
            }
        }
        return try outcome.get()
    }

    /// pread64(2): EINVAL for a negative offset, ESPIPE on a pipe.
    public func pread64(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, _ offset: Int64)
        throws(Errno) -> Int
    {
        // ksys_pread64 rejects a negative offset before it looks the descriptor up.
        guard offset >= 0 else { throw .invalidArgument }
        return try files.get(fd).read(into: buffer, at: offset)
    }

    public func pread64(_ fd: Int32, count: Int, _ offset: Int64) throws(Errno) -> [UInt8] {
        guard count >= 0, offset >= 0 else { throw .invalidArgument }
        let description = try files.get(fd)
        return try Task.filling(count) { (buffer, done) throws(Errno) in
            try description.read(into: buffer, at: offset + Int64(done))
        }
    }

    /// pwrite64(2).
    public func pwrite64(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, _ offset: Int64)
        throws(Errno) -> Int
    {
        // ksys_pwrite64 rejects a negative offset before it looks the descriptor up.
        guard offset >= 0 else { throw .invalidArgument }
        return try files.get(fd).write(from: buffer, at: offset, credentials: credentials)
    }

    public func pwrite64(_ fd: Int32, _ bytes: [UInt8], _ offset: Int64) throws(Errno) -> Int {
        guard offset >= 0 else { throw .invalidArgument }
        let description = try files.get(fd)
        let credentials = self.credentials
        let outcome = bytes.withUnsafeBytes { buffer in
            Result { () throws(Errno) -> Int in
                try description.write(from: buffer, at: offset, credentials: credentials)
            }
        }
        return try outcome.get()
    }

    /// readv(2) / preadv(2) (offset nil: at the file offset). Stops at the first short read,
    /// as Linux's iterators do. EINVAL for more than UIO_MAXIOV buffers.
    public func readv(_ fd: Int32, _ buffers: [UnsafeMutableRawBufferPointer], offset: Int64? = nil)
        throws(Errno) -> Int
    {
        // do_preadv: a negative offset first, then the descriptor, then the vector.
        if let offset, offset < 0 { throw .invalidArgument }
        let description = try files.get(fd)
        guard buffers.count <= Task.maxIOVectors else { throw .invalidArgument }
        if offset == nil, buffers.count > 1, let end = description.impl.pipeEnd {
            return try Task.scatterRead(description, from: end.pipe, into: buffers)
        }
        var total = 0
        for buffer in buffers where buffer.count > 0 {
            let count: Int
            do {
                if let offset {
                    count = try description.read(into: buffer, at: offset + Int64(total))
                } else {
                    count = try description.read(into: buffer)
                }
            } catch {
                if total > 0 { return total }
                throw error
            }
            total += count
            if count < buffer.count { break }
        }
        return total
    }

    /// writev(2) / pwritev(2).
    public func writev(_ fd: Int32, _ buffers: [UnsafeRawBufferPointer], offset: Int64? = nil)
        throws(Errno) -> Int
    {
        if let offset, offset < 0 { throw .invalidArgument }
        let description = try files.get(fd)
        guard buffers.count <= Task.maxIOVectors else { throw .invalidArgument }
        if offset == nil, buffers.count > 1, description.impl.pipeEnd != nil {
            return try Task.gatherWrite(description, from: buffers, credentials: credentials)
        }
        var total = 0
        for buffer in buffers where buffer.count > 0 {
            let count: Int
            do {
                if let offset {
                    count = try description.write(
                        from: buffer, at: offset + Int64(total), credentials: credentials)
                } else {
                    count = try description.write(from: buffer, credentials: credentials)
                }
            } catch {
                if total > 0 { return total }
                throw error
            }
            total += count
            if count < buffer.count { break }
        }
        return total
    }

    /// UIO_MAXIOV.
    public static let maxIOVectors = 1024

    /// readv on a pipe is one pipe read, as Linux's `pipe_read` fills the whole iterator: it
    /// returns what is there without waiting for more once it has something, and a packet
    /// is taken whole even across buffers. Read into one buffer (never more than the pipe
    /// can hold), then scattered.
    static func scatterRead(
        _ description: FileDescription, from pipe: Pipe, into buffers: [UnsafeMutableRawBufferPointer]
    ) throws(Errno) -> Int {
        let wanted = buffers.reduce(0) { $0 + $1.count }
        var gathered = [UInt8](repeating: 0, count: min(wanted, pipe.capacity))
        let count = try gathered.withUnsafeMutableBytes { bytes in
            Result { () throws(Errno) -> Int in try description.read(into: bytes) }
        }.get()
        var copied = 0
        for buffer in buffers where copied < count {
            let piece = min(buffer.count, count - copied)
            gathered.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(rebasing: buffer[0..<piece])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[copied..<(copied + piece)]))
            }
            copied += piece
        }
        return count
    }

    /// writev on a pipe is one pipe write: at most PIPE_BUF bytes stay atomic and, in packet
    /// mode, the vector makes one packet per page, not one per element.
    static func gatherWrite(
        _ description: FileDescription, from buffers: [UnsafeRawBufferPointer], credentials: Credentials
    ) throws(Errno) -> Int {
        var gathered: [UInt8] = []
        gathered.reserveCapacity(buffers.reduce(0) { $0 + $1.count })
        for buffer in buffers { gathered.append(contentsOf: buffer) }
        return try gathered.withUnsafeBytes { bytes in
            Result { () throws(Errno) -> Int in try description.write(from: bytes, credentials: credentials) }
        }.get()
    }

    /// lseek(2). EBADF for an O_PATH descriptor (fdget_pos skips them) before EINVAL for an
    /// unknown whence.
    public func lseek(_ fd: Int32, _ offset: Int64, _ whence: Int32) throws(Errno) -> Int64 {
        let description = try files.get(fd)
        guard !description.isPathOnly else { throw .badFileDescriptor }
        guard let whence = SeekWhence(rawValue: whence) else { throw .invalidArgument }
        return try description.seek(offset, whence: whence)
    }

    /// fsync(2) / fdatasync(2).
    public func fsync(_ fd: Int32) throws(Errno) {
        try files.get(fd).sync(dataOnly: false)
    }

    public func fdatasync(_ fd: Int32) throws(Errno) {
        try files.get(fd).sync(dataOnly: true)
    }

    /// Collects up to `count` bytes from `body`, called with a bounded buffer and the number
    /// of bytes already collected, until it returns a short count. A huge `count` (say, from a
    /// hostile caller) never allocates more than the data that actually arrives, plus a chunk.
    static func filling(
        _ count: Int, _ body: (UnsafeMutableRawBufferPointer, Int) throws(Errno) -> Int
    ) throws(Errno) -> [UInt8] {
        let total = min(count, FileDescription.maxTransfer)
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(total, 1 << 20))
        while result.count < total {
            let want = min(chunk.count, total - result.count)
            let done = result.count
            let outcome = chunk.withUnsafeMutableBytes { buffer in
                Result { () throws(Errno) -> Int in
                    try body(UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]), done)
                }
            }
            let got: Int
            switch outcome {
            case .success(let count): got = count
            case .failure(let error):
                if result.isEmpty { throw error }
                return result
            }
            result.append(contentsOf: chunk[..<got])
            if got < want { break }
        }
        return result
    }
}

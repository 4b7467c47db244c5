import VFSCore

extension SyscallTable {
    /// read, write, pread64, pwrite64, readv, writev, preadv, pwritev, preadv2, pwritev2,
    /// lseek, fsync, fdatasync. Data moves between the caller's memory and the file in
    /// bounded chunks, so a huge count allocates nothing beyond what is transferred.
    static let ioEntries: [SyscallEntry] = [
        SyscallEntry(.read) { (task, memory, a) throws(Errno) -> Int64 in
            let description = try task.files.get(a.int32(0))
            // A pipe read is one transfer (never more than the pipe holds): a second one
            // could wait on a blocking pipe after the first emptied it.
            let pipe = description.impl.pipeEnd?.pipe
            return try copyOut(
                memory, a[1], a.count(2), chunkLimit: pipe?.capacity ?? chunkSize, single: pipe != nil
            ) { (buffer, _) throws(Errno) in
                try description.read(into: buffer)
            }
        },
        SyscallEntry(.write) { (task, memory, a) throws(Errno) -> Int64 in
            let description = try task.files.get(a.int32(0))
            let credentials = task.credentials
            let limit = description.impl.pipeEnd == nil ? chunkSize : pipeWriteChunk
            return try copyIn(memory, a[1], a.count(2), chunkLimit: limit) { (buffer, _) throws(Errno) in
                try description.write(from: buffer, credentials: credentials)
            }
        },
        SyscallEntry(.pread64) { (task, memory, a) throws(Errno) -> Int64 in
            let description = try task.files.get(a.int32(0))
            let offset = a.int64(3)
            guard description.isReadable else { throw .badFileDescriptor }
            guard offset >= 0 else { throw .invalidArgument }
            return try copyOut(memory, a[1], a.count(2)) { (buffer, done) throws(Errno) in
                try description.read(into: buffer, at: offset + Int64(done))
            }
        },
        SyscallEntry(.pwrite64) { (task, memory, a) throws(Errno) -> Int64 in
            let description = try task.files.get(a.int32(0))
            let offset = a.int64(3)
            guard description.isWritable else { throw .badFileDescriptor }
            guard offset >= 0 else { throw .invalidArgument }
            let credentials = task.credentials
            return try copyIn(memory, a[1], a.count(2)) { (buffer, done) throws(Errno) in
                try description.write(from: buffer, at: offset + Int64(done), credentials: credentials)
            }
        },
        SyscallEntry(.readv) { (task, memory, a) throws(Errno) -> Int64 in
            try vectored(task, memory, fd: a.int32(0), a[1], a[2], offset: nil, reading: true)
        },
        SyscallEntry(.writev) { (task, memory, a) throws(Errno) -> Int64 in
            try vectored(task, memory, fd: a.int32(0), a[1], a[2], offset: nil, reading: false)
        },
        SyscallEntry(.preadv) { (task, memory, a) throws(Errno) -> Int64 in
            try vectored(
                task, memory, fd: a.int32(0), a[1], a[2], offset: a.int64(3), reading: true)
        },
        SyscallEntry(.pwritev) { (task, memory, a) throws(Errno) -> Int64 in
            try vectored(
                task, memory, fd: a.int32(0), a[1], a[2], offset: a.int64(3), reading: false)
        },
        SyscallEntry(.preadv2) { (task, memory, a) throws(Errno) -> Int64 in
            // An offset of -1 means the file offset (do_readv); any other negative one EINVAL.
            let offset = a.int64(3)
            return try vectored(
                task, memory, fd: a.int32(0), a[1], a[2], offset: offset == -1 ? nil : offset,
                reading: true, flags: a.int32(5))
        },
        SyscallEntry(.pwritev2) { (task, memory, a) throws(Errno) -> Int64 in
            let offset = a.int64(3)
            return try vectored(
                task, memory, fd: a.int32(0), a[1], a[2], offset: offset == -1 ? nil : offset,
                reading: false, flags: a.int32(5))
        },
        SyscallEntry(.lseek) { (task, _, a) throws(Errno) -> Int64 in
            try task.lseek(a.int32(0), a.int64(1), a.int32(2))
        },
        SyscallEntry(.fsync) { (task, _, a) throws(Errno) -> Int64 in
            try task.fsync(a.int32(0))
            return 0
        },
        SyscallEntry(.fdatasync) { (task, _, a) throws(Errno) -> Int64 in
            try task.fdatasync(a.int32(0))
            return 0
        },
    ]

    static let RWF_HIPRI: Int32 = 0x1
    static let RWF_NOWAIT: Int32 = 0x8
    static let RWF_APPEND: Int32 = 0x10
    static let RWF_NOAPPEND: Int32 = 0x20
    static let RWF_ATOMIC: Int32 = 0x40
    static let RWF_DONTCACHE: Int32 = 0x80
    /// RWF_SUPPORTED in Linux 6.18: HIPRI, DSYNC, SYNC, NOWAIT, APPEND, NOAPPEND, ATOMIC,
    /// DONTCACHE, NOSIGNAL.
    static let RWF_SUPPORTED: Int32 = 0x1FF

    /// preadv2/pwritev2's flags as `kiocb_set_rw_flags` checks them (after the descriptor and
    /// the vector, and only for a transfer of at least one byte). Returns the O_APPEND
    /// override: true for RWF_APPEND, false for RWF_NOAPPEND, nil to keep the description's.
    /// Linux 6.18 on a tmpfs file: 0x100 (RWF_NOSIGNAL) and RWF_NOAPPEND are accepted;
    /// RWF_NOWAIT, RWF_ATOMIC and RWF_DONTCACHE are EOPNOTSUPP (no FMODE_NOWAIT, no atomic
    /// writes, no FOP_DONTCACHE; pipes from pipe(2) take RWF_NOWAIT, FIFOs do not); 0x200 is EOPNOTSUPP;
    /// RWF_APPEND|RWF_NOAPPEND is EINVAL. A directory (no read_iter: `do_loop_readv_writev`)
    /// takes RWF_HIPRI only.
    static func checkRWFFlags(_ flags: Int32, _ description: FileDescription, writing: Bool)
        throws(Errno) -> Bool?
    {
        guard flags != 0 else { return nil }
        if description.dentry.fileType == .directory {
            guard flags & ~RWF_HIPRI == 0 else { throw .notSupported }
            return nil
        }
        guard flags & ~RWF_SUPPORTED == 0 else { throw .notSupported }
        if flags & RWF_APPEND != 0 && flags & RWF_NOAPPEND != 0 { throw .invalidArgument }
        if flags & RWF_NOWAIT != 0 {
            // Only pipe(2)'s ends have FMODE_NOWAIT; a FIFO opened by path does not (Linux
            // 6.18: preadv2/pwritev2 with RWF_NOWAIT on a FIFO are EOPNOTSUPP).
            guard let end = description.impl.pipeEnd, !end.isFIFO else { throw .notSupported }
        }
        if flags & (RWF_ATOMIC | RWF_DONTCACHE) != 0 { throw .notSupported }
        guard writing else { return nil }
        if flags & RWF_APPEND != 0 { return true }
        if flags & RWF_NOAPPEND != 0 { return false }
        return nil
    }

    /// The chunk in which data crosses between the caller's memory and a file.
    static let chunkSize = 64 * 1024
    /// A pipe write up to this size is one pipe write, as Linux's: how it tops up the last
    /// buffer and splits into pages (and packets) depends on the whole count. Larger writes
    /// go in pieces of this size (a multiple of the page), which only a blocking writer makes.
    static let pipeWriteChunk = 1 << 20

    /// File → caller memory: `transfer` fills a chunk (given the bytes already moved); the
    /// chunk is written to `address`. A short transfer ends the call. A fault after some bytes
    /// moved returns the count so far, as Linux does.
    static func copyOut(
        _ memory: any TaskMemory, _ address: UInt64, _ count: Int, chunkLimit: Int = chunkSize,
        single: Bool = false,
        _ transfer: (UnsafeMutableRawBufferPointer, Int) throws(Errno) -> Int
    ) throws(Errno) -> Int64 {
        let total = min(count, FileDescription.maxTransfer)
        if total == 0 { return Int64(try transfer(UnsafeMutableRawBufferPointer(start: nil, count: 0), 0)) }
        var chunk = [UInt8](repeating: 0, count: min(total, chunkLimit))
        var done = 0
        while done < total {
            let want = min(chunk.count, total - done)
            // Probe the destination first: a fault must not consume file data.
            let (destination, overflow) = address.addingReportingOverflow(UInt64(done))
            if overflow { if done > 0 { break } else { throw .badAddress } }
            do {
                try probe(memory, destination, want)
            } catch {
                if done > 0 { break }
                throw error
            }
            let alreadyDone = done
            let outcome = chunk.withUnsafeMutableBytes { buffer in
                Result { () throws(Errno) -> Int in
                    try transfer(UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]), alreadyDone)
                }
            }
            let got: Int
            switch outcome {
            case .success(let value): got = value
            case .failure(let error):
                if done > 0 { return Int64(done) }
                throw error
            }
            let written = chunk.withUnsafeBytes { buffer in
                Result { () throws(Errno) in
                    try memory.write(destination, from: UnsafeRawBufferPointer(rebasing: buffer[..<got]))
                }
            }
            try written.get()
            done += got
            if got < want || single { break }
        }
        return Int64(done)
    }

    /// Caller memory → file, chunk by chunk.
    static func copyIn(
        _ memory: any TaskMemory, _ address: UInt64, _ count: Int, chunkLimit: Int = chunkSize,
        _ transfer: (UnsafeRawBufferPointer, Int) throws(Errno) -> Int
    ) throws(Errno) -> Int64 {
        let total = min(count, FileDescription.maxTransfer)
        if total == 0 { return Int64(try transfer(UnsafeRawBufferPointer(start: nil, count: 0), 0)) }
        var chunk = [UInt8](repeating: 0, count: min(total, chunkLimit))
        var done = 0
        while done < total {
            let want = min(chunk.count, total - done)
            let (source, overflow) = address.addingReportingOverflow(UInt64(done))
            if overflow { if done > 0 { break } else { throw .badAddress } }
            let read = chunk.withUnsafeMutableBytes { buffer in
                Result { () throws(Errno) in
                    try memory.read(source, into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]))
                }
            }
            if case .failure(let error) = read {
                if done > 0 { break }
                throw error
            }
            let alreadyDone = done
            let outcome = chunk.withUnsafeBytes { buffer in
                Result { () throws(Errno) -> Int in
                    try transfer(UnsafeRawBufferPointer(rebasing: buffer[..<want]), alreadyDone)
                }
            }
            let put: Int
            switch outcome {
            case .success(let value): put = value
            case .failure(let error):
                if done > 0 { return Int64(done) }
                throw error
            }
            done += put
            if put < want { break }
        }
        return Int64(done)
    }

    /// Checks that `count` bytes at `address` are writable, without changing them.
    static func probe(_ memory: any TaskMemory, _ address: UInt64, _ count: Int) throws(Errno) {
        let bytes = try memory.readBytes(address, count: count)
        try memory.writeBytes(address, bytes)
    }

    /// readv/writev/preadv/pwritev/preadv2/pwritev2 over `struct iovec { void *base; size_t
    /// len; }` × count, with fs/read_write.c's checks in its order: EINVAL for a negative
    /// offset (`do_preadv`, before the descriptor); EBADF for a closed or O_PATH descriptor;
    /// ESPIPE for an offset on a stream; EBADF without read (write) access; then the vector
    /// (`import_iovec`): EINVAL for more than UIO_MAXIOV entries (the count is an unsigned
    /// long) or a length past SSIZE_MAX, EFAULT for an unreadable array; a total of 0 returns
    /// 0 without looking at the flags; then the RWF_* flags (`checkRWFFlags`).
    static func vectored(
        _ task: Task, _ memory: any TaskMemory, fd: Int32, _ vectorAddress: UInt64,
        _ vectorCount: UInt64, offset: Int64?, reading: Bool, flags: Int32 = 0
    ) throws(Errno) -> Int64 {
        if let offset, offset < 0 { throw .invalidArgument }
        let description = try task.files.get(fd)
        guard !description.isPathOnly else { throw .badFileDescriptor }
        if offset != nil && !description.impl.isSeekable { throw .illegalSeek }
        if reading { guard description.isReadable else { throw .badFileDescriptor } }
        else { guard description.isWritable else { throw .badFileDescriptor } }
        guard vectorCount <= UInt64(Task.maxIOVectors) else { throw .invalidArgument }
        let raw = try memory.readBytes(vectorAddress, count: Int(vectorCount) * 16)
        var vectors: [(base: UInt64, length: Int)] = []
        var sum: UInt64 = 0
        for index in 0..<Int(vectorCount) {
            let (base, length) = raw.withUnsafeBytes { bytes in
                (bytes.loadUnaligned(fromByteOffset: index * 16, as: UInt64.self),
                 bytes.loadUnaligned(fromByteOffset: index * 16 + 8, as: UInt64.self))
            }
            guard length <= UInt64(Int64.max) else { throw .invalidArgument }
            let (next, overflow) = sum.addingReportingOverflow(length)
            guard !overflow, next <= UInt64(Int64.max) else { throw .invalidArgument }
            sum = next
            vectors.append((base, Int(length)))
        }
        if sum == 0 { return 0 }
        let append = try checkRWFFlags(flags, description, writing: !reading)
        let credentials = task.credentials
        if offset == nil, let pipe = description.impl.pipeEnd?.pipe {
            return try pipeVectored(
                memory, description, vectors, total: Int(sum), pipe: pipe, reading: reading,
                credentials: credentials)
        }
        var total: Int64 = 0
        for vector in vectors where vector.length > 0 {
            let before = total
            let moved: Int64
            do {
                if reading {
                    moved = try copyOut(memory, vector.base, vector.length) { (buffer, done) throws(Errno) in
                        if let offset {
                            return try description.read(into: buffer, at: offset + before + Int64(done))
                        }
                        return try description.read(into: buffer)
                    }
                } else {
                    moved = try copyIn(memory, vector.base, vector.length) { (buffer, done) throws(Errno) in
                        if let offset {
                            return try description.write(
                                from: buffer, at: offset + before + Int64(done),
                                credentials: credentials, append: append)
                        }
                        return try description.write(
                            from: buffer, credentials: credentials, append: append)
                    }
                }
            } catch {
                if total > 0 { return total }
                throw error
            }
            total += moved
            if moved < Int64(vector.length) { break }
            if total >= Int64(FileDescription.maxTransfer) { break }
        }
        return total
    }

    /// readv/writev on a pipe: one pipe read or write for the whole vector, as Linux's
    /// `pipe_read`/`pipe_write` take the iterator whole. So a blocking readv returns what is
    /// there at once, a packet is read across the buffers, and a vector written in packet
    /// mode is one packet per page, not one per element. Reads gather at most what the pipe
    /// can hold; writes at most `pipeWriteChunk` bytes per pipe write.
    static func pipeVectored(
        _ memory: any TaskMemory, _ description: FileDescription,
        _ vectors: [(base: UInt64, length: Int)], total: Int, pipe: Pipe, reading: Bool,
        credentials: Credentials
    ) throws(Errno) -> Int64 {
        if reading {
            var gathered = [UInt8](repeating: 0, count: min(total, pipe.capacity))
            let got = try gathered.withUnsafeMutableBytes { bytes in
                Result { () throws(Errno) -> Int in try description.read(into: bytes) }
            }.get()
            var copied = 0
            for vector in vectors where copied < got && vector.length > 0 {
                let piece = min(vector.length, got - copied)
                try memory.writeBytes(vector.base, Array(gathered[copied..<(copied + piece)]))
                copied += piece
            }
            return Int64(got)
        }
        var written: Int64 = 0
        var next = 0
        var within = 0
        while next < vectors.count {
            var gathered: [UInt8] = []
            gathered.reserveCapacity(min(total - Int(written), pipeWriteChunk))
            while next < vectors.count && gathered.count < pipeWriteChunk {
                let vector = vectors[next]
                let piece = min(vector.length - within, pipeWriteChunk - gathered.count)
                if piece > 0 {
                    do throws(Errno) {
                        let (address, overflow) = vector.base.addingReportingOverflow(UInt64(within))
                        if overflow { throw Errno.badAddress }
                        gathered += try memory.readBytes(address, count: piece)
                    } catch {
                        if gathered.isEmpty && written == 0 { throw error }
                        next = vectors.count
                        break
                    }
                }
                within += piece
                if within >= vector.length {
                    next += 1
                    within = 0
                }
            }
            if gathered.isEmpty { break }
            let outcome = gathered.withUnsafeBytes { bytes in
                Result { () throws(Errno) -> Int in try description.write(from: bytes, credentials: credentials) }
            }
            switch outcome {
            case .success(let put):
                written += Int64(put)
                if put < gathered.count { return written }
            case .failure(let error):
                if written > 0 { return written }
                throw error
            }
        }
        return written
    }
}

/// A Linux pipe: a bounded byte buffer with reader and writer counts, as pipe2(2) and FIFOs
/// use it (fs/pipe.c).
///
/// - Reads return what is buffered; on an empty pipe they return 0 (end of file) when no
///   writer is left, EAGAIN when non-blocking, and otherwise wait.
/// - Writes with no reader are EPIPE (the caller raises SIGPIPE). Writes of at most PIPE_BUF
///   bytes are atomic: they wait (or EAGAIN) until all of them fit. Larger writes may be split.
/// - A FIFO's open for reading waits for a writer and the other way round, unless non-blocking
///   (then a writer with no reader gets ENXIO); opening for both never waits.
///
/// Lock order: the pipe's lock is a leaf; nothing is called while holding it.
public final class Pipe: Sendable {
    /// PIPE_BUF: writes up to this size are atomic.
    public static let atomicWriteSize = 4096
    /// The default capacity, 16 pages.
    public static let defaultCapacity = 65536

    struct State {
        var buffer: [UInt8]
        var start = 0
        var count = 0
        var readers = 0
        var writers = 0
        /// Counts every open for reading / writing, so a FIFO open waiting for its other end
        /// notices one that came and went.
        var readerOpens = 0
        var writerOpens = 0
    }

    private let lock: ConditionLock<State>
    public let capacity: Int

    public init(capacity: Int = Pipe.defaultCapacity) {
        self.capacity = capacity
        // The buffer is allocated by the first write, so an idle FIFO inode costs little.
        self.lock = ConditionLock(State(buffer: []))
    }

    public var bytesAvailable: Int { lock.withLock { state, _ in state.count } }

    // MARK: - Ends

    /// Registers an end; for a FIFO, waits for the other end as Linux's `fifo_open` does.
    public func open(reading: Bool, writing: Bool, nonBlocking: Bool, isFIFO: Bool) throws(Errno) {
        try lock.withLock { (state, waiter) throws(Errno) in
            if reading {
                state.readers += 1
                state.readerOpens += 1
            }
            if writing {
                if isFIFO && !reading && nonBlocking && state.readers == 0 {
                    throw Errno.noSuchAddressOrDevice
                }
                state.writers += 1
                state.writerOpens += 1
            }
            waiter.broadcast()
            guard isFIFO, !nonBlocking, reading != writing else { return }
            if reading {
                let seen = state.writerOpens
                while state.writers == 0 && state.writerOpens == seen { waiter.wait() }
            } else {
                let seen = state.readerOpens
                while state.readers == 0 && state.readerOpens == seen { waiter.wait() }
            }
        }
    }

    /// Unregisters an end (the last close of a description). When no end is left, what was
    /// buffered goes: Linux frees a FIFO's pipe with its last open file (put_pipe_info), so
    /// the next open finds it empty (Linux 6.18: write "y" through an O_RDWR FIFO descriptor,
    /// close it, reopen: read is EAGAIN).
    public func close(reading: Bool, writing: Bool) {
        lock.withLock { state, waiter in
            if reading { state.readers -= 1 }
            if writing { state.writers -= 1 }
            if state.readers == 0 && state.writers == 0 {
                state.buffer = []
                state.start = 0
                state.count = 0
            }
            waiter.broadcast()
        }
    }

    // MARK: - I/O

    public func read(into destination: UnsafeMutableRawBufferPointer, nonBlocking: Bool)
        throws(Errno) -> Int
    {
        guard destination.count > 0 else { return 0 }
        return try lock.withLock { (state, waiter) throws(Errno) -> Int in
            while state.count == 0 {
                if state.writers == 0 { return 0 }
                if nonBlocking { throw Errno.resourceTemporarilyUnavailable }
                waiter.wait()
            }
            let count = min(destination.count, state.count)
            var copied = 0
            while copied < count {
                let chunk = min(count - copied, capacity - state.start)
                state.buffer.withUnsafeBytes { source in
                    let from = UnsafeRawBufferPointer(
                        rebasing: source[state.start..<(state.start + chunk)])
                    UnsafeMutableRawBufferPointer(
                        rebasing: destination[copied..<(copied + chunk)]
                    ).copyMemory(from: from)
                }
                state.start = (state.start + chunk) % capacity
                state.count -= chunk
                copied += chunk
            }
            if state.count == 0 { state.start = 0 }
            waiter.broadcast()
            return count
        }
    }

    public func write(from source: UnsafeRawBufferPointer, nonBlocking: Bool) throws(Errno) -> Int
    {
        guard source.count > 0 else { return 0 }
        let atomic = source.count <= Pipe.atomicWriteSize
        return try lock.withLock { (state, waiter) throws(Errno) -> Int in
            var written = 0
            while written < source.count {
                if state.readers == 0 {
                    if written > 0 { return written }
                    throw Errno.brokenPipe
                }
                let free = capacity - state.count
                let needed = atomic ? source.count : 1
                if free < needed {
                    if nonBlocking {
                        if written > 0 { return written }
                        throw Errno.resourceTemporarilyUnavailable
                    }
                    waiter.wait()
                    continue
                }
                let chunk = min(free, source.count - written)
                if state.buffer.isEmpty { state.buffer = [UInt8](repeating: 0, count: capacity) }
                var copied = 0
                while copied < chunk {
                    let end = (state.start + state.count) % capacity
                    let piece = min(chunk - copied, capacity - end)
                    state.buffer.withUnsafeMutableBytes { buffer in
                        UnsafeMutableRawBufferPointer(rebasing: buffer[end..<(end + piece)])
                            .copyMemory(
                                from: UnsafeRawBufferPointer(
                                    rebasing: source[(written + copied)..<(written + copied + piece)]))
                    }
                    state.count += piece
                    copied += piece
                }
                written += chunk
                waiter.broadcast()
            }
            return written
        }
    }
}

/// One end (or both) of a pipe as an open file.
public final class PipeFile: FileDescriptionImpl {
    public let pipe: Pipe
    let reading: Bool
    let writing: Bool
    private let nonBlockingFlag: Mutex<Bool>

    /// Opens an end of `pipe`; for a FIFO this may wait for the other end (see `Pipe.open`).
    public init(pipe: Pipe, options: OpenOptions, isFIFO: Bool) throws(Errno) {
        // Register the end before initializing anything: when `open` refuses (ENXIO for a
        // writer without readers), no property is set, so `deinit` does not run and does not
        // unregister an end that was never registered.
        try pipe.open(
            reading: options.isReadable, writing: options.isWritable,
            nonBlocking: options.isNonBlocking, isFIFO: isFIFO)
        self.pipe = pipe
        self.reading = options.isReadable
        self.writing = options.isWritable
        self.nonBlockingFlag = Mutex(options.isNonBlocking)
    }

    public var isSeekable: Bool { false }
    public var pipeEnd: PipeFile? { self }

    public func statusFlagsChanged(_ flags: Int32) {
        nonBlockingFlag.withLock { $0 = flags & OpenOptions.nonBlocking != 0 }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno)
        -> Int
    {
        try pipe.read(into: buffer, nonBlocking: nonBlockingFlag.withLock { $0 })
    }

    public func write(
        from buffer: UnsafeRawBufferPointer, at offset: Int64, append: Bool,
        credentials: Credentials
    ) throws(Errno) -> (count: Int, end: Int64) {
        let count = try pipe.write(from: buffer, nonBlocking: nonBlockingFlag.withLock { $0 })
        return (count, offset)
    }

    /// The end closes when this object goes: after the description's last reference.
    deinit {
        pipe.close(reading: reading, writing: writing)
    }
}

import Synchronization

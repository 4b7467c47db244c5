/// A Linux pipe as fs/pipe.c keeps it: a ring of page-sized buffers (16 by default) with
/// reader and writer counts, as pipe2(2) and FIFOs use it.
///
/// - Reads take bytes from buffer after buffer; on an empty pipe they return 0 (end of file)
///   when no writer is left, EAGAIN when non-blocking, and otherwise wait.
/// - A write first tops up the last buffer with its `count % PAGE_SIZE` leading bytes when
///   they fit there (and the pipe was not empty), then fills fresh buffers a page at a time.
///   So writes of at most PIPE_BUF bytes are atomic, and the capacity is counted in buffers,
///   not bytes: after a 1-byte write and fifteen 4 KiB writes, a 100-byte write waits (Linux
///   6.18 gives EAGAIN there when non-blocking).
/// - Writes with no reader are EPIPE (the caller raises SIGPIPE).
/// - Packet mode (a writer with O_DIRECT, pipe(7)): each fresh buffer is one packet, a read
///   returns at most one packet and drops what of it does not fit. A packet write may still
///   top up a non-packet last buffer, as Linux's merge step does not look at the mode.
/// - A FIFO's open for reading waits for a writer and the other way round, unless non-blocking
///   (then a writer with no reader gets ENXIO); opening for both never waits.
///
/// Lock order: the pipe's lock is a leaf; nothing is called while holding it.
public final class Pipe: Sendable {
    /// PIPE_BUF: writes up to this size are atomic.
    public static let atomicWriteSize = 4096
    /// A buffer's size (PAGE_SIZE).
    public static let bufferSize = 4096
    /// The default capacity, 16 buffers.
    public static let defaultCapacity = 65536

    /// One buffer of the ring: `length` bytes from `offset` in its page.
    struct Slot {
        var offset = 0
        var length = 0
        var packet = false
    }

    struct State {
        /// The pages of every slot, one after another; allocated by the first write (so an
        /// idle FIFO inode costs little) and never again while the pipe is in use.
        var pages: [UInt8] = []
        var slots: [Slot] = []
        var tail = 0
        var used = 0
        var bytes = 0
        var readers = 0
        var writers = 0
        /// Counts every open for reading / writing, so a FIFO open waiting for its other end
        /// notices one that came and went.
        var readerOpens = 0
        var writerOpens = 0
    }

    private let lock: ConditionLock<State>
    public let capacity: Int
    let slotCount: Int

    public init(capacity: Int = Pipe.defaultCapacity) {
        self.slotCount = max(1, capacity / Pipe.bufferSize)
        self.capacity = slotCount * Pipe.bufferSize
        self.lock = ConditionLock(State())
    }

    public var bytesAvailable: Int { lock.withLock { state, _ in state.bytes } }

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
                state.pages = []
                state.slots = []
                state.tail = 0
                state.used = 0
                state.bytes = 0
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
            while state.used == 0 {
                if state.writers == 0 { return 0 }
                if nonBlocking { throw Errno.resourceTemporarilyUnavailable }
                waiter.wait()
            }
            var total = 0
            while state.used > 0 && total < destination.count {
                var slot = state.slots[state.tail]
                let count = min(slot.length, destination.count - total)
                let from = state.tail * Pipe.bufferSize + slot.offset
                state.pages.withUnsafeBytes { pages in
                    UnsafeMutableRawBufferPointer(rebasing: destination[total..<(total + count)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: pages[from..<(from + count)]))
                }
                total += count
                slot.offset += count
                slot.length -= count
                state.bytes -= count
                let endsRead = slot.packet
                if slot.packet {
                    // The rest of a packet that did not fit is dropped.
                    state.bytes -= slot.length
                    slot.length = 0
                }
                state.slots[state.tail] = slot
                if slot.length == 0 {
                    state.tail = (state.tail + 1) % slotCount
                    state.used -= 1
                }
                if endsRead { break }
            }
            waiter.broadcast()
            return total
        }
    }

    /// Writes `source`; `packet` when the writer's description has O_DIRECT.
    public func write(from source: UnsafeRawBufferPointer, nonBlocking: Bool, packet: Bool = false)
        throws(Errno) -> Int
    {
        guard source.count > 0 else { return 0 }
        return try lock.withLock { (state, waiter) throws(Errno) -> Int in
            if state.readers == 0 { throw Errno.brokenPipe }
            if state.pages.isEmpty {
                state.pages = [UInt8](repeating: 0, count: slotCount * Pipe.bufferSize)
                state.slots = [Slot](repeating: Slot(), count: slotCount)
            }
            var written = 0
            let leading = source.count % Pipe.bufferSize
            if leading > 0 && state.used > 0 {
                let last = (state.tail + state.used - 1) % slotCount
                let slot = state.slots[last]
                if !slot.packet && slot.offset + slot.length + leading <= Pipe.bufferSize {
                    copy(source[0..<leading], into: &state, slot: last, at: slot.offset + slot.length)
                    state.slots[last].length += leading
                    state.bytes += leading
                    written = leading
                    waiter.broadcast()
                }
            }
            while written < source.count {
                if state.readers == 0 {
                    if written > 0 { return written }
                    throw Errno.brokenPipe
                }
                if state.used < slotCount {
                    let count = min(Pipe.bufferSize, source.count - written)
                    let index = (state.tail + state.used) % slotCount
                    copy(source[written..<(written + count)], into: &state, slot: index, at: 0)
                    state.slots[index] = Slot(offset: 0, length: count, packet: packet)
                    state.used += 1
                    state.bytes += count
                    written += count
                    waiter.broadcast()
                    continue
                }
                if nonBlocking {
                    if written > 0 { return written }
                    throw Errno.resourceTemporarilyUnavailable
                }
                waiter.wait()
            }
            return written
        }
    }

    private func copy(_ bytes: Slice<UnsafeRawBufferPointer>, into state: inout State, slot: Int, at offset: Int) {
        let start = slot * Pipe.bufferSize + offset
        state.pages.withUnsafeMutableBytes { pages in
            UnsafeMutableRawBufferPointer(rebasing: pages[start..<(start + bytes.count)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes))
        }
    }
}

/// One end (or both) of a pipe as an open file.
public final class PipeFile: FileDescriptionImpl {
    public let pipe: Pipe
    /// A FIFO's end (opened by path) rather than one made by pipe(2): Linux gives only the
    /// latter FMODE_NOWAIT, so RWF_NOWAIT on a FIFO is EOPNOTSUPP.
    public let isFIFO: Bool
    let reading: Bool
    let writing: Bool
    /// The status flags that change how the pipe is used: O_NONBLOCK and O_DIRECT (packet
    /// mode for this end's writes); F_SETFL may change both.
    private let modes: Mutex<(nonBlocking: Bool, packet: Bool)>

    /// Opens an end of `pipe`; for a FIFO this may wait for the other end (see `Pipe.open`).
    public init(pipe: Pipe, options: OpenOptions, isFIFO: Bool) throws(Errno) {
        // Register the end before initializing anything: when `open` refuses (ENXIO for a
        // writer without readers), no property is set, so `deinit` does not run and does not
        // unregister an end that was never registered.
        try pipe.open(
            reading: options.isReadable, writing: options.isWritable,
            nonBlocking: options.isNonBlocking, isFIFO: isFIFO)
        self.pipe = pipe
        self.isFIFO = isFIFO
        self.reading = options.isReadable
        self.writing = options.isWritable
        self.modes = Mutex((options.isNonBlocking, options.has(OpenOptions.direct)))
    }

    public var isSeekable: Bool { false }
    public var pipeEnd: PipeFile? { self }

    public func statusFlagsChanged(_ flags: Int32) {
        modes.withLock {
            $0 = (flags & OpenOptions.nonBlocking != 0, flags & OpenOptions.direct != 0)
        }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno)
        -> Int
    {
        try pipe.read(into: buffer, nonBlocking: modes.withLock { $0.nonBlocking })
    }

    public func write(
        from buffer: UnsafeRawBufferPointer, at offset: Int64, append: Bool,
        credentials: Credentials
    ) throws(Errno) -> (count: Int, end: Int64) {
        let (nonBlocking, packet) = modes.withLock { ($0.nonBlocking, $0.packet) }
        let count = try pipe.write(from: buffer, nonBlocking: nonBlocking, packet: packet)
        return (count, offset)
    }

    /// The end closes when this object goes: after the description's last reference.
    deinit {
        pipe.close(reading: reading, writing: writing)
    }
}

import Synchronization

import Foundation
import Testing
import TmpfsBackend
import VFSCore

/// Pipes and FIFOs (fs/pipe.c semantics), through a FIFO made in tmpfs.
@Suite struct PipeTests {
    let context: FSContext

    init() throws {
        let vfs = VirtualFilesystem()
        let tmpfs = TmpfsFilesystem()
        context = FSContext(vfs: vfs, namespace: vfs.makeNamespace(root: tmpfs, rootDentry: tmpfs.root))
        try context.makeNode("/fifo", mode: FileType.fifo.rawValue | 0o666)
    }

    func write(_ file: FileDescription, _ bytes: [UInt8]) throws -> Int {
        try bytes.withUnsafeBytes { try file.write(from: $0, credentials: .root) }
    }

    func read(_ file: FileDescription, count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let got = try buffer.withUnsafeMutableBytes { try file.read(into: $0) }
        return Array(buffer[0..<got])
    }

    @Test func nonBlockingWriterWithoutReaderIsENXIO() throws {
        #expect(throws: Errno.noSuchAddressOrDevice) {
            _ = try context.open("/fifo", flags: OpenOptions.writeOnly | OpenOptions.nonBlocking)
        }
    }

    @Test func bytesWrittenAreReadInOrder() throws {
        let reader = try context.open("/fifo", flags: OpenOptions.readOnly | OpenOptions.nonBlocking)
        let writer = try context.open("/fifo", flags: OpenOptions.writeOnly)
        #expect(try write(writer, [1, 2, 3]) == 3)
        #expect(try write(writer, [4]) == 1)
        #expect(try read(reader, count: 10) == [1, 2, 3, 4])
    }

    @Test func emptyPipeIsEAGAINWhileAWriterExistsAndEOFAfter() throws {
        let reader = try context.open("/fifo", flags: OpenOptions.readOnly | OpenOptions.nonBlocking)
        var writer: FileDescription? = try context.open("/fifo", flags: OpenOptions.writeOnly)
        #expect(throws: Errno.resourceTemporarilyUnavailable) { _ = try read(reader, count: 1) }
        _ = writer
        writer = nil
        #expect(try read(reader, count: 1) == [])
    }

    @Test func writeWithoutReadersIsEPIPE() throws {
        var reader: FileDescription? = try context.open(
            "/fifo", flags: OpenOptions.readOnly | OpenOptions.nonBlocking)
        let writer = try context.open("/fifo", flags: OpenOptions.writeOnly)
        _ = reader
        reader = nil
        #expect(throws: Errno.brokenPipe) { _ = try write(writer, [1]) }
    }

    @Test func fullPipeIsEAGAINForNonBlockingWriters() throws {
        let reader = try context.open("/fifo", flags: OpenOptions.readOnly | OpenOptions.nonBlocking)
        let writer = try context.open("/fifo", flags: OpenOptions.writeOnly | OpenOptions.nonBlocking)
        let big = [UInt8](repeating: 9, count: Pipe.defaultCapacity + 100)
        // A large write is split: it fills the pipe and reports how much went in.
        #expect(try write(writer, big) == Pipe.defaultCapacity)
        #expect(throws: Errno.resourceTemporarilyUnavailable) { _ = try write(writer, [1]) }
        #expect(try read(reader, count: 10).count == 10)
        // An atomic (<= PIPE_BUF) write does not fit in 10 free bytes.
        #expect(throws: Errno.resourceTemporarilyUnavailable) {
            _ = try write(writer, [UInt8](repeating: 1, count: 100))
        }
    }

    @Test func seekAndPositionalIOAreESPIPE() throws {
        let file = try context.open("/fifo", flags: OpenOptions.readWrite)
        #expect(throws: Errno.illegalSeek) { _ = try file.seek(0, whence: .set) }
        var byte: [UInt8] = [0]
        #expect(throws: Errno.illegalSeek) {
            _ = try byte.withUnsafeMutableBytes { try file.read(into: $0, at: 0) }
        }
    }

    @Test func blockingReaderOpenWaitsForAWriter() throws {
        let opened = DispatchSemaphore(value: 0)
        let written = DispatchSemaphore(value: 0)
        let context = self.context
        let thread = Thread {
            let reader = try? context.open("/fifo", flags: OpenOptions.readOnly)
            opened.signal()
            written.wait()
            withExtendedLifetime(reader) {}
        }
        thread.start()
        // The blocking writer's open waits for the reader, and the reader's for the writer:
        // both return only because the other end came.
        let writer = try context.open("/fifo", flags: OpenOptions.writeOnly)
        opened.wait()
        #expect(try write(writer, [1]) == 1)
        written.signal()
    }

    @Test func blockingReadWaitsForData() throws {
        let reader = try context.open("/fifo", flags: OpenOptions.readWrite)
        let writer = try context.open("/fifo", flags: OpenOptions.writeOnly)
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<[UInt8]>([])
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 4)
            let got = (try? buffer.withUnsafeMutableBytes { try reader.read(into: $0) }) ?? 0
            result.withLock { $0 = Array(buffer[0..<got]) }
            done.signal()
        }
        thread.start()
        _ = try write(writer, [7, 8])
        done.wait()
        #expect(result.withLock { $0 } == [7, 8])
    }
}

import Synchronization

import Foundation
import HostBackend
import HostSyscalls
import Testing
import VFSCore

/// A host FIFO's times are stamped by the host kernel's own pipe I/O, as Linux stamps them:
/// open stamps nothing, a write that moves data stamps mtime and ctime, a read that returns
/// data stamps atime alone (relatime) — Linux 6.18 on tmpfs, checked with python's os module
/// on /dev/shm. The pauses only let the coarse clock tick, so that a stamp is visible.
@Suite struct HostFifoTests {
    private func fifo(_ box: HostSandbox, flags: Int32 = OpenOptions.readWrite) throws
        -> FileDescription
    {
        try box.context.makeNode("/p", mode: FileType.fifo.rawValue | 0o644)
        return try box.context.open("/p", flags: flags | OpenOptions.nonBlocking)
    }

    private func write(_ file: FileDescription, _ bytes: [UInt8]) throws {
        _ = try bytes.withUnsafeBytes { (raw) throws(Errno) -> Int in
            try file.write(from: raw, credentials: .root)
        }
    }

    private func read(_ file: FileDescription, _ count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let got = try buffer.withUnsafeMutableBytes { (raw) throws(Errno) -> Int in
            try file.read(into: raw)
        }
        return Array(buffer[..<got])
    }

    private func tick() { usleep(20_000) }

    @Test func readingStampsAccessTimeButNotChangeTime() throws {
        let box = try HostSandbox()
        let file = try fifo(box)
        try write(file, [1, 2, 3])
        let before = try box.hostStat("p")
        tick()
        #expect(try read(file, 3) == [1, 2, 3])
        let after = try box.hostStat("p")
        // Linux 6.18 on tmpfs: atime moves; mtime and ctime stay.
        #expect(after.accessTime != before.accessTime)
        #expect(after.modificationTime == before.modificationTime)
        #expect(after.changeTime == before.changeTime)
    }

    @Test func writingStampsModificationAndChangeTimesButNotAccessTime() throws {
        let box = try HostSandbox()
        let file = try fifo(box)
        let before = try box.hostStat("p")
        tick()
        try write(file, [7])
        let after = try box.hostStat("p")
        #expect(after.accessTime == before.accessTime)
        #expect(after.modificationTime != before.modificationTime)
        #expect(after.changeTime != before.changeTime)
    }

    @Test func openingStampsNothing() throws {
        let box = try HostSandbox()
        try box.context.makeNode("/p", mode: FileType.fifo.rawValue | 0o644)
        let before = try box.hostStat("p")
        tick()
        let file = try box.context.open("/p", flags: OpenOptions.readWrite)
        let after = try box.hostStat("p")
        #expect(after.accessTime == before.accessTime)
        #expect(after.modificationTime == before.modificationTime)
        #expect(after.changeTime == before.changeTime)
        _ = file
    }

    @Test func readingWithNoAccessTimeLeavesAccessTimeAlone() throws {
        let box = try HostSandbox()
        let file = try fifo(box, flags: OpenOptions.readWrite | OpenOptions.noAccessTime)
        try write(file, [1])
        let before = try box.hostStat("p")
        tick()
        #expect(try read(file, 1) == [1])
        #expect(try box.hostStat("p").accessTime == before.accessTime)
    }

    @Test func readingOnANoAccessTimeMountLeavesAccessTimeAlone() throws {
        let box = try HostSandbox(mountFlags: .noAccessTime)
        let file = try fifo(box)
        try write(file, [1])
        let before = try box.hostStat("p")
        tick()
        #expect(try read(file, 1) == [1])
        #expect(try box.hostStat("p").accessTime == before.accessTime)
    }

    @Test func sandboxBytesNeverReachAHostReaderAfterTheSandboxReadThem() throws {
        let box = try HostSandbox()
        let file = try fifo(box)
        try write(file, [1, 2, 3])
        #expect(try read(file, 3) == [1, 2, 3])
        // The host FIFO's copy went with the sandbox read: a host reader finds it empty.
        let host = try HostSyscall.openat(
            HostSyscall.currentDirectory, Array(box.host("p").utf8),
            flags: HostOpenFlags.readOnly | HostOpenFlags.nonBlocking)
        var buffer = [UInt8](repeating: 0, count: 8)
        #expect(throws: Errno.resourceTemporarilyUnavailable) {
            _ = try buffer.withUnsafeMutableBytes { (raw) throws(Errno) -> Int in
                try HostSyscall.read(host.rawValue, into: raw)
            }
        }
    }

    @Test func closingTheLastSandboxEndClosesTheHostFifo() throws {
        let box = try HostSandbox()
        do {
            let file = try fifo(box)
            try write(file, [1])
        }
        // No reader is left on the host FIFO: a non-blocking writer's open is ENXIO.
        #expect(throws: Errno.noSuchAddressOrDevice) {
            _ = try HostSyscall.openat(
                HostSyscall.currentDirectory, Array(box.host("p").utf8),
                flags: HostOpenFlags.writeOnly | HostOpenFlags.nonBlocking)
        }
    }
}

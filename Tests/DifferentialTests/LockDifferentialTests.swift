import DifferentialHarness
import Glibc
import Testing

/// fcntl record locks (F_GETLK/F_SETLK/F_SETLKW), open-file-description locks (F_OFD_*) and
/// flock(2). The harness has one process per side, so POSIX locks never conflict with each
/// other here (one owner); conflicts come from OFD locks, whose owner is the description (two
/// opens of a file are two owners, and an OFD lock and the process's POSIX lock are two
/// owners), and from flock between two descriptions. Blocking requests are only made where
/// nothing conflicts (a conflicting one would wait forever on both sides).
@Suite(.enabled(if: Diff.available, "needs root and /dev/shm"))
struct LockDifferentialTests {
    static let getlk: Int32 = 5
    static let setlk: Int32 = 6
    static let setlkw: Int32 = 7
    static let ofdGetlk: Int32 = 36
    static let ofdSetlk: Int32 = 37
    static let ofdSetlkw: Int32 = 38
    static let read: Int16 = 0
    static let write: Int16 = 1
    static let unlock: Int16 = 2

    /// f with 100 bytes, open read-write in fd#0 and fd#1 (two descriptions).
    var twoOpens: [Operation] {
        [
            .create("f"), .write(slot: 0, data: Array(repeating: 0x61, count: 100)),
            .open("f", flags: Diff.rdwr, mode: 0, slot: 1),
        ]
    }

    func lock(
        _ slot: Int, _ command: Int32, _ type: Int16, start: Int64 = 0, length: Int64 = 0,
        whence: Int16 = 0, pid: Int32 = 0
    )
        -> Operation
    {
        .lock(
            slot: slot, command: command,
            LockRequest(type: type, whence: whence, start: start, length: length, pid: pid))
    }

    // MARK: - fcntl record locks

    @Test func posixLocksOfOneProcessNeverConflict() throws {
        let report = try Diff.agree(
            twoOpens + [
                lock(0, Self.setlk, Self.write),
                lock(1, Self.setlk, Self.write, start: 10, length: 5),
                lock(1, Self.getlk, Self.write),
            ])
        #expect(
            report.steps.last?.kernel
                == .lock(LockRecord(type: Self.unlock, whence: 0, start: 0, length: 0, pid: 0)))
    }

    @Test func ofdLocksOfTwoDescriptionsConflict() throws {
        let report = try Diff.agree(
            twoOpens + [
                lock(0, Self.ofdSetlk, Self.write, start: 10, length: 20),
                lock(1, Self.ofdSetlk, Self.read, start: 25, length: 1),
                lock(1, Self.ofdGetlk, Self.read, start: 0, length: 0),
                lock(1, Self.ofdSetlk, Self.read, start: 30, length: 10),
            ])
        #expect(report.steps[4].kernel == Diff.fails(EAGAIN))
        #expect(
            report.steps[5].kernel
                == .lock(LockRecord(type: Self.write, whence: 0, start: 10, length: 20, pid: -1)))
    }

    @Test func anOFDLockConflictsWithTheProcesssPOSIXLock() throws {
        try Diff.agree(
            twoOpens + [
                lock(0, Self.setlk, Self.write, start: 0, length: 50),
                lock(1, Self.ofdSetlk, Self.read, start: 40, length: 20),
                lock(1, Self.ofdGetlk, Self.write, start: 45, length: 0),
                lock(1, Self.ofdSetlk, Self.read, start: 50, length: 0),
                lock(0, Self.setlk, Self.write, start: 60, length: 1),
                lock(0, Self.getlk, Self.read, start: 0, length: 0),
            ])
    }

    @Test func sharedLocksCoexist() throws {
        try Diff.agree(
            twoOpens + [
                lock(0, Self.ofdSetlk, Self.read), lock(1, Self.ofdSetlk, Self.read),
                lock(1, Self.ofdGetlk, Self.write), lock(0, Self.ofdSetlk, Self.write),
            ])
    }

    @Test func unlockingTheMiddleSplitsALock() throws {
        try Diff.agree(
            twoOpens + [
                lock(0, Self.setlk, Self.write, start: 0, length: 100),
                lock(0, Self.setlk, Self.unlock, start: 40, length: 20),
                lock(1, Self.ofdGetlk, Self.read, start: 0, length: 0),
                lock(1, Self.ofdGetlk, Self.read, start: 45, length: 0),
                lock(1, Self.ofdGetlk, Self.read, start: 45, length: 10),
            ])
    }

    @Test func closingAnyDescriptorDropsThePOSIXLocks() throws {
        try Diff.agree(
            twoOpens + [
                lock(0, Self.setlk, Self.write), .open("f", flags: Diff.rdonly, mode: 0, slot: 2),
                lock(1, Self.ofdGetlk, Self.write), .close(slot: 2),
                lock(1, Self.ofdGetlk, Self.write),
            ])
    }

    @Test func anOFDLockLivesAsLongAsItsDescription() throws {
        try Diff.agree(
            twoOpens + [
                lock(0, Self.ofdSetlk, Self.write, start: 5, length: 5), .dup(slot: 0, into: 3),
                .close(slot: 0), lock(1, Self.ofdGetlk, Self.write), .close(slot: 3),
                lock(1, Self.ofdGetlk, Self.write),
            ])
    }

    @Test func rangesFromTheOffsetAndTheEnd() throws {
        try Diff.agree(
            twoOpens + [
                .lseek(slot: 0, offset: 30, whence: SEEK_SET),
                lock(0, Self.ofdSetlk, Self.write, start: 5, length: 10, whence: Int16(SEEK_CUR)),
                lock(0, Self.ofdSetlk, Self.read, start: -10, length: 0, whence: Int16(SEEK_END)),
                lock(1, Self.ofdGetlk, Self.write, start: 0, length: 0),
                lock(1, Self.ofdGetlk, Self.write, start: 50, length: 0),
            ])
    }

    @Test func aNegativeLengthCoversTheBytesBefore() throws {
        try Diff.agree(
            twoOpens + [
                lock(0, Self.ofdSetlk, Self.write, start: 20, length: -5),
                lock(1, Self.ofdGetlk, Self.write, start: 0, length: 0),
                lock(1, Self.ofdSetlk, Self.write, start: 3, length: -5),
            ])
    }

    @Test func rangeErrors() throws {
        try Diff.agree(
            twoOpens + [
                lock(0, Self.setlk, Self.write, whence: 7),
                lock(0, Self.setlk, Self.write, start: -1, length: 1),
                lock(0, Self.setlk, Self.write, start: Int64.max, length: 2),
                lock(0, Self.setlk, Self.write, start: Int64.max, length: 1),
                lock(0, Self.ofdSetlk, Self.read, start: Int64.max - 10, length: 0),
                lock(0, Self.setlk, 9),
            ])
    }

    @Test func getlkWithUnlockIsEINVALButOFDGetlkTakesIt() throws {
        try Diff.agree(
            twoOpens + [
                lock(0, Self.ofdSetlk, Self.read, start: 0, length: 10),
                lock(0, Self.getlk, Self.unlock), lock(0, Self.ofdGetlk, Self.unlock),
                lock(1, Self.ofdGetlk, Self.unlock),
            ])
    }

    @Test func ofdCommandsNeedAZeroPid() throws {
        try Diff.last(
            twoOpens + [lock(0, Self.ofdSetlk, Self.write, pid: 1)], is: Diff.fails(EINVAL))
    }

    @Test func lockTypesNeedTheMatchingAccess() throws {
        try Diff.agree([
            .create("f"), .open("f", flags: Diff.rdonly, mode: 0, slot: 1),
            .open("f", flags: Diff.wronly, mode: 0, slot: 2),
            lock(1, Self.setlk, Self.write), lock(2, Self.setlk, Self.read),
            lock(1, Self.getlk, Self.write), lock(1, Self.setlk, Self.read),
            lock(2, Self.ofdSetlk, Self.write, start: 1, length: 1),
        ])
    }

    @Test func pathOnlyAndClosedDescriptorsAreEBADF() throws {
        try Diff.agree([
            .create("f"), .open("f", flags: Diff.pathOnly, mode: 0, slot: 1),
            lock(1, Self.getlk, Self.write), lock(1, Self.ofdSetlk, Self.write),
            lock(4, Self.setlk, Self.write),
        ])
    }

    @Test func blockingRequestsWithoutConflictSucceed() throws {
        try Diff.agree(
            twoOpens + [
                lock(0, Self.setlkw, Self.write, start: 0, length: 10),
                lock(1, Self.ofdSetlkw, Self.write, start: 10, length: 10),
                lock(1, Self.ofdGetlk, Self.write),
                lock(0, Self.ofdGetlk, Self.write, start: 15, length: 1),
            ])
    }

    @Test func locksWorkOnDirectoriesOpenForReading() throws {
        try Diff.agree([
            .mkdir("d", mode: 0o755), .open("d", flags: Diff.rdonly, mode: 0, slot: 1),
            lock(1, Self.setlk, Self.read), lock(1, Self.setlk, Self.write),
            .open("d", flags: Diff.rdonly, mode: 0, slot: 2), lock(2, Self.ofdGetlk, Self.write),
        ])
    }

    @Test func aUserLocksWhatItCanOpen() throws {
        try Diff.agree(
            Diff.asUser(
                [.create("f", mode: 0o644)],
                then: [
                    .open("f", flags: Diff.rdonly, mode: 0, slot: 1),
                    lock(1, Self.setlk, Self.read), lock(1, Self.setlk, Self.write),
                    .open("f", flags: Diff.rdonly, mode: 0, slot: 2),
                    lock(2, Self.ofdGetlk, Self.write),
                ]),
            RunConfiguration(identity: .root, rootMode: 0o777))
    }

    // MARK: - flock

    static let shared: Int32 = 1
    static let exclusive: Int32 = 2
    static let nonBlocking: Int32 = 4
    static let unlockAll: Int32 = 8

    @Test func flockOfTwoDescriptionsConflicts() throws {
        try Diff.agree(
            twoOpens + [
                .flock(slot: 0, operation: Self.exclusive | Self.nonBlocking),
                .flock(slot: 1, operation: Self.exclusive | Self.nonBlocking),
                .flock(slot: 1, operation: Self.shared | Self.nonBlocking),
                .flock(slot: 0, operation: Self.unlockAll),
                .flock(slot: 1, operation: Self.exclusive | Self.nonBlocking),
            ])
    }

    @Test func sharedFlocksCoexistAndAFailedUpgradeDropsTheLock() throws {
        try Diff.agree(
            twoOpens + [
                .flock(slot: 0, operation: Self.shared), .flock(slot: 1, operation: Self.shared),
                .flock(slot: 0, operation: Self.exclusive | Self.nonBlocking),
                .flock(slot: 1, operation: Self.exclusive | Self.nonBlocking),
            ])
    }

    @Test func aDupSharesTheFlock() throws {
        try Diff.agree(
            twoOpens + [
                .flock(slot: 0, operation: Self.exclusive), .dup(slot: 0, into: 2),
                .flock(slot: 2, operation: Self.exclusive | Self.nonBlocking), .close(slot: 0),
                .flock(slot: 1, operation: Self.shared | Self.nonBlocking), .close(slot: 2),
                .flock(slot: 1, operation: Self.shared | Self.nonBlocking),
            ])
    }

    @Test func flockAndRecordLocksAreIndependent() throws {
        try Diff.agree(
            twoOpens + [
                .flock(slot: 0, operation: Self.exclusive), lock(1, Self.ofdSetlk, Self.write),
                lock(0, Self.setlk, Self.write, start: 200, length: 1),
            ])
    }

    @Test func flockOperationErrors() throws {
        try Diff.agree(
            twoOpens + [
                .open("f", flags: Diff.pathOnly, mode: 0, slot: 2),
                .flock(slot: 0, operation: 0), .flock(slot: 0, operation: Self.nonBlocking),
                .flock(slot: 0, operation: Self.shared | Self.exclusive),
                .flock(slot: 4, operation: 32), .flock(slot: 4, operation: Self.shared),
                .flock(slot: 2, operation: Self.shared), .flock(slot: 2, operation: Self.unlockAll),
            ])
    }

    @Test func aUserMayFlockAFileItCanOnlyRead() throws {
        try Diff.agree(
            Diff.asUser(
                [.create("f", mode: 0o644)],
                then: [
                    .open("f", flags: Diff.rdonly, mode: 0, slot: 1),
                    .open("f", flags: Diff.rdonly, mode: 0, slot: 2),
                    .flock(slot: 1, operation: Self.exclusive | Self.nonBlocking),
                    .flock(slot: 2, operation: Self.shared | Self.nonBlocking),
                ]),
            RunConfiguration(identity: .root, rootMode: 0o777))
    }
}

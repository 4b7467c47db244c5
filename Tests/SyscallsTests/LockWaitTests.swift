import Foundation
import Testing
import VFSCore

@testable import Syscalls

/// Runs a blocking call on a thread of its own.
final class LockBackground: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var result: Result<Void, Errno>?

    init(_ body: @escaping @Sendable () throws(Errno) -> Void) {
        Thread { [self] in
            let outcome = Result { () throws(Errno) in try body() }
            lock.withLock { result = outcome }
            done.signal()
        }.start()
    }

    var finished: Bool { lock.withLock { result != nil } }

    /// Waits for the call to return; ETIMEDOUT if it is still asleep after a minute, so that a
    /// lost wake-up fails the test instead of hanging it.
    func join() -> Result<Void, Errno> {
        guard done.wait(timeout: .now() + 60) == .success else { return .failure(.timedOut) }
        done.signal()
        return lock.withLock { result } ?? .failure(.noFunction)
    }
}

/// Waits until `count` blocking lock requests are asleep in `kernel` (false if they never are,
/// after long enough that something is broken).
func sleepersReach(_ count: Int, in kernel: Kernel) -> Bool {
    for _ in 0..<20_000 {
        if kernel.locks.sleeperCount >= count { return true }
        usleep(500)
    }
    return false
}

/// F_SETLKW, F_OFD_SETLKW and blocking flock: sleeping until the conflict goes, and EDEADLK.
@Suite struct LockWaitTests {
    @Test func setlkwSleepsUntilTheHolderUnlocks() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        let fb = try w.b.open("/f", lockRDWR)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: 0, length: 10)
        let waiter = LockBackground { () throws(Errno) in
            try fcntlLock(w.b, fb, Linux.F_SETLKW, Linux.F_WRLCK, start: 5, length: 1)
        }
        #expect(sleepersReach(1, in: w.kernel))
        #expect(!waiter.finished)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_UNLCK)
        #expect(throws: Never.self) { try waiter.join().get() }
        #expect(try lockConflict(w.a, fa) == heldLock(Linux.F_WRLCK, 5, 1, pid: w.b.id))
    }

    @Test func setlkwWakesWhenTheHolderClosesADescriptorOfTheFile() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        let other = try w.a.open("/g", OpenOptions.readOnly)
        let fb = try w.b.open("/f", lockRDWR)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_RDLCK)
        let waiter = LockBackground { () throws(Errno) in
            try fcntlLock(w.b, fb, Linux.F_SETLKW, Linux.F_WRLCK)
        }
        #expect(sleepersReach(1, in: w.kernel))
        try w.a.close(other)
        #expect(throws: Never.self) { try waiter.join().get() }
    }

    @Test func setlkwWhoseDescriptorClosedWhileAsleepIsEBADFAndHoldsNothing() throws {
        // Linux 6.18 on tmpfs: a thread sleeps in F_SETLKW, another closes the fd, the holder
        // unlocks: the sleeper gets EBADF (fcntl_setlk's close race check).
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        let fb = try w.b.open("/f", lockRDWR)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK)
        let waiter = LockBackground { () throws(Errno) in
            try fcntlLock(w.b, fb, Linux.F_SETLKW, Linux.F_WRLCK)
        }
        #expect(sleepersReach(1, in: w.kernel))
        try w.b.close(fb)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_UNLCK)
        #expect(throws: Errno.badFileDescriptor) { try waiter.join().get() }
        #expect(try lockConflict(w.a, fa).type == Linux.F_UNLCK)
    }

    @Test func ofdSetlkwWakesWhenTheHoldingDescriptionIsReleased() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        let fb = try w.a.open("/f", lockRDWR)
        try fcntlLock(w.a, fa, Linux.F_OFD_SETLK, Linux.F_WRLCK)
        let waiter = LockBackground { () throws(Errno) in
            try fcntlLock(w.a, fb, Linux.F_OFD_SETLKW, Linux.F_RDLCK)
        }
        #expect(sleepersReach(1, in: w.kernel))
        #expect(!waiter.finished)
        try w.a.close(fa)
        #expect(throws: Never.self) { try waiter.join().get() }
    }

    @Test func waitingThatWouldCloseACycleOfTwoProcessesIsEDEADLK() throws {
        // Linux 6.18 on tmpfs: A holds byte 0, B holds byte 1 and waits for 0; A's F_SETLKW on 1
        // is EDEADLK, its F_SETLK EAGAIN.
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        let fb = try w.b.open("/f", lockRDWR)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: 0, length: 1)
        try fcntlLock(w.b, fb, Linux.F_SETLK, Linux.F_WRLCK, start: 1, length: 1)
        let waiter = LockBackground { () throws(Errno) in
            try fcntlLock(w.b, fb, Linux.F_SETLKW, Linux.F_WRLCK, start: 0, length: 1)
        }
        #expect(sleepersReach(1, in: w.kernel))
        let attempt = LockBackground { () throws(Errno) in
            try fcntlLock(w.a, fa, Linux.F_SETLKW, Linux.F_WRLCK, start: 1, length: 1)
        }
        #expect(throws: Errno.deadlock) { try attempt.join().get() }
        #expect(throws: Errno.resourceTemporarilyUnavailable) {
            try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: 1, length: 1)
        }
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_UNLCK)
        #expect(throws: Never.self) { try waiter.join().get() }
    }

    @Test func waitingThatWouldCloseACycleOfThreeProcessesIsEDEADLK() throws {
        // Linux 6.18: A holds 0; B holds 1 and waits for 0; C holds 2 and waits for 1. A's
        // F_SETLKW on 2 is EDEADLK, and so is a read lock over 0-9, whose first conflict is
        // B's lock.
        let w = try LockWorld()
        let c = w.process()
        let fa = try w.a.open("/f", lockRDWR)
        let fb = try w.b.open("/f", lockRDWR)
        let fc = try c.open("/f", lockRDWR)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: 0, length: 1)
        try fcntlLock(w.b, fb, Linux.F_SETLK, Linux.F_WRLCK, start: 1, length: 1)
        try fcntlLock(c, fc, Linux.F_SETLK, Linux.F_WRLCK, start: 2, length: 1)
        let waiterB = LockBackground { () throws(Errno) in
            try fcntlLock(w.b, fb, Linux.F_SETLKW, Linux.F_WRLCK, start: 0, length: 1)
        }
        #expect(sleepersReach(1, in: w.kernel))
        let waiterC = LockBackground { () throws(Errno) in
            try fcntlLock(c, fc, Linux.F_SETLKW, Linux.F_WRLCK, start: 1, length: 1)
        }
        #expect(sleepersReach(2, in: w.kernel))
        let attempt = LockBackground { () throws(Errno) in
            try fcntlLock(w.a, fa, Linux.F_SETLKW, Linux.F_WRLCK, start: 2, length: 1)
        }
        #expect(throws: Errno.deadlock) { try attempt.join().get() }
        let wider = LockBackground { () throws(Errno) in
            try fcntlLock(w.a, fa, Linux.F_SETLKW, Linux.F_RDLCK, start: 0, length: 10)
        }
        #expect(throws: Errno.deadlock) { try wider.join().get() }
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_UNLCK)
        #expect(throws: Never.self) { try waiterB.join().get() }
        try fcntlLock(w.b, fb, Linux.F_SETLK, Linux.F_UNLCK)
        #expect(throws: Never.self) { try waiterC.join().get() }
    }

    @Test func waitingBehindAnUnrelatedProcessIsNoDeadlock() throws {
        let w = try LockWorld()
        let c = w.process()
        let fa = try w.a.open("/f", lockRDWR)
        let fb = try w.b.open("/f", lockRDWR)
        let fc = try c.open("/f", lockRDWR)
        try fcntlLock(c, fc, Linux.F_SETLK, Linux.F_WRLCK, start: 0, length: 2)
        try fcntlLock(w.b, fb, Linux.F_SETLK, Linux.F_WRLCK, start: 5, length: 1)
        let waiterB = LockBackground { () throws(Errno) in
            try fcntlLock(w.b, fb, Linux.F_SETLKW, Linux.F_WRLCK, start: 0, length: 1)
        }
        #expect(sleepersReach(1, in: w.kernel))
        let waiterA = LockBackground { () throws(Errno) in
            try fcntlLock(w.a, fa, Linux.F_SETLKW, Linux.F_WRLCK, start: 5, length: 1)
        }
        #expect(sleepersReach(2, in: w.kernel))
        try fcntlLock(c, fc, Linux.F_SETLK, Linux.F_UNLCK)
        #expect(throws: Never.self) { try waiterB.join().get() }
        try fcntlLock(w.b, fb, Linux.F_SETLK, Linux.F_UNLCK)
        #expect(throws: Never.self) { try waiterA.join().get() }
    }

    @Test func blockingFlockSleepsUntilTheHolderUnlocks() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", OpenOptions.readOnly)
        let fb = try w.b.open("/f", OpenOptions.readOnly)
        try w.a.flock(fa, Linux.LOCK_EX)
        let waiter = LockBackground { () throws(Errno) in try w.b.flock(fb, Linux.LOCK_SH) }
        #expect(sleepersReach(1, in: w.kernel))
        #expect(!waiter.finished)
        try w.a.flock(fa, Linux.LOCK_UN)
        #expect(throws: Never.self) { try waiter.join().get() }
        #expect(throws: Errno.wouldBlock) { try w.a.flock(fa, Linux.LOCK_EX | Linux.LOCK_NB) }
    }

    @Test func blockingFlockWakesWhenTheHoldingDescriptionIsReleased() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", OpenOptions.readOnly)
        let fb = try w.b.open("/f", OpenOptions.readOnly)
        try w.a.flock(fa, Linux.LOCK_SH)
        let waiter = LockBackground { () throws(Errno) in try w.b.flock(fb, Linux.LOCK_EX) }
        #expect(sleepersReach(1, in: w.kernel))
        w.a.exit()
        #expect(throws: Never.self) { try waiter.join().get() }
    }
}

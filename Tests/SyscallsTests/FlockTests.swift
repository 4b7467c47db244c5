import Testing
import TmpfsBackend
import VFSCore

@testable import Syscalls

/// flock(2): whole-file locks owned by the open file description, independent of record locks.
@Suite struct FlockTests {
    @Test func sharedLocksOfTwoOpensCoexist() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", OpenOptions.readOnly)
        let fb = try w.b.open("/f", OpenOptions.readOnly)
        try w.a.flock(fa, Linux.LOCK_SH)
        try w.b.flock(fb, Linux.LOCK_SH | Linux.LOCK_NB)
    }

    @Test func exclusiveLockOfAnotherOpenIsEWOULDBLOCK() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", OpenOptions.readOnly)
        let fb = try w.b.open("/f", OpenOptions.readOnly)
        try w.a.flock(fa, Linux.LOCK_EX)
        #expect(throws: Errno.wouldBlock) { try w.b.flock(fb, Linux.LOCK_SH | Linux.LOCK_NB) }
        #expect(throws: Errno.wouldBlock) { try w.b.flock(fb, Linux.LOCK_EX | Linux.LOCK_NB) }
    }

    @Test func twoOpensInOneProcessConflict() throws {
        let w = try LockWorld()
        let f1 = try w.a.open("/f", OpenOptions.readOnly)
        let f2 = try w.a.open("/f", OpenOptions.readOnly)
        try w.a.flock(f1, Linux.LOCK_SH)
        #expect(throws: Errno.wouldBlock) { try w.a.flock(f2, Linux.LOCK_EX | Linux.LOCK_NB) }
    }

    @Test func hardLinksShareTheLock() throws {
        let w = try LockWorld()
        let f1 = try w.a.open("/f", OpenOptions.readOnly)
        let f2 = try w.b.open("/g", OpenOptions.readOnly)
        try w.a.flock(f1, Linux.LOCK_EX)
        #expect(throws: Errno.wouldBlock) { try w.b.flock(f2, Linux.LOCK_SH | Linux.LOCK_NB) }
    }

    @Test func dupedAndInheritedDescriptorsShareTheLock() throws {
        let w = try LockWorld()
        let f1 = try w.a.open("/f", OpenOptions.readOnly)
        let copy = try w.a.dup(f1)
        try w.a.flock(f1, Linux.LOCK_EX)
        try w.a.flock(copy, Linux.LOCK_EX | Linux.LOCK_NB)
        let child = w.a.clone()
        try child.flock(f1, Linux.LOCK_EX | Linux.LOCK_NB)
        // Unlocking through any of them unlocks the description.
        try child.flock(copy, Linux.LOCK_UN)
        let fb = try w.b.open("/f", OpenOptions.readOnly)
        try w.b.flock(fb, Linux.LOCK_EX | Linux.LOCK_NB)
    }

    @Test func convertingAnOnlyLockSucceeds() throws {
        let w = try LockWorld()
        let f1 = try w.a.open("/f", OpenOptions.readOnly)
        let f2 = try w.b.open("/f", OpenOptions.readOnly)
        try w.a.flock(f1, Linux.LOCK_SH)
        try w.a.flock(f1, Linux.LOCK_EX | Linux.LOCK_NB)
        #expect(throws: Errno.wouldBlock) { try w.b.flock(f2, Linux.LOCK_SH | Linux.LOCK_NB) }
        try w.a.flock(f1, Linux.LOCK_SH)
        try w.b.flock(f2, Linux.LOCK_SH | Linux.LOCK_NB)
    }

    @Test func failedConversionLosesTheHeldLock() throws {
        // Linux 6.18 on tmpfs: SH held by two opens; EX|NB on the first is EWOULDBLOCK, after
        // which the second can take EX: the first's SH was dropped before the attempt.
        let w = try LockWorld()
        let f1 = try w.a.open("/f", OpenOptions.readOnly)
        let f2 = try w.b.open("/f", OpenOptions.readOnly)
        try w.a.flock(f1, Linux.LOCK_SH)
        try w.b.flock(f2, Linux.LOCK_SH)
        #expect(throws: Errno.wouldBlock) { try w.a.flock(f1, Linux.LOCK_EX | Linux.LOCK_NB) }
        try w.b.flock(f2, Linux.LOCK_EX | Linux.LOCK_NB)
    }

    @Test func lockGoesWhenTheDescriptionIsReleased() throws {
        let w = try LockWorld()
        let f1 = try w.a.open("/f", OpenOptions.readOnly)
        let copy = try w.a.dup(f1)
        let fb = try w.b.open("/f", OpenOptions.readOnly)
        try w.a.flock(f1, Linux.LOCK_EX)
        try w.a.close(f1)
        #expect(throws: Errno.wouldBlock) { try w.b.flock(fb, Linux.LOCK_EX | Linux.LOCK_NB) }
        try w.a.close(copy)
        try w.b.flock(fb, Linux.LOCK_EX | Linux.LOCK_NB)
    }

    @Test func flockAndRecordLocksDoNotInteract() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        let fb = try w.b.open("/f", lockRDWR)
        try w.a.flock(fa, Linux.LOCK_EX)
        try fcntlLock(w.b, fb, Linux.F_SETLK, Linux.F_WRLCK)
        try w.a.flock(fa, Linux.LOCK_SH | Linux.LOCK_NB)
        #expect(throws: Errno.resourceTemporarilyUnavailable) {
            try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK)
        }
    }

    @Test func unlockWithoutALockSucceeds() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", OpenOptions.readOnly)
        try w.a.flock(fa, Linux.LOCK_UN)
        try w.a.flock(fa, Linux.LOCK_UN | Linux.LOCK_NB)
        #expect(w.kernel.locks.lockedFileCount == 0)
    }

    @Test func unknownOperationsAreEINVALBeforeTheDescriptorIsLookedUp() throws {
        // Linux 6.18: flock(-1, LOCK_SH|LOCK_EX), flock(fd, 0), flock(fd, LOCK_NB) and
        // flock(fd, 64|LOCK_SH) are EINVAL; flock(-1, LOCK_SH) is EBADF.
        let w = try LockWorld()
        let fa = try w.a.open("/f", OpenOptions.readOnly)
        #expect(throws: Errno.invalidArgument) { try w.a.flock(-1, Linux.LOCK_SH | Linux.LOCK_EX) }
        #expect(throws: Errno.invalidArgument) { try w.a.flock(fa, 0) }
        #expect(throws: Errno.invalidArgument) { try w.a.flock(fa, Linux.LOCK_NB) }
        #expect(throws: Errno.invalidArgument) { try w.a.flock(fa, 64 | Linux.LOCK_SH) }
        #expect(throws: Errno.badFileDescriptor) { try w.a.flock(-1, Linux.LOCK_SH) }
    }

    @Test func lockMandRequestsAreIgnored() throws {
        // Linux 6.18: flock(-1, LOCK_MAND) and flock(fd, -1) return 0 and lock nothing.
        let w = try LockWorld()
        let fa = try w.a.open("/f", OpenOptions.readOnly)
        try w.a.flock(-1, Linux.LOCK_MAND)
        try w.a.flock(fa, -1)
        #expect(w.kernel.locks.lockedFileCount == 0)
    }

    @Test func pathOnlyDescriptorIsEBADFEvenToUnlock() throws {
        // Linux 6.18: LOCK_SH and LOCK_UN on an O_PATH fd are both EBADF.
        let w = try LockWorld()
        let path = try w.a.open("/f", OpenOptions.pathOnly)
        #expect(throws: Errno.badFileDescriptor) { try w.a.flock(path, Linux.LOCK_SH) }
        #expect(throws: Errno.badFileDescriptor) { try w.a.flock(path, Linux.LOCK_UN) }
    }

    @Test func directoriesCanBeLocked() throws {
        let w = try LockWorld()
        try w.a.fs.makeDirectory("/d")
        let d1 = try w.a.open("/d", OpenOptions.readOnly | OpenOptions.directory)
        let d2 = try w.b.open("/d", OpenOptions.readOnly | OpenOptions.directory)
        try w.a.flock(d1, Linux.LOCK_EX)
        #expect(throws: Errno.wouldBlock) { try w.b.flock(d2, Linux.LOCK_SH | Linux.LOCK_NB) }
    }
}

/// The flock entry and the fcntl lock helper, through raw registers and `BufferMemory`.
@Suite struct LockDispatcherTests {
    @Test func flockThroughTheDispatcher() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", OpenOptions.readOnly)
        let fb = try w.b.open("/f", OpenOptions.readOnly)
        let memory = BufferMemory()
        let da = SyscallDispatcher(task: w.a, memory: memory)
        let db = SyscallDispatcher(task: w.b, memory: memory)
        let flock = SyscallNumber.flock.rawValue
        #expect(da.dispatch(flock, SyscallArguments(UInt64(fa), UInt64(Linux.LOCK_EX))) == 0)
        let nonBlocking = UInt64(Linux.LOCK_SH | Linux.LOCK_NB)
        #expect(db.dispatch(flock, SyscallArguments(UInt64(fb), nonBlocking)) == -11)
        #expect(db.dispatch(flock, SyscallArguments(UInt64(fb), 3)) == -22)
        // The fd register is an unsigned int: all ones is no descriptor.
        #expect(db.dispatch(flock, SyscallArguments(UInt64(UInt32.max), 1)) == -9)
    }

    @Test func fcntlLockHelperReadsAndWritesTheStruct() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        let fb = try w.b.open("/f", lockRDWR)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_RDLCK, start: 2, length: 3)
        let memory = BufferMemory()
        let address = memory.map(LinuxFlock(type: Linux.F_WRLCK).bytes)
        #expect(try SyscallTable.fcntlLock(w.b, memory, fb, Linux.F_GETLK, address) == 0)
        let reported = LinuxFlock(bytes: memory.contents(at: address, count: LinuxFlock.size))
        #expect(reported == heldLock(Linux.F_RDLCK, 2, 3, pid: w.a.id))
        let set = memory.map(LinuxFlock(type: Linux.F_WRLCK, start: 4).bytes)
        #expect(throws: Errno.resourceTemporarilyUnavailable) {
            try SyscallTable.fcntlLock(w.b, memory, fb, Linux.F_SETLK, set)
        }
    }

    @Test func fcntlLockHelperFaultsOnABadPointerAfterCheckingTheDescriptor() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        let memory = BufferMemory()
        #expect(throws: Errno.badAddress) {
            try SyscallTable.fcntlLock(w.a, memory, fa, Linux.F_SETLK, 0x10)
        }
        #expect(throws: Errno.badFileDescriptor) {
            try SyscallTable.fcntlLock(w.a, memory, 77, Linux.F_SETLK, 0x10)
        }
        // A struct that runs off the end of its mapping faults too.
        let short = memory.map([UInt8](repeating: 0, count: 16))
        #expect(throws: Errno.badAddress) {
            try SyscallTable.fcntlLock(w.a, memory, fa, Linux.F_GETLK, short)
        }
    }
}

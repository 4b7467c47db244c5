import Foundation
import Testing
import TmpfsBackend
import VFSCore

@testable import Syscalls

/// Two processes (`a`, `b`) on one kernel, sharing a tmpfs holding /f ("0123456789") and /g, a
/// hard link to it.
final class LockWorld: Sendable {
    let kernel = Kernel()
    let a: Syscalls.Task
    let b: Syscalls.Task

    init() throws {
        let tmpfs = TmpfsFilesystem()
        let namespace = kernel.vfs.makeNamespace(root: tmpfs, rootDentry: tmpfs.root)
        a = Syscalls.Task(kernel: kernel, namespace: namespace)
        b = Syscalls.Task(kernel: kernel, namespace: namespace)
        try a.fs.writeFile("/f", contents: Array("0123456789".utf8))
        try a.fs.makeLink(existing: "/f", new: "/g")
    }

    /// A third process on the same files.
    func process() -> Syscalls.Task { a.clone() }
}

let lockRDWR = OpenOptions.readWrite

/// fcntl(fd, command, &lock) with the fields given; returns the struct as the call left it.
@discardableResult
func fcntlLock(
    _ task: Syscalls.Task, _ fd: Int32, _ command: Int32, _ type: Int16, start: Int64 = 0,
    length: Int64 = 0, whence: Int32 = Linux.SEEK_SET, pid: Int32 = 0
) throws(Errno) -> LinuxFlock {
    var lock = LinuxFlock(type: type, whence: Int16(whence), start: start, length: length, pid: pid)
    try task.fcntlLock(fd, command, &lock)
    return lock
}

/// F_GETLK as `task` for a write lock over [start, start + length).
func lockConflict(_ task: Syscalls.Task, _ fd: Int32, start: Int64 = 0, length: Int64 = 0)
    throws(Errno)
    -> LinuxFlock
{
    try fcntlLock(task, fd, Linux.F_GETLK, Linux.F_WRLCK, start: start, length: length)
}

/// What F_GETLK reports for a lock held by `pid`.
func heldLock(_ type: Int16, _ start: Int64, _ length: Int64, pid: Int32) -> LinuxFlock {
    LinuxFlock(type: type, whence: 0, start: start, length: length, pid: pid)
}

@Suite struct FileLockTests {
    // MARK: - struct flock

    @Test func flockStructLayoutMatchesX86_64() {
        // offsetof on x86-64 glibc: l_type 0, l_whence 2, l_start 8, l_len 16, l_pid 24; size 32.
        let lock = LinuxFlock(
            type: 1, whence: 2, start: 0x0102_0304_0506_0708, length: -2, pid: 0x1234)
        let bytes = lock.bytes
        #expect(bytes.count == 32)
        #expect(Array(bytes[0..<4]) == [1, 0, 2, 0])
        #expect(Array(bytes[8..<16]) == [8, 7, 6, 5, 4, 3, 2, 1])
        #expect(Array(bytes[16..<24]) == [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(Array(bytes[24..<32]) == [0x34, 0x12, 0, 0, 0, 0, 0, 0])
        #expect(LinuxFlock(bytes: bytes) == lock)
    }

    // MARK: - Conflicts

    @Test func overlappingWriteLockOfAnotherProcessIsEAGAIN() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        let fb = try w.b.open("/f", lockRDWR)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: 0, length: 10)
        // Linux 6.18 on tmpfs gives EAGAIN (not EACCES) for F_SETLK.
        #expect(throws: Errno.resourceTemporarilyUnavailable) {
            try fcntlLock(w.b, fb, Linux.F_SETLK, Linux.F_RDLCK, start: 9, length: 1)
        }
        try fcntlLock(w.b, fb, Linux.F_SETLK, Linux.F_WRLCK, start: 10, length: 5)
    }

    @Test func readLocksShareButExcludeWriters() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        let fb = try w.b.open("/f", lockRDWR)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_RDLCK)
        try fcntlLock(w.b, fb, Linux.F_SETLK, Linux.F_RDLCK, start: 3, length: 2)
        #expect(throws: Errno.resourceTemporarilyUnavailable) {
            try fcntlLock(w.b, fb, Linux.F_SETLK, Linux.F_WRLCK, start: 100)
        }
    }

    @Test func getlkReportsTheConflictingLock() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        let fb = try w.b.open("/f", lockRDWR)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_RDLCK, start: 20, length: 10)
        #expect(try lockConflict(w.b, fb) == heldLock(Linux.F_RDLCK, 20, 10, pid: w.a.id))
        // A read lock does not conflict with a read probe.
        let probe = try fcntlLock(w.b, fb, Linux.F_GETLK, Linux.F_RDLCK)
        #expect(probe.type == Linux.F_UNLCK)
    }

    @Test func getlkWithoutConflictChangesOnlyTheType() throws {
        // Linux 6.18 on tmpfs: l_whence, l_start, l_len and l_pid come back as given.
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        let result = try fcntlLock(
            w.a, fa, Linux.F_GETLK, Linux.F_WRLCK, start: 3, length: -2, whence: Linux.SEEK_CUR,
            pid: 77)
        #expect(result == LinuxFlock(type: Linux.F_UNLCK, whence: 1, start: 3, length: -2, pid: 77))
    }

    @Test func getlkReportsLocksInTheOrderTheirOwnersFirstLocked() throws {
        // Linux 6.18: A locks [50,59], B then [10,19]: a probe of the whole file sees A's lock;
        // A adding [0,4] is seen next; after A unlocks all and relocks [70], B's comes first.
        let w = try LockWorld()
        let c = w.process()
        let fa = try w.a.open("/f", lockRDWR)
        let fb = try w.b.open("/f", lockRDWR)
        let fc = try c.open("/f", lockRDWR)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: 50, length: 10)
        try fcntlLock(w.b, fb, Linux.F_SETLK, Linux.F_WRLCK, start: 10, length: 10)
        #expect(try lockConflict(c, fc) == heldLock(Linux.F_WRLCK, 50, 10, pid: w.a.id))
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: 0, length: 5)
        #expect(try lockConflict(c, fc) == heldLock(Linux.F_WRLCK, 0, 5, pid: w.a.id))
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_UNLCK)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: 70, length: 1)
        #expect(try lockConflict(c, fc) == heldLock(Linux.F_WRLCK, 10, 10, pid: w.b.id))
    }

    @Test func aProcessNeverConflictsWithItselfAcrossThreadsAndDescriptors() throws {
        let w = try LockWorld()
        let thread = w.a.clone(shareFiles: true, shareFS: true, sameProcess: true)
        let f1 = try w.a.open("/f", lockRDWR)
        let f2 = try thread.open("/g", lockRDWR)
        try fcntlLock(w.a, f1, Linux.F_SETLK, Linux.F_WRLCK)
        try fcntlLock(thread, f2, Linux.F_SETLK, Linux.F_WRLCK, start: 5, length: 1)
        #expect(try lockConflict(thread, f2).type == Linux.F_UNLCK)
        // The thread's lock replaced part of the process's lock: still one owner.
        let fb = try w.b.open("/f", lockRDWR)
        #expect(try lockConflict(w.b, fb) == heldLock(Linux.F_WRLCK, 0, 0, pid: w.a.id))
    }

    @Test func forkedChildDoesNotShareItsParentsRecordLocks() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK)
        let child = w.a.clone()
        #expect(throws: Errno.resourceTemporarilyUnavailable) {
            try fcntlLock(child, fa, Linux.F_SETLK, Linux.F_WRLCK)
        }
        // The child closing its copy of the descriptor releases only its own locks.
        try child.close(fa)
        let fb = try w.b.open("/f", lockRDWR)
        #expect(try lockConflict(w.b, fb).pid == w.a.id)
    }

    // MARK: - Splitting and merging

    @Test func changingTheTypeInsideALockSplitsIt() throws {
        // Linux 6.18: WR [0,9], then RD at 6: probes see WR [0,5], RD [6], WR [7,9].
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        let fb = try w.b.open("/f", lockRDWR)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: 0, length: 10)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_RDLCK, start: 6, length: 1)
        #expect(try lockConflict(w.b, fb) == heldLock(Linux.F_WRLCK, 0, 6, pid: w.a.id))
        #expect(
            try lockConflict(w.b, fb, start: 6, length: 1)
                == heldLock(Linux.F_RDLCK, 6, 1, pid: w.a.id))
        #expect(
            try lockConflict(w.b, fb, start: 7, length: 1)
                == heldLock(Linux.F_WRLCK, 7, 3, pid: w.a.id))
        try fcntlLock(w.b, fb, Linux.F_SETLK, Linux.F_RDLCK, start: 6, length: 1)
    }

    @Test func unlockingTheMiddleOfALockSplitsIt() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        let fb = try w.b.open("/f", lockRDWR)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_UNLCK, start: 3, length: 2)
        try fcntlLock(w.b, fb, Linux.F_SETLK, Linux.F_WRLCK, start: 3, length: 2)
        #expect(
            try lockConflict(w.b, fb, start: 0, length: 3)
                == heldLock(Linux.F_WRLCK, 0, 3, pid: w.a.id))
        #expect(try lockConflict(w.b, fb, start: 5) == heldLock(Linux.F_WRLCK, 5, 0, pid: w.a.id))
    }

    @Test func adjacentLocksOfOneTypeMerge() throws {
        // Linux 6.18: WR [0,4] then WR [5,9] is reported as one lock [0,9].
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        let fb = try w.b.open("/f", lockRDWR)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: 0, length: 5)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: 5, length: 5)
        #expect(try lockConflict(w.b, fb) == heldLock(Linux.F_WRLCK, 0, 10, pid: w.a.id))
        #expect(w.kernel.locks.recordLocks(on: try w.a.files.get(fa)).count == 1)
    }

    @Test func aLockBridgingTwoOthersOfItsTypeMergesAllThree() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_RDLCK, start: 0, length: 10)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: 3, length: 2)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_RDLCK, start: 3, length: 2)
        let locks = w.kernel.locks.recordLocks(on: try w.a.files.get(fa))
        #expect(locks.map { [$0.start, $0.end] } == [[0, 9]])
    }

    // MARK: - Ranges

    @Test func seekCurCountsFromTheDescriptionOffset() throws {
        // Linux 6.18: offset 4, SEEK_CUR, l_start -2, l_len 3 locks [2,4].
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        let fb = try w.b.open("/f", lockRDWR)
        _ = try w.a.lseek(fa, 4, Linux.SEEK_SET)
        try fcntlLock(
            w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: -2, length: 3, whence: Linux.SEEK_CUR)
        #expect(try lockConflict(w.b, fb) == heldLock(Linux.F_WRLCK, 2, 3, pid: w.a.id))
    }

    @Test func seekEndCountsFromTheFileSize() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        let fb = try w.b.open("/f", lockRDWR)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: -3, whence: Linux.SEEK_END)
        #expect(try lockConflict(w.b, fb) == heldLock(Linux.F_WRLCK, 7, 0, pid: w.a.id))
    }

    @Test func negativeLengthLocksTheBytesBeforeStart() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        let fb = try w.b.open("/f", lockRDWR)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: 5, length: -3)
        #expect(try lockConflict(w.b, fb) == heldLock(Linux.F_WRLCK, 2, 3, pid: w.a.id))
    }

    @Test func lockToTheLargestOffsetIsAccepted() throws {
        // Linux 6.18: l_start INT64_MAX with l_len 1, and SEEK_END (size 10) with
        // l_start INT64_MAX - 10, are accepted.
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: Int64.max, length: 1)
        try fcntlLock(
            w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: Int64.max - 10, whence: Linux.SEEK_END)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: 1, length: Int64.max)
        let fb = try w.b.open("/f", lockRDWR)
        #expect(try lockConflict(w.b, fb) == heldLock(Linux.F_WRLCK, 1, 0, pid: w.a.id))
    }

    @Test func rangesPastTheLargestOffsetAreEOVERFLOW() throws {
        // Linux 6.18 on tmpfs gives EOVERFLOW for each, even with a bad l_type.
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        #expect(throws: Errno.overflow) {
            try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: Int64.max, length: 2)
        }
        #expect(throws: Errno.overflow) {
            try fcntlLock(
                w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: Int64.max, whence: Linux.SEEK_END)
        }
        #expect(throws: Errno.overflow) {
            try fcntlLock(w.a, fa, Linux.F_SETLK, 7, start: Int64.max, length: 2)
        }
    }

    @Test func rangesBeforeOffsetZeroAreEINVAL() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        #expect(throws: Errno.invalidArgument) {
            try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: -1)
        }
        #expect(throws: Errno.invalidArgument) {
            try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: 3, length: -5)
        }
        #expect(throws: Errno.invalidArgument) {
            try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: 3, length: Int64.min)
        }
        #expect(throws: Errno.invalidArgument) {
            try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: -11, whence: Linux.SEEK_END)
        }
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, start: 3, length: -3)
    }

    @Test func badWhenceTypeOrCommandIsEINVAL() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        #expect(throws: Errno.invalidArgument) {
            try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK, whence: 3)
        }
        #expect(throws: Errno.invalidArgument) { try fcntlLock(w.a, fa, Linux.F_SETLK, 7) }
        #expect(throws: Errno.invalidArgument) { try fcntlLock(w.a, fa, 99, Linux.F_WRLCK) }
        // F_GETLK takes only F_RDLCK and F_WRLCK.
        #expect(throws: Errno.invalidArgument) {
            try fcntlLock(w.a, fa, Linux.F_GETLK, Linux.F_UNLCK)
        }
        #expect(throws: Errno.invalidArgument) { try fcntlLock(w.a, fa, Linux.F_GETLK, 7) }
    }

    @Test func lockTypeNeedsTheMatchingAccessMode() throws {
        // Linux 6.18: F_WRLCK on O_RDONLY and F_RDLCK on O_WRONLY are EBADF; F_UNLCK and
        // F_GETLK need no access.
        let w = try LockWorld()
        let ro = try w.a.open("/f", OpenOptions.readOnly)
        let wo = try w.a.open("/f", OpenOptions.writeOnly)
        #expect(throws: Errno.badFileDescriptor) {
            try fcntlLock(w.a, ro, Linux.F_SETLK, Linux.F_WRLCK)
        }
        #expect(throws: Errno.badFileDescriptor) {
            try fcntlLock(w.a, wo, Linux.F_SETLKW, Linux.F_RDLCK)
        }
        #expect(throws: Errno.badFileDescriptor) {
            try fcntlLock(w.a, ro, Linux.F_OFD_SETLK, Linux.F_WRLCK, pid: 5)
        }
        try fcntlLock(w.a, ro, Linux.F_SETLK, Linux.F_UNLCK)
        try fcntlLock(w.a, ro, Linux.F_GETLK, Linux.F_WRLCK)
    }

    @Test func closedOrPathOnlyDescriptorIsEBADF() throws {
        let w = try LockWorld()
        let path = try w.a.open("/f", OpenOptions.pathOnly)
        #expect(throws: Errno.badFileDescriptor) {
            try fcntlLock(w.a, path, Linux.F_GETLK, Linux.F_RDLCK)
        }
        #expect(throws: Errno.badFileDescriptor) {
            try fcntlLock(w.a, 99, Linux.F_SETLK, Linux.F_RDLCK)
        }
    }

    // MARK: - Release

    @Test func closingAnyDescriptorOfTheFileReleasesTheProcesssLocks() throws {
        // Even one opened through another hard link, never used for locking.
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        let other = try w.a.open("/g", OpenOptions.readOnly)
        let fb = try w.b.open("/f", lockRDWR)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK)
        try w.a.close(other)
        try fcntlLock(w.b, fb, Linux.F_SETLK, Linux.F_WRLCK)
        #expect(w.kernel.locks.recordLocks(on: try w.b.files.get(fb)).count == 1)
    }

    @Test func closingADescriptorOfAnotherFileKeepsTheLocks() throws {
        let w = try LockWorld()
        try w.a.fs.writeFile("/other", contents: [])
        let fa = try w.a.open("/f", lockRDWR)
        try w.a.close(try w.a.open("/other", OpenOptions.readOnly))
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK)
        let fb = try w.b.open("/f", lockRDWR)
        #expect(try lockConflict(w.b, fb).pid == w.a.id)
    }

    @Test func exitReleasesTheProcesssLocks() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK)
        w.a.exit()
        #expect(w.kernel.locks.lockedFileCount == 0)
    }

    @Test func execReleasesLocksOnFilesWithACloseOnExecDescriptor() throws {
        let w = try LockWorld()
        let fa = try w.a.open("/f", lockRDWR)
        _ = try w.a.open("/g", OpenOptions.readOnly | OpenOptions.closeOnExec)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK)
        w.a.exec()
        let fb = try w.b.open("/f", lockRDWR)
        #expect(try lockConflict(w.b, fb).type == Linux.F_UNLCK)
    }

    @Test func dup2OverADescriptorOfTheFileReleasesTheLocks() throws {
        let w = try LockWorld()
        try w.a.fs.writeFile("/other", contents: [])
        let fa = try w.a.open("/f", lockRDWR)
        let victim = try w.a.open("/f", OpenOptions.readOnly)
        try fcntlLock(w.a, fa, Linux.F_SETLK, Linux.F_WRLCK)
        _ = try w.a.dup2(try w.a.open("/other", OpenOptions.readOnly), victim)
        #expect(w.kernel.locks.lockedFileCount == 0)
    }
}

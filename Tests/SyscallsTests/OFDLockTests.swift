import Testing
import TmpfsBackend
import VFSCore

@testable import Syscalls

/// Open-file-description locks (F_OFD_SETLK...): owned by the description, in the same list
/// as POSIX locks (so the two kinds conflict), gone when the description goes.
@Suite struct OFDLockTests {
    @Test func ofdLockConflictsWithAPOSIXLockOfTheSameProcess() throws {
        // Linux 6.18 on tmpfs: EAGAIN, and F_GETLK reports the OFD lock with l_pid -1.
        let w = try LockWorld()
        let f1 = try w.a.open("/f", lockRDWR)
        let f2 = try w.a.open("/f", lockRDWR)
        try fcntlLock(w.a, f1, Linux.F_OFD_SETLK, Linux.F_WRLCK, start: 0, length: 10)
        #expect(throws: Errno.resourceTemporarilyUnavailable) {
            try fcntlLock(w.a, f2, Linux.F_SETLK, Linux.F_RDLCK)
        }
        #expect(try lockConflict(w.a, f2) == heldLock(Linux.F_WRLCK, 0, 10, pid: -1))
    }

    @Test func posixLockBlocksAnOFDLockOfTheSameProcess() throws {
        let w = try LockWorld()
        let f1 = try w.a.open("/f", lockRDWR)
        try fcntlLock(w.a, f1, Linux.F_SETLK, Linux.F_WRLCK, start: 4, length: 1)
        #expect(throws: Errno.resourceTemporarilyUnavailable) {
            try fcntlLock(w.a, f1, Linux.F_OFD_SETLK, Linux.F_RDLCK)
        }
        let probe = try fcntlLock(w.a, f1, Linux.F_OFD_GETLK, Linux.F_RDLCK)
        #expect(probe == heldLock(Linux.F_WRLCK, 4, 1, pid: w.a.id))
    }

    @Test func twoOpensConflictEvenInOneProcess() throws {
        let w = try LockWorld()
        let f1 = try w.a.open("/f", lockRDWR)
        let f2 = try w.a.open("/g", lockRDWR)
        try fcntlLock(w.a, f1, Linux.F_OFD_SETLK, Linux.F_WRLCK)
        #expect(throws: Errno.resourceTemporarilyUnavailable) {
            try fcntlLock(w.a, f2, Linux.F_OFD_SETLK, Linux.F_WRLCK, start: 50)
        }
    }

    @Test func dupedAndInheritedDescriptorsShareTheLock() throws {
        let w = try LockWorld()
        let f1 = try w.a.open("/f", lockRDWR)
        let copy = try w.a.dup(f1)
        try fcntlLock(w.a, f1, Linux.F_OFD_SETLK, Linux.F_WRLCK)
        try fcntlLock(w.a, copy, Linux.F_OFD_SETLK, Linux.F_RDLCK, start: 3, length: 1)
        let child = w.a.clone()
        #expect(try fcntlLock(child, f1, Linux.F_OFD_GETLK, Linux.F_WRLCK).type == Linux.F_UNLCK)
        // The three ended up one owner's locks: WR [0,2], RD [3], WR [4,...).
        let locks = w.kernel.locks.recordLocks(on: try w.a.files.get(f1))
        #expect(
            locks.map { [Int64($0.type), $0.start, $0.end] } == [
                [1, 0, 2], [0, 3, 3], [1, 4, Int64.max],
            ])
    }

    @Test func ofdCommandsNeedAZeroPid() throws {
        // Linux 6.18: l_pid 5 is EINVAL for F_OFD_SETLK (unlocking too) and F_OFD_GETLK,
        // while F_SETLK ignores it.
        let w = try LockWorld()
        let f1 = try w.a.open("/f", lockRDWR)
        #expect(throws: Errno.invalidArgument) {
            try fcntlLock(w.a, f1, Linux.F_OFD_SETLK, Linux.F_WRLCK, pid: 5)
        }
        #expect(throws: Errno.invalidArgument) {
            try fcntlLock(w.a, f1, Linux.F_OFD_SETLK, Linux.F_UNLCK, pid: 5)
        }
        #expect(throws: Errno.invalidArgument) {
            try fcntlLock(w.a, f1, Linux.F_OFD_GETLK, Linux.F_WRLCK, pid: 5)
        }
        try fcntlLock(w.a, f1, Linux.F_SETLK, Linux.F_WRLCK, pid: 5)
    }

    @Test func ofdGetlkWithUnlockFindsTheDescriptionsOwnLock() throws {
        // Linux 6.18 (the F_UNLCK extension of F_OFD_GETLK): the description's own lock over
        // the range is reported; another description finds nothing.
        let w = try LockWorld()
        let f1 = try w.a.open("/f", lockRDWR)
        let f2 = try w.a.open("/f", lockRDWR)
        try fcntlLock(w.a, f1, Linux.F_OFD_SETLK, Linux.F_WRLCK, start: 0, length: 10)
        let own = try fcntlLock(w.a, f1, Linux.F_OFD_GETLK, Linux.F_UNLCK, start: 5, length: 1)
        #expect(own == heldLock(Linux.F_WRLCK, 0, 10, pid: -1))
        let other = try fcntlLock(w.a, f2, Linux.F_OFD_GETLK, Linux.F_UNLCK, start: 5, length: 1)
        #expect(other == LinuxFlock(type: Linux.F_UNLCK, start: 5, length: 1))
    }

    @Test func closingAnotherDescriptorKeepsOFDLocks() throws {
        let w = try LockWorld()
        let f1 = try w.a.open("/f", lockRDWR)
        try fcntlLock(w.a, f1, Linux.F_OFD_SETLK, Linux.F_WRLCK)
        try w.a.close(try w.a.open("/g", OpenOptions.readOnly))
        let fb = try w.b.open("/f", lockRDWR)
        #expect(try lockConflict(w.b, fb).pid == -1)
    }

    @Test func ofdLockGoesWhenTheDescriptionIsReleased() throws {
        let w = try LockWorld()
        let f1 = try w.a.open("/f", lockRDWR)
        let copy = try w.a.dup(f1)
        try fcntlLock(w.a, f1, Linux.F_OFD_SETLK, Linux.F_WRLCK)
        try w.a.close(f1)
        let fb = try w.b.open("/f", lockRDWR)
        #expect(try lockConflict(w.b, fb).pid == -1)
        try w.a.close(copy)
        #expect(try lockConflict(w.b, fb).type == Linux.F_UNLCK)
        try w.b.close(fb)
        #expect(w.kernel.locks.lockedFileCount == 0)
    }

    @Test func exitKeepsOFDLocksOfDescriptionsStillOpenElsewhere() throws {
        let w = try LockWorld()
        let f1 = try w.a.open("/f", lockRDWR)
        let child = w.a.clone()
        try fcntlLock(w.a, f1, Linux.F_OFD_SETLK, Linux.F_WRLCK)
        w.a.exit()
        let fb = try w.b.open("/f", lockRDWR)
        #expect(try lockConflict(w.b, fb).pid == -1)
        child.exit()
        #expect(try lockConflict(w.b, fb).type == Linux.F_UNLCK)
    }

    @Test func locksOfOneFileSystemDoNotReachAnotherWithTheSameInodeNumber() throws {
        let w = try LockWorld()
        let other = TmpfsFilesystem()
        try w.a.fs.makeDirectory("/mnt")
        try w.a.fs.mount(other, root: other.root, at: "/mnt")
        try w.a.fs.writeFile("/mnt/f", contents: [])
        let f1 = try w.a.open("/f", lockRDWR)
        let f2 = try w.b.open("/mnt/f", lockRDWR)
        try fcntlLock(w.a, f1, Linux.F_SETLK, Linux.F_WRLCK)
        try fcntlLock(w.b, f2, Linux.F_SETLK, Linux.F_WRLCK)
    }
}

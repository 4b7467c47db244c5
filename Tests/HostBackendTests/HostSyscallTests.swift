import Foundation
import HostSyscalls
import Testing
import VFSCore

/// The host wrappers, and the kernel facts the backend relies on (Linux 6.18 on tmpfs).
@Suite struct HostSyscallTests {
    let base = "/dev/shm/vfskit-hostsys-\(getpid())-\(UUID().uuidString.prefix(8))"

    private func setUp() throws -> HostFD {
        try FileManager.default.createDirectory(
            atPath: base + "/d/sub", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: base + "/d/f", contents: Data("hello".utf8))
        try FileManager.default.createSymbolicLink(
            atPath: base + "/d/link", withDestinationPath: "f")
        try FileManager.default.createSymbolicLink(
            atPath: base + "/d/root", withDestinationPath: "/")
        return try HostSyscall.openat(
            HostSyscall.currentDirectory, Array((base + "/d").utf8),
            flags: HostOpenFlags.path | HostOpenFlags.directory)
    }

    private func tearDown() { try? FileManager.default.removeItem(atPath: base) }

    @Test func confinedOpenat2RefusesDotDotOutOfTheDirectory() throws {
        let dir = try setUp()
        defer { tearDown() }
        // Linux 6.18: RESOLVE_BENEATH gives EXDEV for ".." leaving the dirfd.
        #expect(throws: Errno.improperLink) {
            try HostSyscall.openat2(
                dir.rawValue, Array("..".utf8), flags: HostOpenFlags.path, resolve: .confined)
        }
        #expect(throws: Errno.improperLink) {
            try HostSyscall.openat2(
                dir.rawValue, Array("/etc".utf8), flags: HostOpenFlags.path, resolve: .confined)
        }
    }

    @Test func confinedOpenat2RefusesToFollowAnySymlink() throws {
        let dir = try setUp()
        defer { tearDown() }
        // RESOLVE_NO_SYMLINKS: ELOOP for a symlink in the middle or followed at the end.
        #expect(throws: Errno.tooManySymbolicLinkLevels) {
            try HostSyscall.openat2(
                dir.rawValue, Array("root/etc".utf8), flags: HostOpenFlags.path, resolve: .confined)
        }
        #expect(throws: Errno.tooManySymbolicLinkLevels) {
            try HostSyscall.openat2(
                dir.rawValue, Array("link".utf8), flags: HostOpenFlags.path, resolve: .confined)
        }
    }

    @Test func confinedOpenat2WithNoFollowOpensTheSymlinkItself() throws {
        let dir = try setUp()
        defer { tearDown() }
        let link = try HostSyscall.openat2(
            dir.rawValue, Array("root".utf8), flags: HostOpenFlags.path | HostOpenFlags.noFollow,
            resolve: .confined)
        #expect(try HostSyscall.statx(link.rawValue).isSymlink)
        #expect(try HostSyscall.readlinkat(link.rawValue, []) == Array("/".utf8))
    }

    @Test func statxOfAnOPathFdReportsTheFile() throws {
        let dir = try setUp()
        defer { tearDown() }
        let st = try HostSyscall.statx(dir.rawValue, Array("f".utf8), flags: 0)
        #expect(st.isRegular)
        #expect(st.size == 5)
        let viaFstatat = try HostSyscall.fstatat(dir.rawValue, Array("f".utf8), flags: 0)
        #expect(viaFstatat.inode == st.inode)
        #expect(viaFstatat.size == 5)
        #expect(viaFstatat.dev == st.dev)
    }

    @Test func getdents64ListsEveryEntryWithItsType() throws {
        let dir = try setUp()
        defer { tearDown() }
        let fd = try HostSyscall.reopen(dir, flags: HostOpenFlags.directory)
        var all: [HostDirectoryEntry] = []
        while true {
            let batch = try HostSyscall.getdents64(fd.rawValue, bufferSize: 64)
            if batch.isEmpty { break }
            all += batch
        }
        let names = Set(all.map { String(decoding: $0.name, as: UTF8.self) })
        #expect(names == [".", "..", "sub", "f", "link", "root"])
        #expect(all.first { $0.name == Array("link".utf8) }?.type == 10)  // DT_LNK
    }

    @Test func xattrCallsOnAnOPathFdAreEBADFButWorkThroughProc() throws {
        let dir = try setUp()
        defer { tearDown() }
        let f = try HostSyscall.openat2(
            dir.rawValue, Array("f".utf8), flags: HostOpenFlags.path | HostOpenFlags.noFollow,
            resolve: .confined)
        // Linux 6.18: fsetxattr on an O_PATH fd is EBADF.
        #expect(throws: Errno.badFileDescriptor) {
            try HostSyscall.setxattr(
                .fd(f.rawValue), name: Array("user.a".utf8), value: [1], flags: 0)
        }
        try HostSyscall.setxattr(
            .procPath(of: f), name: Array("user.a".utf8), value: [1, 2], flags: 0)
        #expect(try HostSyscall.getxattr(.procPath(of: f), name: Array("user.a".utf8)) == [1, 2])
        #expect(try HostSyscall.listxattr(.procPath(of: f)) == [Array("user.a".utf8)])
        try HostSyscall.removexattr(.procPath(of: f), name: Array("user.a".utf8))
        #expect(throws: Errno.noData) {
            try HostSyscall.getxattr(.procPath(of: f), name: Array("user.a".utf8))
        }
    }

    @Test func fdFormsOfChmodChownUtimesWorkOnOPathFdsWithEmptyPath() throws {
        let dir = try setUp()
        defer { tearDown() }
        let f = try HostSyscall.openat2(
            dir.rawValue, Array("f".utf8), flags: HostOpenFlags.path | HostOpenFlags.noFollow,
            resolve: .confined)
        // Linux 6.18: fchmod on O_PATH is EBADF; fchmodat2(AT_EMPTY_PATH) works.
        #expect(throws: Errno.badFileDescriptor) { try HostSyscall.fchmod(f.rawValue, mode: 0o600) }
        try HostSyscall.fchmodat(f.rawValue, [], mode: 0o640, flags: HostAtFlags.emptyPath)
        try HostSyscall.fchownat(f.rawValue, [], uid: 7, gid: 8, flags: HostAtFlags.emptyPath)
        try HostSyscall.utimensat(
            f.rawValue, [], access: .set(seconds: 5, nanoseconds: 0),
            modification: .set(seconds: 6, nanoseconds: 7), flags: HostAtFlags.emptyPath)
        let st = try HostSyscall.statx(f.rawValue)
        #expect(st.mode & 0o7777 == 0o640)
        #expect(st.uid == 7 && st.gid == 8)
        #expect(st.modificationTime == HostTimestamp(seconds: 6, nanoseconds: 7))
        #expect(st.accessTime.seconds == 5)
    }

    @Test func readWriteAndAppendThroughAReopenedFd() throws {
        let dir = try setUp()
        defer { tearDown() }
        let path = try HostSyscall.openat2(
            dir.rawValue, Array("f".utf8), flags: HostOpenFlags.path, resolve: .confined)
        let fd = try HostSyscall.reopen(path, flags: HostOpenFlags.readWrite)
        let more = Array(" world".utf8)
        let written = try more.withUnsafeBytes { (raw) throws(Errno) -> Int in
            try HostSyscall.pwritev2(fd.rawValue, from: raw, at: -1, flags: 0x10)
        }
        #expect(written == 6)
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = try buffer.withUnsafeMutableBytes { (raw) throws(Errno) -> Int in
            try HostSyscall.pread(fd.rawValue, into: raw, at: 0)
        }
        #expect(Array(buffer[..<count]) == Array("hello world".utf8))
    }

    @Test func fstatfsOfTheShmDirectoryIsTmpfs() throws {
        let dir = try setUp()
        defer { tearDown() }
        #expect(try HostSyscall.fstatfs(dir.rawValue).type == 0x0102_1994)
    }

    @Test func droppingFsetidForOneCallMakesTheHostClearSetUserID() throws {
        let dir = try setUp()
        defer { tearDown() }
        let path = try HostSyscall.openat2(
            dir.rawValue, Array("f".utf8), flags: HostOpenFlags.path, resolve: .confined)
        let fd = try HostSyscall.reopen(path, flags: HostOpenFlags.writeOnly)
        try HostSyscall.fchmodat(path.rawValue, [], mode: 0o4755, flags: HostAtFlags.emptyPath)
        let one: [UInt8] = [1]
        // With CAP_FSETID (root) a write keeps S_ISUID; without it Linux clears it.
        _ = try one.withUnsafeBytes { (raw) throws(Errno) -> Int in
            try HostSyscall.pwrite(fd.rawValue, from: raw, at: 0)
        }
        #expect(try HostSyscall.statx(path.rawValue).mode & 0o7777 == 0o4755)
        _ = try HostSyscall.withoutEffectiveCapability(HostSyscall.capabilityFsetid) {
            () throws(Errno) -> Int in
            try HostSyscall.withBytes(one) { (raw) throws(Errno) -> Int in
                try HostSyscall.pwrite(fd.rawValue, from: raw, at: 0)
            }
        }
        #expect(try HostSyscall.statx(path.rawValue).mode & 0o7777 == 0o755)
        // And the thread has it back.
        try HostSyscall.fchmodat(path.rawValue, [], mode: 0o4755, flags: HostAtFlags.emptyPath)
        _ = try one.withUnsafeBytes { (raw) throws(Errno) -> Int in
            try HostSyscall.pwrite(fd.rawValue, from: raw, at: 0)
        }
        #expect(try HostSyscall.statx(path.rawValue).mode & 0o7777 == 0o4755)
    }
}

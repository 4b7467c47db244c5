import Synchronization
import TmpfsBackend
import Testing
import VFSCore

/// How long files and directories live once their names are gone, driven through the VFS.
/// Every expectation was observed with python3's os module on /dev/shm (tmpfs, Linux 6.18).
@Suite struct LifetimeTests {
    @Test func unlinkedFileStaysReadableAndWritableThroughAnOpenDescription() throws {
        let world = TmpfsWorld()
        try world.ctx.writeFile("/f", contents: Array("hello".utf8))
        let file = try world.ctx.open("/f", flags: OpenOptions.readWrite)
        try world.ctx.unlink("/f")
        #expect(throws: Errno.noSuchFileOrDirectory) { try world.ctx.stat("/f") }
        // Linux 6.18 on tmpfs: pread gives b'hello', pwrite(b'XY', 5) gives 2, then b'helloXY'.
        #expect(try TmpfsWorld.read(file, count: 5, at: 0) == Array("hello".utf8))
        #expect(try TmpfsWorld.write(file, Array("XY".utf8), at: 5) == 2)
        #expect(try TmpfsWorld.read(file, count: 10, at: 0) == Array("helloXY".utf8))
    }

    @Test func unlinkedFileStatsWithZeroLinks() throws {
        let world = TmpfsWorld()
        try world.ctx.writeFile("/f", contents: [1])
        let file = try world.ctx.open("/f", flags: OpenOptions.readOnly)
        try world.ctx.unlink("/f")
        // Linux 6.18 on tmpfs: fstat after unlink gives st_nlink 0.
        #expect(try file.stat().nlink == 0)
        #expect(try file.stat().size == 1)
    }

    @Test func removedWorkingDirectoryHasNoPath() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/d")
        try world.ctx.changeDirectory("/d")
        try world.ctx.removeDirectory("/d")
        // Linux 6.18 on tmpfs: os.getcwd() in an rmdir'ed cwd raises ENOENT.
        #expect(throws: Errno.noSuchFileOrDirectory) { try world.ctx.currentDirectoryPath() }
    }

    @Test func removedWorkingDirectoryStatsWithZeroLinks() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/d")
        try world.ctx.changeDirectory("/d")
        try world.ctx.removeDirectory("/d")
        // Linux 6.18 on tmpfs: os.stat(".") in the removed cwd gives st_nlink 0.
        #expect(try world.ctx.stat(".").nlink == 0)
    }

    @Test func creatingInsideRemovedWorkingDirectoryIsENOENT() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/d")
        try world.ctx.changeDirectory("/d")
        try world.ctx.removeDirectory("/d")
        // Linux 6.18 on tmpfs: open("x", O_CREAT) and mkdir("y") there both give ENOENT.
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try world.ctx.open("x", flags: OpenOptions.create | OpenOptions.writeOnly)
        }
        #expect(throws: Errno.noSuchFileOrDirectory) { try world.ctx.makeDirectory("y") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try world.ctx.makeSymlink(target: "t", at: "z") }
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try world.ctx.makeNode("p", mode: FileType.fifo.rawValue | 0o644)
        }
    }

    @Test func renamedOverTargetStaysReadableWhileOpen() throws {
        let world = TmpfsWorld()
        try world.ctx.writeFile("/a", contents: Array("AAA".utf8))
        try world.ctx.writeFile("/b", contents: Array("BBB".utf8))
        let old = try world.ctx.open("/b", flags: OpenOptions.readOnly)
        try world.ctx.rename("/a", to: "/b")
        // Linux 6.18 on tmpfs: the open description still reads b'BBB' with st_nlink 0, while
        // the name now gives b'AAA'.
        #expect(try TmpfsWorld.read(old, count: 3, at: 0) == Array("BBB".utf8))
        #expect(try old.stat().nlink == 0)
        #expect(try world.ctx.readFile("/b") == Array("AAA".utf8))
    }
}

// MARK: - Shared by the TmpfsBackend behaviour suites

/// A VFS whose root is one tmpfs, and a root-credentialed context on it (umask 022).
struct TmpfsWorld {
    let vfs: VirtualFilesystem
    let tmpfs: TmpfsFilesystem
    let ctx: FSContext

    init(options: TmpfsOptions = TmpfsOptions(), clock: (any FileClock)? = nil) {
        vfs = VirtualFilesystem()
        if let clock {
            tmpfs = TmpfsFilesystem(options: options, clock: clock)
        } else {
            tmpfs = TmpfsFilesystem(options: options)
        }
        let namespace = vfs.makeNamespace(root: tmpfs, rootDentry: tmpfs.root)
        ctx = FSContext(vfs: vfs, namespace: namespace)
    }

    /// An unprivileged caller: uid 1000, gid 1000, no supplementary groups, no capabilities.
    static let user = Credentials.user(1000, gid: 1000)

    /// `user` with exactly these capabilities.
    static func user(with capabilities: Capabilities) -> Credentials {
        Credentials(uid: 1000, gid: 1000, capabilities: capabilities)
    }

    /// The place `path` names, resolved as root (following a final symlink unless told not to).
    func place(_ path: String, followSymlink: Bool = true) throws(Errno) -> VirtualDentry {
        try vfs.getDentry(.root, ctx.operation(path, followFinalSymlink: followSymlink))
    }

    /// ftruncate(2) on an open description.
    func truncate(_ file: FileDescription, to size: Int64, as credentials: Credentials = .root)
        throws(Errno)
    {
        try vfs.setStat(credentials, file.location, .truncation(to: size))
    }

    /// statfs(2) of the file system holding `path`.
    func statfs(_ path: String = "/") throws(Errno) -> FilesystemStat {
        try vfs.statFilesystem(ctx.credentials, ctx.operation(path))
    }

    static func read(_ file: FileDescription, count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0xAA, count: count)
        let got = try buffer.withUnsafeMutableBytes { bytes in
            try file.read(into: bytes)
        }
        return Array(buffer[0..<got])
    }

    static func read(_ file: FileDescription, count: Int, at offset: Int64) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0xAA, count: count)
        let got = try buffer.withUnsafeMutableBytes { bytes in
            try file.read(into: bytes, at: offset)
        }
        return Array(buffer[0..<got])
    }

    @discardableResult
    static func write(_ file: FileDescription, _ bytes: [UInt8], as credentials: Credentials = .root)
        throws -> Int
    {
        try bytes.withUnsafeBytes { buffer in
            try file.write(from: buffer, credentials: credentials)
        }
    }

    @discardableResult
    static func write(
        _ file: FileDescription, _ bytes: [UInt8], at offset: Int64,
        as credentials: Credentials = .root
    ) throws -> Int {
        try bytes.withUnsafeBytes { buffer in
            try file.write(from: buffer, at: offset, credentials: credentials)
        }
    }

    /// Every entry one description returns from its offset on, `.` and `..` included.
    static func entries(_ file: FileDescription) throws(Errno) -> [DirectoryEntry] {
        var all: [DirectoryEntry] = []
        try file.readDirectory { entry in
            all.append(entry)
            return true
        }
        return all
    }
}

/// A clock that stands still until the test moves it, so every step gets its own distinct
/// time (with a nanosecond part, to show nanoseconds are kept).
final class StepClock: FileClock {
    private let current = Mutex(Timespec(seconds: 1_700_000_000, nanoseconds: 100))

    func now() -> Timespec { current.withLock { $0 } }

    /// Moves time on by one second and one nanosecond and returns the new time.
    @discardableResult
    func tick() -> Timespec {
        current.withLock { time in
            time.nanoseconds += 1
            time.seconds += 1
            return time
        }
    }
}

import CLinuxSupport
import Glibc
import Testing
import TmpfsBackend
import VFSCore

@testable import Syscalls

/// The byte images of `struct stat`, `struct statx` and `struct statfs`: offsets (checked with
/// gcc's `offsetof` on this machine), and, where /dev/shm is a tmpfs, our encoding next to
/// what the running kernel writes for a file given the same attributes.
@Suite struct StatLayoutTests {
    /// Every field distinct, so a field at a wrong offset shows.
    static var sample: FileStat {
        var stat = FileStat()
        stat.dev = 0x0102_0304
        stat.inode = 0x1112_1314_1516_1718
        stat.nlink = 0x2122_2324
        stat.mode = FileMode(rawValue: 0o100644)
        stat.uid = 0x3132_3334
        stat.gid = 0x4142_4344
        stat.rdev = 0x5152_5354
        stat.size = 0x6162_6364_6566
        stat.blockSize = 4096
        stat.blocks = 0x7172_7374
        stat.accessTime = Timespec(seconds: 0x0A0B_0C0D, nanoseconds: 111)
        stat.modificationTime = Timespec(seconds: -5, nanoseconds: 222)
        stat.changeTime = Timespec(seconds: 0x1A1B_1C1D, nanoseconds: 999_999_999)
        stat.birthTime = Timespec(seconds: 77, nanoseconds: 333)
        stat.mountID = 0x55
        stat.mask = [.basicStats, .btime]
        return stat
    }

    static func u64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        (0..<8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[offset + $1]) }
    }

    static func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        (0..<4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32(bytes[offset + $1]) }
    }

    /// glibc's `makedev` (a macro Swift cannot call).
    static func glibcMakedev(_ major: UInt64, _ minor: UInt64) -> UInt64 {
        ((major & 0xFFF) << 8) | ((major & ~0xFFF) << 32) | (minor & 0xFF)
            | ((minor & ~0xFF) << 12)
    }

    // MARK: - Offsets

    @Test func statFieldsSitAtTheKernelsOffsets() {
        let bytes = LinuxStat(Self.sample).bytes
        #expect(bytes.count == 144)
        #expect(MemoryLayout<Glibc.stat>.size == 144)
        #expect(Self.u64(bytes, 0) == 0x0102_0304)
        #expect(Self.u64(bytes, 8) == 0x1112_1314_1516_1718)
        #expect(Self.u64(bytes, 16) == 0x2122_2324)
        #expect(Self.u32(bytes, 24) == 0o100644)
        #expect(Self.u32(bytes, 28) == 0x3132_3334)
        #expect(Self.u32(bytes, 32) == 0x4142_4344)
        #expect(Self.u32(bytes, 36) == 0)
        #expect(Self.u64(bytes, 40) == 0x5152_5354)
        #expect(Self.u64(bytes, 48) == 0x6162_6364_6566)
        #expect(Self.u64(bytes, 56) == 4096)
        #expect(Self.u64(bytes, 64) == 0x7172_7374)
        #expect(Self.u64(bytes, 72) == 0x0A0B_0C0D)
        #expect(Self.u64(bytes, 80) == 111)
        #expect(Int64(bitPattern: Self.u64(bytes, 88)) == -5)
        #expect(Self.u64(bytes, 96) == 222)
        #expect(Self.u64(bytes, 104) == 0x1A1B_1C1D)
        #expect(Self.u64(bytes, 112) == 999_999_999)
        #expect(bytes[120...].allSatisfy { $0 == 0 })
    }

    @Test func statDecodesWhatItEncodes() {
        let stat = LinuxStat(Self.sample)
        #expect(LinuxStat(bytes: stat.bytes) == stat)
        #expect(LinuxStat(bytes: [0, 1]) == nil)
    }

    @Test func statxFieldsSitAtTheKernelsOffsets() {
        let statx = LinuxStatx(Self.sample, requested: 0xFFF, isMountRoot: true)
        let bytes = statx.bytes
        #expect(bytes.count == 256)
        #expect(Self.u32(bytes, 0) == 0x1FFF)
        #expect(Self.u32(bytes, 4) == 4096)
        #expect(Self.u64(bytes, 8) == 0x2000)
        #expect(Self.u32(bytes, 16) == 0x2122_2324)
        #expect(Self.u32(bytes, 20) == 0x3132_3334)
        #expect(Self.u32(bytes, 24) == 0x4142_4344)
        #expect(Self.u32(bytes, 28) == 0o100644)  // u16 mode, then a zero u16
        #expect(Self.u64(bytes, 32) == 0x1112_1314_1516_1718)
        #expect(Self.u64(bytes, 40) == 0x6162_6364_6566)
        #expect(Self.u64(bytes, 48) == 0x7172_7374)
        #expect(Self.u64(bytes, 56) == 0x20_3000)
        // statx_timestamp: i64 seconds, u32 nanoseconds, i32 zero.
        #expect(Self.u64(bytes, 64) == 0x0A0B_0C0D)
        #expect(Self.u64(bytes, 72) == 111)
        #expect(Self.u64(bytes, 80) == 77)
        #expect(Self.u64(bytes, 88) == 333)
        #expect(Self.u64(bytes, 96) == 0x1A1B_1C1D)
        #expect(Self.u64(bytes, 104) == 999_999_999)
        #expect(Int64(bitPattern: Self.u64(bytes, 112)) == -5)
        #expect(Self.u64(bytes, 120) == 222)
        // rdev 0x51525354 and dev 0x01020304 in new_encode_dev form, split.
        #expect(Self.u32(bytes, 128) == 0x253)
        #expect(Self.u32(bytes, 132) == 0x51554)
        #expect(Self.u32(bytes, 136) == 0x203)
        #expect(Self.u32(bytes, 140) == 0x01004)
        #expect(Self.u64(bytes, 144) == 0x55)
        #expect(bytes[152...].allSatisfy { $0 == 0 })
        #expect(LinuxStatx(bytes: bytes) == statx)
    }

    @Test func statfsFieldsSitAtTheKernelsOffsets() {
        var source = FilesystemStat()
        source.type = 0x0102_1994
        source.blockSize = 4096
        source.blocks = 0x11
        source.freeBlocks = 0x22
        source.availableBlocks = 0x33
        source.files = 0x44
        source.freeFiles = 0x55
        source.fsid = 0x6666_6666_7777_7777
        source.nameLength = 255
        source.fragmentSize = 4096
        source.flags = 0x1000
        let statfs = LinuxStatfs(source)
        let bytes = statfs.bytes
        #expect(bytes.count == 120)
        let expected: [(Int, UInt64)] = [
            (0, 0x0102_1994), (8, 4096), (16, 0x11), (24, 0x22), (32, 0x33), (40, 0x44),
            (48, 0x55), (64, 255), (72, 4096), (80, 0x1020),
        ]
        for (offset, value) in expected { #expect(Self.u64(bytes, offset) == value, "\(offset)") }
        #expect(Self.u32(bytes, 56) == 0x7777_7777)
        #expect(Self.u32(bytes, 60) == 0x6666_6666)
        #expect(bytes[88...].allSatisfy { $0 == 0 })
        #expect(LinuxStatfs(bytes: bytes) == statfs)
    }

    @Test func deviceNumbersSplitAsGlibcAndTheKernelDo() {
        // gnu_dev_major/minor of 0x6789a345 are 0x9a3 and 0x67845 (python os.major/minor).
        #expect(DeviceNumber.major(0x6789_A345) == 0x9A3)
        #expect(DeviceNumber.minor(0x6789_A345) == 0x67845)
        #expect(DeviceNumber.encode(major: 0x9A3, minor: 0x67845) == 0x6789_A345)
        #expect(DeviceNumber.encode(major: 1, minor: 3) == 0x103)
        #expect(DeviceNumber.major(Self.glibcMakedev(0x12345, 0x6789A)) == 0x12345)
        #expect(DeviceNumber.minor(Self.glibcMakedev(0x12345, 0x6789A)) == 0x6789A)
    }

    // MARK: - Against the running kernel

    /// The kernel's `struct statfs` for `path`, by the raw syscall (Glibc's module does not
    /// export statfs).
    static func kernelStatfs(_ path: String) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: 120)
        let result = bytes.withUnsafeMutableBytes { buffer in
            path.withCString { name in
                vfs_raw_syscall6(
                    137, Int(bitPattern: name), Int(bitPattern: buffer.baseAddress), 0, 0, 0, 0)
            }
        }
        return result == 0 ? bytes : nil
    }

    static let enabled: Bool = {
        guard let statfs = kernelStatfs("/dev/shm") else { return false }
        return u64(statfs, 0) == 0x0102_1994 && getuid() == 0
    }()

    /// A scratch directory in /dev/shm, removed by `cleanUp`.
    final class Scratch {
        let path: String
        private var made: [String] = []

        init() throws {
            var template = Array("/dev/shm/vfskit-h6-XXXXXX".utf8CString)
            guard let result = mkdtemp(&template) else { throw Errno(rawValue: errno) }
            path = String(cString: result)
        }

        func name(_ name: String) -> String {
            made.append(name)
            return path + "/" + name
        }

        func cleanUp() {
            for name in made.reversed() {
                if unlink(path + "/" + name) != 0 { rmdir(path + "/" + name) }
            }
            rmdir(path)
        }
    }

    /// Sets the same mode, owner, size, link count and times on a file in /dev/shm and on
    /// our tmpfs, then returns (Linux's lstat bytes, ours).
    func bothSides(_ setUp: (Scratch) throws -> (String, String)) throws -> ([UInt8], [UInt8]) {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let (linuxPath, ourPath) = try setUp(scratch)
        var linuxStat = Glibc.stat()
        #expect(lstat(linuxPath, &linuxStat) == 0)
        let linux = withUnsafeBytes(of: &linuxStat) { Array($0) }
        let ours = try world.task.lstat(PathArgument(ourPath)).bytes
        return (linux, ours)
    }

    let world = SyscallPathWorld()

    /// The fields two different files can share: nlink, mode, uid, gid, padding, rdev, size,
    /// blksize, blocks, atime and mtime (not dev, ino or ctime).
    static let comparable: [Range<Int>] = [16..<72, 72..<104, 120..<144]

    @Test(.enabled(if: StatLayoutTests.enabled))
    func regularFileEncodesAsTheKernelsStat() throws {
        let times = [
            timespec(tv_sec: 1_000_000, tv_nsec: 5), timespec(tv_sec: 2_000_000, tv_nsec: 7),
        ]
        let (linux, ours) = try bothSides { scratch in
            let file = scratch.name("f")
            let other = scratch.name("g")
            let fd = open(file, O_CREAT | O_WRONLY, 0o600)
            #expect(write(fd, "hello", 5) == 5)
            close(fd)
            #expect(link(file, other) == 0)
            #expect(chmod(file, 0o4751) == 0)
            #expect(chown(file, 1234, 5678) == 0)
            #expect(utimensat(AT_FDCWD, file, times, 0) == 0)

            let task = world.task
            _ = try task.creat("/f", 0o600)
            _ = try task.write(task.open("/f", OpenOptions.writeOnly), Array("hello".utf8))
            try task.link("/f", "/g")
            try task.chmod("/f", 0o4751)
            try task.chown("/f", 1234, 5678)
            try task.utimensat(
                Linux.AT_FDCWD, "/f",
                (
                    Timespec(seconds: 1_000_000, nanoseconds: 5),
                    Timespec(seconds: 2_000_000, nanoseconds: 7)
                ), 0)
            return (file, "/f")
        }
        for range in Self.comparable {
            #expect(Array(ours[range]) == Array(linux[range]), "\(range)")
        }
    }

    @Test(.enabled(if: StatLayoutTests.enabled))
    func directoryEncodesAsTheKernelsStat() throws {
        let times = [timespec(tv_sec: 10, tv_nsec: 0), timespec(tv_sec: 20, tv_nsec: 999_999_999)]
        let (linux, ours) = try bothSides { scratch in
            let directory = scratch.name("d")
            #expect(mkdir(directory, 0o755) == 0)
            #expect(mkdir(scratch.name("d/sub"), 0o700) == 0)
            close(open(scratch.name("d/file"), O_CREAT | O_WRONLY, 0o644))
            #expect(chmod(directory, 0o1770) == 0)
            #expect(utimensat(AT_FDCWD, directory, times, 0) == 0)

            let task = world.task
            try task.mkdir("/d", 0o755)
            try task.mkdir("/d/sub", 0o700)
            _ = try task.creat("/d/file", 0o644)
            try task.chmod("/d", 0o1770)
            try task.utimensat(
                Linux.AT_FDCWD, "/d",
                (
                    Timespec(seconds: 10, nanoseconds: 0),
                    Timespec(seconds: 20, nanoseconds: 999_999_999)
                ), 0)
            return (directory, "/d")
        }
        for range in Self.comparable {
            #expect(Array(ours[range]) == Array(linux[range]), "\(range)")
        }
    }

    @Test(.enabled(if: StatLayoutTests.enabled))
    func symlinkAndDeviceNodeEncodeAsTheKernelsStat() throws {
        let times = [timespec(tv_sec: 3, tv_nsec: 4), timespec(tv_sec: 5, tv_nsec: 6)]
        let (linux, ours) = try bothSides { scratch in
            let symlinkPath = scratch.name("l")
            #expect(symlink("some/target", symlinkPath) == 0)
            #expect(lchown(symlinkPath, 42, 43) == 0)
            #expect(utimensat(AT_FDCWD, symlinkPath, times, AT_SYMLINK_NOFOLLOW) == 0)
            try world.task.symlink("some/target", "/l")
            try world.task.lchown("/l", 42, 43)
            try world.task.utimensat(
                Linux.AT_FDCWD, "/l",
                (Timespec(seconds: 3, nanoseconds: 4), Timespec(seconds: 5, nanoseconds: 6)),
                Linux.AT_SYMLINK_NOFOLLOW)
            return (symlinkPath, "/l")
        }
        for range in Self.comparable {
            #expect(Array(ours[range]) == Array(linux[range]), "\(range)")
        }

        let (linuxNode, ourNode) = try bothSides { scratch in
            let node = scratch.name("c")
            #expect(mknod(node, S_IFCHR | 0o640, dev_t(Self.glibcMakedev(0x9A3, 0x67845))) == 0)
            #expect(utimensat(AT_FDCWD, node, times, 0) == 0)
            try world.task.mknod("/c", 0o020640, 0x6789_A345)
            try world.task.utimensat(
                Linux.AT_FDCWD, "/c",
                (Timespec(seconds: 3, nanoseconds: 4), Timespec(seconds: 5, nanoseconds: 6)), 0)
            return (node, "/c")
        }
        for range in Self.comparable {
            #expect(Array(ourNode[range]) == Array(linuxNode[range]), "\(range)")
        }
    }

    @Test(.enabled(if: StatLayoutTests.enabled))
    func statxEncodesAsTheKernelsStatx() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let file = scratch.name("f")
        let fd = open(file, O_CREAT | O_WRONLY, 0o640)
        #expect(write(fd, "hello", 5) == 5)
        close(fd)
        #expect(chown(file, 77, 88) == 0)
        let times = [timespec(tv_sec: 100, tv_nsec: 1), timespec(tv_sec: 200, tv_nsec: 2)]
        #expect(utimensat(AT_FDCWD, file, times, 0) == 0)
        let task = world.task
        _ = try task.write(
            task.open("/f", OpenOptions.writeOnly | OpenOptions.create, 0o640), Array("hello".utf8))
        try task.chown("/f", 77, 88)
        try task.utimensat(
            Linux.AT_FDCWD, "/f",
            (Timespec(seconds: 100, nanoseconds: 1), Timespec(seconds: 200, nanoseconds: 2)), 0)

        for mask: UInt32 in [0, 0x1, 0x20, 0x40, 0x7FF, 0x800, 0xFFF, 0x4000] {
            var linux = [UInt8](repeating: 0xAA, count: 256)
            let result = linux.withUnsafeMutableBytes { buffer in
                file.withCString { name in
                    vfs_raw_syscall6(
                        332, Int(AT_FDCWD), Int(bitPattern: name), 0, Int(mask),
                        Int(bitPattern: buffer.baseAddress), 0)
                }
            }
            #expect(result == 0)
            let ours = try task.statx(Linux.AT_FDCWD, "/f", 0, mask).bytes
            #expect(Self.u32(ours, 0) == Self.u32(linux, 0), "stx_mask for \(mask)")
            // blksize, attributes, nlink, uid, gid, mode.
            #expect(Array(ours[4..<32]) == Array(linux[4..<32]), "mask \(mask)")
            // size, blocks.
            #expect(Array(ours[40..<56]) == Array(linux[40..<56]), "mask \(mask)")
            // atime; mtime (zero when not reported).
            #expect(Array(ours[64..<80]) == Array(linux[64..<80]), "mask \(mask)")
            #expect(Array(ours[112..<128]) == Array(linux[112..<128]), "mask \(mask)")
            // rdev; everything past the mount id.
            #expect(Array(ours[128..<136]) == Array(linux[128..<136]), "mask \(mask)")
            #expect(Array(ours[152...]) == Array(linux[152...]), "mask \(mask)")
            // The attribute mask: ours is the VFS part of Linux's.
            let linuxMask = Self.u64(linux, 56)
            #expect(linuxMask & Self.u64(ours, 56) == Self.u64(ours, 56))
        }
    }

    @Test(.enabled(if: StatLayoutTests.enabled))
    func statfsEncodesAsTheKernelsStatfs() throws {
        let linux = try #require(Self.kernelStatfs("/dev/shm"))
        let ours = try world.task.statfs("/").bytes
        for offset in [0, 8, 64, 72, 80] {
            #expect(Self.u64(ours, offset) == Self.u64(linux, offset), "offset \(offset)")
        }
        #expect(Array(ours[88...]) == Array(linux[88...]))
    }
}

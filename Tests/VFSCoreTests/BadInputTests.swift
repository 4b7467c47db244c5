import Dispatch
import Foundation
import Glibc
import Testing
import TmpfsBackend
import VFSCore

/// Malformed or extreme arguments never crash and always get an errno. Every expected errno
/// was observed on Linux 6.18 against /dev/shm (tmpfs) with python3's os module or ctypes,
/// unless the comment calls it our documented choice (an embedded NUL, which a C caller cannot
/// pass).
@Suite struct BadInputTests {
    private static func makeContext(_ options: TmpfsOptions = TmpfsOptions()) -> FSContext {
        let vfs = VirtualFilesystem()
        let tmpfs = TmpfsFilesystem(options: options)
        let namespace = vfs.makeNamespace(root: tmpfs, rootDentry: tmpfs.root)
        return FSContext(vfs: vfs, namespace: namespace)
    }

    private static func withOpenFile<T>(
        _ context: FSContext, _ path: String, contents: [UInt8] = Array("hello".utf8),
        flags: Int32 = OpenOptions.readWrite, _ body: (FileDescription) throws -> T
    ) throws -> T {
        try context.writeFile(path, contents: contents)
        return try body(try context.open(path, flags: flags))
    }

    // MARK: - Names and paths

    @Test func nameOf256BytesIsNameTooLongForEveryOperation() throws {
        let context = Self.makeContext()
        let long = String(repeating: "n", count: 256)
        // Linux 6.18 on tmpfs: a 255-byte name works, 256 bytes is ENAMETOOLONG.
        try context.makeDirectory("/" + String(repeating: "a", count: 255))
        try context.writeFile("/f", contents: [])
        #expect(throws: Errno.fileNameTooLong) { try context.makeDirectory("/" + long) }
        #expect(throws: Errno.fileNameTooLong) {
            try context.open(long, flags: OpenOptions.create | OpenOptions.writeOnly)
        }
        #expect(throws: Errno.fileNameTooLong) { try context.stat(long) }
        #expect(throws: Errno.fileNameTooLong) { try context.unlink(long) }
        #expect(throws: Errno.fileNameTooLong) { try context.removeDirectory(long) }
        #expect(throws: Errno.fileNameTooLong) { try context.makeSymlink(target: "x", at: long) }
        #expect(throws: Errno.fileNameTooLong) { try context.rename("/f", to: long) }
        #expect(throws: Errno.fileNameTooLong) { try context.makeLink(existing: "/f", new: long) }
        // A long name in the middle of a path is also ENAMETOOLONG; a missing directory
        // before it is found first (ENOENT).
        #expect(throws: Errno.fileNameTooLong) { try context.stat(long + "/x") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try context.stat("nope/" + long) }
    }

    @Test func pathOf4096BytesIsNameTooLong() throws {
        let context = Self.makeContext()
        // 4095 bytes ("././…/zz") fit PATH_MAX with the NUL: resolved, ENOENT. 4096 do not.
        let fits = String(String(repeating: "./", count: 2048).prefix(4093)) + "zz"
        #expect(fits.utf8.count == 4095)
        #expect(throws: Errno.noSuchFileOrDirectory) { try context.stat(fits) }
        #expect(throws: Errno.fileNameTooLong) { try context.stat(fits + "z") }
        #expect(throws: Errno.fileNameTooLong) { try context.makeDirectory(fits + "z") }
        #expect(throws: Errno.fileNameTooLong) {
            try context.stat(String(repeating: "./", count: 2500))
        }
    }

    /// Our documented choice: a path or name holding NUL is EINVAL (C callers cannot pass one;
    /// silently truncating would act on a different file).
    @Test func nulByteInPathOrNameIsInvalidArgument() throws {
        let context = Self.makeContext()
        let vfs = context.vfs
        let credentials = context.credentials
        try context.writeFile("/f", contents: [])
        let withNul: [UInt8] = Array("/f".utf8) + [0] + Array("x".utf8)
        let newWithNul: [UInt8] = Array("/g".utf8) + [0]
        #expect(throws: Errno.invalidArgument) { try vfs.stat(credentials, context.operation(withNul)) }
        #expect(throws: Errno.invalidArgument) {
            try vfs.makeDirectory(credentials, context.operation(newWithNul), mode: 0o755)
        }
        #expect(throws: Errno.invalidArgument) {
            try vfs.open(
                credentials, context.operation(newWithNul),
                options: OpenOptions(flags: OpenOptions.create | OpenOptions.writeOnly))
        }
        #expect(throws: Errno.invalidArgument) { try vfs.unlink(credentials, context.operation(withNul)) }
        #expect(throws: Errno.invalidArgument) {
            try vfs.rename(credentials, from: context.operation("/f"), to: context.operation(newWithNul))
        }
        #expect(throws: Errno.invalidArgument) {
            try vfs.makeSymlink(credentials, target: [0x61, 0, 0x62], context.operation("/s"))
        }
        #expect(throws: Errno.invalidArgument) {
            try vfs.makeLink(credentials, existing: context.operation("/f"), new: context.operation(newWithNul))
        }
        #expect(throws: Errno.invalidArgument) {
            try vfs.truncate(credentials, context.operation(withNul), size: 0)
        }
        #expect(throws: Errno.invalidArgument) {
            try vfs.setExtendedAttribute(
                credentials, context.operation("/f"), name: Array("user.a".utf8) + [0, 0x62],
                value: [], flags: 0)
        }
        #expect(try context.listDirectory("/") == ["f"])
        #expect(try vfs.listExtendedAttributes(credentials, context.operation("/f")).isEmpty)
    }

    /// Names are bytes: 0xff 0xfe is no UTF-8, and Linux creates, lists and stats it.
    @Test func nonUTF8NamesAreCreatedListedAndStatted() throws {
        let context = Self.makeContext()
        let vfs = context.vfs
        let credentials = context.credentials
        let directory: [UInt8] = [0x2F, 0xFF, 0xFE]
        let file: [UInt8] = directory + [0x2F, 0x80, 0x41]
        try vfs.makeDirectory(credentials, context.operation(directory), mode: 0o755)
        let created = try vfs.open(
            credentials, context.operation(file),
            options: OpenOptions(flags: OpenOptions.create | OpenOptions.writeOnly), mode: 0o644)
        _ = try [UInt8]([7, 8]).withUnsafeBytes { try created.write(from: $0, credentials: credentials) }

        let root = try vfs.open(credentials, context.operation("/"), options: OpenOptions(flags: OpenOptions.directory))
        var names: [[UInt8]] = []
        try root.readDirectory { entry in
            if !entry.name.isDot && !entry.name.isDotDot { names.append(Array(entry.name.bytes)) }
            return true
        }
        #expect(names == [[0xFF, 0xFE]])
        #expect(try vfs.stat(credentials, context.operation(directory)).mode.isDirectory)
        #expect(try vfs.stat(credentials, context.operation(file)).size == 2)
        let place = try vfs.getDentry(credentials, context.operation(directory))
        #expect(try vfs.pathname(of: place, root: context.root) == directory)

        let renamed: [UInt8] = directory + [0x2F, 0xC3, 0x28]  // an invalid two-byte sequence
        try vfs.rename(credentials, from: context.operation(file), to: context.operation(renamed))
        #expect(throws: Errno.noSuchFileOrDirectory) { try vfs.stat(credentials, context.operation(file)) }
        try vfs.unlink(credentials, context.operation(renamed))
        try vfs.removeDirectory(credentials, context.operation(directory))
        #expect(try context.listDirectory("/").isEmpty)
    }

    // MARK: - Offsets and counts

    @Test func extremeOffsetsForPositionalReadAndWrite() throws {
        let context = Self.makeContext()
        try Self.withOpenFile(context, "/f") { (file) throws in
            var byte: [UInt8] = [0]
            func pread(_ count: Int, _ offset: Int64) throws -> Int {
                try byte.withUnsafeMutableBytes { (buffer) throws(Errno) -> Int in
                    try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<count]), at: offset)
                }
            }
            func pwrite(_ count: Int, _ offset: Int64) throws -> Int {
                try byte.withUnsafeBytes { (buffer) throws(Errno) -> Int in
                    try file.write(
                        from: UnsafeRawBufferPointer(rebasing: buffer[..<count]), at: offset,
                        credentials: .root)
                }
            }
            // Linux 6.18: one byte at 2^63-1 passes the end of loff_t: EINVAL; zero bytes
            // there are fine. Negative offsets are EINVAL whatever the count.
            #expect(throws: Errno.invalidArgument) { try pread(1, .max) }
            #expect(try pread(0, .max) == 0)
            #expect(throws: Errno.invalidArgument) { try pwrite(1, .max) }
            #expect(try pwrite(0, .max) == 0)
            for offset in [Int64.min, -1] {
                #expect(throws: Errno.invalidArgument) { try pread(1, offset) }
                #expect(throws: Errno.invalidArgument) { try pread(0, offset) }
                #expect(throws: Errno.invalidArgument) { try pwrite(1, offset) }
                #expect(throws: Errno.invalidArgument) { try pwrite(0, offset) }
            }
            #expect(try file.stat().size == 5)
        }
    }

    @Test func extremeOffsetsForSeek() throws {
        let context = Self.makeContext()
        try Self.withOpenFile(context, "/f") { (file) throws in
            // Linux 6.18 on a 5-byte tmpfs file.
            #expect(try file.seek(.max, whence: .set) == .max)
            #expect(throws: Errno.invalidArgument) { try file.seek(.max, whence: .current) }
            #expect(try file.seek(-1, whence: .current) == .max - 1)
            #expect(throws: Errno.invalidArgument) { try file.seek(.max, whence: .end) }
            #expect(try file.seek(-1, whence: .end) == 4)
            for offset in [Int64.min, -1] {
                #expect(throws: Errno.invalidArgument) { try file.seek(offset, whence: .set) }
            }
            #expect(throws: Errno.invalidArgument) { try file.seek(.min, whence: .current) }
            #expect(throws: Errno.invalidArgument) { try file.seek(.min, whence: .end) }
            for offset in [Int64.max, .min, -1] {
                #expect(throws: Errno.noSuchAddressOrDevice) { try file.seek(offset, whence: .data) }
                #expect(throws: Errno.noSuchAddressOrDevice) { try file.seek(offset, whence: .hole) }
            }
            #expect(file.offset == 4)
        }
    }

    @Test func extremeRangesForAllocate() throws {
        // A size-limited tmpfs, as /dev/shm is: the whole 2^63-1 range is ENOSPC there.
        let context = Self.makeContext(TmpfsOptions(sizeLimit: 1 << 20))
        try Self.withOpenFile(context, "/f") { (file) throws in
            #expect(throws: Errno.noSpace) { try file.allocate(mode: [], offset: 0, length: .max) }
            #expect(throws: Errno.fileTooLarge) { try file.allocate(mode: [], offset: .max, length: 1) }
            for bad in [Int64.min, -1] {
                #expect(throws: Errno.invalidArgument) { try file.allocate(mode: [], offset: bad, length: 1) }
                #expect(throws: Errno.invalidArgument) { try file.allocate(mode: [], offset: 0, length: bad) }
            }
            #expect(throws: Errno.invalidArgument) { try file.allocate(mode: [], offset: 0, length: 0) }
            let stat = try file.stat()
            #expect(stat.size == 5)
            #expect(stat.blocks == 8)
        }
    }

    @Test func extremeSizesForTruncate() throws {
        let context = Self.makeContext()
        try context.writeFile("/f", contents: Array("hello".utf8))
        // Linux 6.18: tmpfs's s_maxbytes is 2^63-1, so truncate to it succeeds (sparsely).
        for bad in [Int64.min, -1] {
            #expect(throws: Errno.invalidArgument) { try context.truncate("/f", size: bad) }
        }
        #expect(try context.stat("/f").size == 5)
        try context.truncate("/f", size: .max)
        let stat = try context.stat("/f")
        #expect(stat.size == .max)
        #expect(stat.blocks == 8)
        let file = try context.open("/f", flags: OpenOptions.readOnly)
        var byte: [UInt8] = [9]
        let count = try byte.withUnsafeMutableBytes { (buffer) throws(Errno) -> Int in
            try file.read(into: buffer, at: .max - 1)
        }
        #expect(count == 1)
        #expect(byte == [0])
    }

    @Test func zeroLengthReadAndWriteReturnZero() throws {
        let context = Self.makeContext()
        try Self.withOpenFile(context, "/f") { (file) throws in
            let before = try file.stat()
            #expect(try file.read(into: UnsafeMutableRawBufferPointer(start: nil, count: 0)) == 0)
            #expect(
                try file.write(from: UnsafeRawBufferPointer(start: nil, count: 0), credentials: .root) == 0)
            #expect(file.offset == 0)
            let after = try file.stat()
            #expect(after.size == 5)
            #expect(after.modificationTime == before.modificationTime)
        }
    }

    /// A count past Int32.max is clamped to MAX_RW_COUNT. The buffer is a 3 GiB
    /// MAP_NORESERVE mapping: address space, not memory. Linux 6.18 on a 64 KiB tmpfs: the
    /// write returns 65536, the next one ENOSPC, a read returns 65536, and a pread whose end
    /// passes 2^63-1 is EINVAL.
    @Test func countPastInt32MaxIsClampedNotTrusted() throws {
        let length = 3 << 30
        guard
            let mapping = mmap(
                nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
            mapping != MAP_FAILED
        else {
            Issue.record("mmap of 3 GiB of address space failed: errno \(errno)")
            return
        }
        defer { munmap(mapping, length) }
        let buffer = UnsafeMutableRawBufferPointer(start: mapping, count: length)
        let context = Self.makeContext(TmpfsOptions(sizeLimit: 64 << 10))
        let file = try context.open(
            "/f", flags: OpenOptions.create | OpenOptions.readWrite, mode: 0o644)
        #expect(try file.write(from: UnsafeRawBufferPointer(buffer), credentials: .root) == 65536)
        #expect(file.offset == 65536)
        #expect(throws: Errno.noSpace) {
            try file.write(from: UnsafeRawBufferPointer(buffer), credentials: .root)
        }
        #expect(try file.seek(0, whence: .set) == 0)
        #expect(try file.read(into: buffer) == 65536)
        #expect(throws: Errno.invalidArgument) { try file.read(into: buffer, at: .max - 100) }
    }

    // MARK: - Symlinks

    @Test func symlinkTargetsOf4095And4096Bytes() throws {
        let context = Self.makeContext()
        let target = String(repeating: "x", count: 4095)
        // Linux 6.18: 4095 bytes are stored and read back; following it meets a 4095-byte
        // component (ENAMETOOLONG). 4096 bytes are ENAMETOOLONG at symlink(2); empty is ENOENT.
        try context.makeSymlink(target: target, at: "/s")
        #expect(try context.readSymlink("/s") == target)
        #expect(try context.stat("/s", followSymlink: false).size == 4095)
        #expect(throws: Errno.fileNameTooLong) { try context.stat("/s") }
        #expect(throws: Errno.fileNameTooLong) { try context.makeSymlink(target: target + "x", at: "/t") }
        #expect(throws: Errno.noSuchFileOrDirectory) { try context.makeSymlink(target: "", at: "/t") }
        #expect(try context.listDirectory("/") == ["s"])
    }

    @Test func chainOf41SymlinksIsTooManyLevels() throws {
        let context = Self.makeContext()
        try context.writeFile("/target", contents: Array("T".utf8))
        for i in 0..<41 {
            try context.makeSymlink(target: i == 40 ? "target" : "l\(i + 1)", at: "/l\(i)")
        }
        // Linux 6.18: 40 links are followed, the 41st is ELOOP, also with a trailing slash;
        // O_NOFOLLOW on a symlink and O_CREAT through a self loop are ELOOP too.
        #expect(try context.readFile("/l1") == Array("T".utf8))
        #expect(throws: Errno.tooManySymbolicLinkLevels) { try context.readFile("/l0") }
        #expect(throws: Errno.tooManySymbolicLinkLevels) { try context.stat("/l0/") }
        #expect(try context.stat("/l0", followSymlink: false).mode.isSymlink)
        #expect(throws: Errno.tooManySymbolicLinkLevels) {
            try context.open("/l0", flags: OpenOptions.noFollow)
        }
        try context.makeSymlink(target: "self", at: "/self")
        #expect(throws: Errno.tooManySymbolicLinkLevels) { try context.stat("/self") }
        #expect(throws: Errno.tooManySymbolicLinkLevels) {
            try context.open("/self", flags: OpenOptions.create | OpenOptions.writeOnly)
        }
    }

    // MARK: - Flags, modes and limits

    @Test func extendedAttributeNamesAndValuesAtAndPastTheLimits() throws {
        let context = Self.makeContext()
        let vfs = context.vfs
        try context.writeFile("/f", contents: [])
        func set(_ name: String, _ size: Int, flags: Int32 = 0) throws(Errno) {
            try vfs.setExtendedAttribute(
                .root, context.operation("/f"), name: Array(name.utf8),
                value: [UInt8](repeating: 0x76, count: size), flags: flags)
        }
        let name255 = "user." + String(repeating: "n", count: 250)
        let name256 = name255 + "n"
        // Linux 6.18 on tmpfs: 255-byte names and 65536-byte values work; 256 bytes or an
        // empty name are ERANGE, 65537 bytes E2BIG, unknown flags EINVAL, an unknown
        // namespace EOPNOTSUPP and a bare "user." EINVAL.
        try set(name255, 1)
        try set("user.big", 65536)
        #expect(try vfs.getExtendedAttribute(.root, context.operation("/f"), name: Array("user.big".utf8)).count == 65536)
        #expect(throws: Errno.outOfRange) { try set(name256, 1) }
        #expect(throws: Errno.outOfRange) { try set("", 1) }
        #expect(throws: Errno.outOfRange) {
            try vfs.getExtendedAttribute(.root, context.operation("/f"), name: Array(name256.utf8))
        }
        #expect(throws: Errno.outOfRange) {
            try vfs.removeExtendedAttribute(.root, context.operation("/f"), name: Array(name256.utf8))
        }
        #expect(throws: Errno.argListTooLong) { try set("user.big2", 65537) }
        #expect(throws: Errno.invalidArgument) { try set("user.x", 1, flags: 4) }
        #expect(throws: Errno.notSupported) { try set("foo", 1) }
        #expect(throws: Errno.invalidArgument) { try set("user.", 1) }
        #expect(try vfs.listExtendedAttributes(.root, context.operation("/f")).count == 2)
    }

    @Test func makeNodeWithGarbageModeBits() throws {
        let context = Self.makeContext()
        let vfs = context.vfs
        func mknod(_ name: String, _ mode: UInt32) throws(Errno) -> FileStat {
            try vfs.makeNode(.root, context.operation(name), mode: mode, device: 0)
            return try vfs.stat(.root, context.operation(name, followFinalSymlink: false))
        }
        // Linux 6.18: S_IFMT with every type bit, and the unused types 0o070000 and
        // 0o110000, are EINVAL; S_IFLNK EINVAL; S_IFDIR EPERM.
        for mode: UInt32 in [0o170644, 0o070644, 0o110644, 0o120777] {
            #expect(throws: Errno.invalidArgument) { try mknod("/m", mode) }
        }
        #expect(throws: Errno.notPermitted) { try mknod("/m", 0o040755) }
        // Mode 0 is a regular file with no permissions; set-ID bits on a FIFO are kept; bits
        // above 16 never reach the file system (the syscall's mode is a umode_t).
        #expect(try mknod("/zero", 0).mode.rawValue == 0o100000)
        #expect(try mknod("/fifo", 0o014755).mode.rawValue == 0o014755)
        #expect(try mknod("/high", 0xFFFF_0000 | 0o100644).mode.rawValue == 0o100644)
        #expect(try context.listDirectory("/").sorted() == ["fifo", "high", "zero"])
    }

    @Test func renameWithUnknownFlagBitsIsInvalidArgument() throws {
        let context = Self.makeContext()
        try context.writeFile("/f", contents: [])
        // Linux 6.18: unknown bits are EINVAL before the paths are looked at (even for a
        // missing source), and so is RENAME_EXCHANGE|RENAME_NOREPLACE.
        for raw: UInt32 in [8, 0x8000_0000, 0xFFFF_FFFF] {
            #expect(throws: Errno.invalidArgument) {
                try context.rename("/f", to: "/g", flags: RenameFlags(rawValue: raw))
            }
            #expect(throws: Errno.invalidArgument) {
                try context.rename("/missing", to: "/g", flags: RenameFlags(rawValue: raw))
            }
        }
        #expect(throws: Errno.invalidArgument) {
            try context.rename("/f", to: "/g", flags: [.exchange, .noReplace])
        }
        #expect(try context.listDirectory("/") == ["f"])
    }

    @Test func allocateWithUnknownModeBitsIsNotSupported() throws {
        let context = Self.makeContext()
        try Self.withOpenFile(context, "/f") { (file) throws in
            // Linux 6.18 on tmpfs: unknown bits (0x100, 2^31; 0x80 is 6.17's WRITE_ZEROES,
            // which tmpfs lacks), PUNCH_HOLE without KEEP_SIZE and the modes tmpfs does not
            // implement are EOPNOTSUPP; a bad range is EINVAL first.
            for raw: Int32 in [0x100, Int32.min, 0x80, 0x2, 0x4, 0x8, 0x10, 0x12, 0x20, 0x40] {
                #expect(throws: Errno.notSupported) {
                    try file.allocate(mode: AllocateMode(rawValue: raw), offset: 0, length: 4096)
                }
            }
            #expect(throws: Errno.invalidArgument) {
                try file.allocate(mode: AllocateMode(rawValue: 0x100), offset: -1, length: 4096)
            }
            #expect(throws: Errno.invalidArgument) {
                try file.allocate(mode: AllocateMode(rawValue: 0x100), offset: 0, length: 0)
            }
            #expect(try file.stat().blocks == 8)
        }
        // On a read-only description the mode is still judged before EBADF.
        let readOnly = try context.open("/f", flags: OpenOptions.readOnly)
        #expect(throws: Errno.notSupported) {
            try readOnly.allocate(mode: AllocateMode(rawValue: 0x100), offset: 0, length: 1)
        }
        #expect(throws: Errno.badFileDescriptor) { try readOnly.allocate(mode: [], offset: 0, length: 1) }
    }

    // MARK: - Depth

    /// 2000 nested directories made with relative paths and chdir, then removed bottom-up
    /// while another context still stands in the deepest one, so dropping it releases a chain
    /// of 2000 removed directories. Runs on a thread with a 256 KiB stack: nothing may
    /// recurse per level. Linux 6.18 (names "dir"): the 7999-byte path is ENAMETOOLONG,
    /// getcwd at depth 2000 is ENAMETOOLONG and at depth 1000 (4000 bytes) works.
    @Test func twoThousandLevelTreeDoesNotExhaustTheStack() throws {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: Result<DeepTreeOutcome, any Error>?
        let thread = Thread {
            outcome = Result { try Self.buildAndRemoveDeepTree(depth: 2000) }
            done.signal()
        }
        thread.stackSize = 256 << 10
        thread.start()
        done.wait()
        let deep = try #require(outcome).get()
        #expect(throws: Errno.fileNameTooLong) { try deep.cwdAtTheBottom.get() }
        #expect(throws: Errno.fileNameTooLong) { try deep.statOfTheWholePath.get() }
        #expect(try deep.cwdHalfway.get().utf8.count == 4000)
        #expect(try deep.statHalfway.get().nlink == 3)
        #expect(try deep.holderAfterRemoval.get().nlink == 0)
        #expect(throws: Errno.noSuchFileOrDirectory) { try deep.mkdirInRemoved.get() }
        #expect(deep.rootEntriesAfterRemoval.isEmpty)
        #expect(deep.inodesLeft == 1)
    }

    private struct DeepTreeOutcome {
        var cwdAtTheBottom: Result<String, Errno>
        var statOfTheWholePath: Result<FileStat, Errno>
        var cwdHalfway: Result<String, Errno>
        var statHalfway: Result<FileStat, Errno>
        var holderAfterRemoval: Result<FileStat, Errno>
        var mkdirInRemoved: Result<Void, Errno>
        var rootEntriesAfterRemoval: [String]
        var inodesLeft: Int
    }

    private static func buildAndRemoveDeepTree(depth: Int) throws -> DeepTreeOutcome {
        let vfs = VirtualFilesystem()
        let tmpfs = TmpfsFilesystem()
        let context = FSContext(vfs: vfs, namespace: vfs.makeNamespace(root: tmpfs, rootDentry: tmpfs.root))
        for _ in 0..<depth {
            try context.makeDirectory("dir")
            try context.changeDirectory("dir")
        }
        try context.writeFile("leaf", contents: [1])
        let cwdAtTheBottom = Result { () throws(Errno) in try context.currentDirectoryPath() }
        var holder: FSContext? = context.copy()  // stays in the deepest directory
        try context.changeDirectory("/")
        let half = Array(repeating: "dir", count: depth / 2).joined(separator: "/")
        let whole = Array(repeating: "dir", count: depth).joined(separator: "/")
        let statOfTheWholePath = Result { () throws(Errno) in try context.stat(whole + "/leaf") }
        let statHalfway = Result { () throws(Errno) in try context.stat(half) }
        try context.changeDirectory(half)
        let cwdHalfway = Result { () throws(Errno) in try context.currentDirectoryPath() }
        try context.changeDirectory(half)
        try context.unlink("leaf")
        for _ in 0..<depth {
            try context.changeDirectory("..")
            try context.removeDirectory("dir")
        }
        let holderAfterRemoval = Result { () throws(Errno) -> FileStat in
            guard let holder else { throw Errno.badFileDescriptor }
            return try holder.stat(".")
        }
        let mkdirInRemoved = Result { () throws(Errno) -> Void in
            guard let holder else { throw Errno.badFileDescriptor }
            try holder.makeDirectory("x")
        }
        holder = nil  // releases the chain of removed directories, here on this thread
        return DeepTreeOutcome(
            cwdAtTheBottom: cwdAtTheBottom, statOfTheWholePath: statOfTheWholePath,
            cwdHalfway: cwdHalfway, statHalfway: statHalfway, holderAfterRemoval: holderAfterRemoval,
            mkdirInRemoved: mkdirInRemoved, rootEntriesAfterRemoval: try context.listDirectory("/"),
            inodesLeft: tmpfs.inodesInUse)
    }
}

import TmpfsBackend
import Testing
import VFSCore

/// Path resolution as Linux 6.18 does it on tmpfs: symlinks, trailing slashes, `.` and `..`,
/// length limits, the final components operations reject, and the delegated-resolution
/// contract. Each errno was observed with python3 against /dev/shm.
@Suite struct PathResolutionTests {
    let world = CoreTestWorld()
    var ctx: FSContext { world.ctx }

    /// /d (dir), /d/inner (file "in"), /f (file "abc").
    init() throws {
        try world.ctx.makeDirectory("/d")
        try world.ctx.writeFile("/d/inner", contents: Array("in".utf8))
        try world.ctx.writeFile("/f", contents: Array("abc".utf8))
    }

    // MARK: - Symlinks

    @Test func relativeSymlinkIsFollowed() throws {
        try ctx.makeSymlink(target: "d/inner", at: "/rel")
        #expect(try ctx.readFile("/rel") == Array("in".utf8))
    }

    @Test func absoluteSymlinkRestartsAtTheRoot() throws {
        try ctx.makeSymlink(target: "/d", at: "/d/abs")
        #expect(try ctx.readFile("/d/abs/inner") == Array("in".utf8))
    }

    @Test func symlinkInTheMiddleIsFollowedEvenWithoutFollowingTheFinal() throws {
        try ctx.makeSymlink(target: "d", at: "/md")
        // Linux 6.18: lstat("md/inner") is the regular file, lstat("md") the link.
        #expect(try ctx.stat("/md/inner", followSymlink: false).mode.isRegular)
        #expect(try ctx.stat("/md", followSymlink: false).mode.isSymlink)
    }

    @Test func chainOfSymlinksIsFollowedToTheEnd() throws {
        try ctx.makeSymlink(target: "f", at: "/c0")
        try ctx.makeSymlink(target: "/c0", at: "/c1")
        try ctx.makeSymlink(target: "../c1", at: "/d/c2")
        try ctx.makeSymlink(target: "../d/c2", at: "/d/c3")
        #expect(try ctx.stat("/d/c3").size == 3)
    }

    /// Builds l0 -> f, l1 -> l0, ... so that resolving `l<n>` follows n+1 links.
    private func makeChain(count: Int) throws {
        try ctx.makeSymlink(target: "f", at: "/l0")
        for i in 1..<count { try ctx.makeSymlink(target: "l\(i - 1)", at: "/l\(i)") }
    }

    @Test func fortySymlinksAreAllowed() throws {
        try makeChain(count: 41)
        // Linux 6.18: stat of l39 (40 links) succeeds.
        #expect(try ctx.stat("/l39").size == 3)
    }

    @Test func fortyOneSymlinksAreELOOP() throws {
        try makeChain(count: 41)
        // Linux 6.18: stat of l40 (41 links) is ELOOP.
        #expect(throws: Errno.tooManySymbolicLinkLevels) { try ctx.stat("/l40") }
    }

    @Test func symlinkLoopIsELOOP() throws {
        try ctx.makeSymlink(target: "loopb", at: "/loopa")
        try ctx.makeSymlink(target: "loopa", at: "/loopb")
        #expect(throws: Errno.tooManySymbolicLinkLevels) { try ctx.stat("/loopa") }
    }

    @Test func noFollowOnAFinalSymlinkIsELOOP() throws {
        try ctx.makeSymlink(target: "f", at: "/l")
        #expect(throws: Errno.tooManySymbolicLinkLevels) {
            try ctx.open("/l", flags: OpenOptions.readOnly | OpenOptions.noFollow)
        }
    }

    @Test func pathOnlyWithNoFollowOpensTheSymlinkItself() throws {
        try ctx.makeSymlink(target: "f", at: "/l")
        let file = try ctx.open("/l", flags: OpenOptions.pathOnly | OpenOptions.noFollow)
        #expect(file.dentry.isSymlink)
        #expect(try file.stat().mode.isSymlink)
    }

    @Test func danglingSymlinkStatIsENOENTButLstatWorks() throws {
        try ctx.makeSymlink(target: "newtarget", at: "/dang")
        #expect(throws: Errno.noSuchFileOrDirectory) { try ctx.stat("/dang") }
        #expect(try ctx.stat("/dang", followSymlink: false).mode.isSymlink)
    }

    @Test func createThroughADanglingSymlinkCreatesTheTarget() throws {
        try ctx.makeSymlink(target: "newtarget", at: "/dang")
        // Linux 6.18: open("dang", O_CREAT|O_WRONLY) creates "newtarget".
        _ = try ctx.open("/dang", flags: OpenOptions.create | OpenOptions.writeOnly)
        #expect(try ctx.stat("/newtarget").mode.isRegular)
        #expect(try ctx.stat("/dang", followSymlink: false).mode.isSymlink)
    }

    @Test func createThroughADanglingSymlinkIntoAMissingDirectoryIsENOENT() throws {
        try ctx.makeSymlink(target: "sub/nt", at: "/dang")
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try ctx.open("/dang", flags: OpenOptions.create | OpenOptions.writeOnly)
        }
    }

    @Test func exclusiveCreateOnASymlinkIsEEXIST() throws {
        try ctx.makeSymlink(target: "newtarget", at: "/dang")
        // Linux 6.18: O_CREAT|O_EXCL never follows the final link; the name exists.
        #expect(throws: Errno.fileExists) {
            try ctx.open(
                "/dang", flags: OpenOptions.create | OpenOptions.exclusive | OpenOptions.writeOnly)
        }
        #expect(throws: Errno.noSuchFileOrDirectory) { try ctx.stat("/newtarget") }
    }

    // MARK: - Trailing slashes

    @Test func trailingSlashOnAFileIsENOTDIR() throws {
        #expect(throws: Errno.notDirectory) { try ctx.stat("/f/") }
        #expect(throws: Errno.notDirectory) { try ctx.open("/f/", flags: OpenOptions.readOnly) }
    }

    @Test func trailingSlashFollowsASymlinkToADirectory() throws {
        try ctx.makeSymlink(target: "d", at: "/ld")
        // Linux 6.18: lstat("ld/") is the directory.
        #expect(try ctx.stat("/ld/", followSymlink: false).mode.isDirectory)
    }

    @Test func trailingSlashOnASymlinkToAFileIsENOTDIR() throws {
        try ctx.makeSymlink(target: "f", at: "/lf")
        #expect(throws: Errno.notDirectory) { try ctx.stat("/lf/", followSymlink: false) }
    }

    @Test func mkdirWithATrailingSlashWorks() throws {
        try ctx.makeDirectory("/x/")
        #expect(try ctx.stat("/x").mode.isDirectory)
    }

    @Test func createWithATrailingSlashIsEISDIR() throws {
        #expect(throws: Errno.isDirectory) {
            try ctx.open("/y/", flags: OpenOptions.create | OpenOptions.writeOnly)
        }
        #expect(throws: Errno.isDirectory) {
            try ctx.open("/d/", flags: OpenOptions.create | OpenOptions.readOnly)
        }
        #expect(throws: Errno.noSuchFileOrDirectory) { try ctx.stat("/y") }
    }

    @Test func unlinkWithATrailingSlashOnAFileIsENOTDIR() throws {
        #expect(throws: Errno.notDirectory) { try ctx.unlink("/f/") }
    }

    @Test func unlinkWithATrailingSlashOnADirectoryIsEISDIR() throws {
        #expect(throws: Errno.isDirectory) { try ctx.unlink("/d/") }
        #expect(throws: Errno.isDirectory) { try ctx.unlink("/d") }
    }

    // MARK: - Dot and dot-dot

    @Test func dotDotAtTheRootStaysAtTheRoot() throws {
        #expect(try ctx.stat("/..").inode == ctx.stat("/").inode)
        #expect(try ctx.stat("/../../d/inner").size == 2)
    }

    @Test func dotDotInTheMiddleGoesUp() throws {
        #expect(try ctx.stat("/d/../f").size == 3)
        #expect(try ctx.stat("/d/./.././d/inner").size == 2)
    }

    @Test func dotDotAfterAMissingNameIsENOENT() throws {
        // Linux 6.18: every component must exist, even one `..` would cancel.
        #expect(throws: Errno.noSuchFileOrDirectory) { try ctx.stat("/nonexist/../f") }
    }

    @Test func dotDotOrDotAfterAFileIsENOTDIR() throws {
        #expect(throws: Errno.notDirectory) { try ctx.stat("/f/../f") }
        #expect(throws: Errno.notDirectory) { try ctx.stat("/f/.") }
    }

    @Test func mkdirOfDotDotDotOrRootIsEEXIST() throws {
        #expect(throws: Errno.fileExists) { try ctx.makeDirectory(".") }
        #expect(throws: Errno.fileExists) { try ctx.makeDirectory("..") }
        #expect(throws: Errno.fileExists) { try ctx.makeDirectory("/") }
        #expect(throws: Errno.fileExists) { try ctx.makeDirectory("/d/.") }
    }

    @Test func rmdirOfDotIsEINVAL() throws {
        #expect(throws: Errno.invalidArgument) { try ctx.removeDirectory(".") }
        #expect(throws: Errno.invalidArgument) { try ctx.removeDirectory("/d/.") }
    }

    @Test func rmdirOfDotDotIsENOTEMPTY() throws {
        #expect(throws: Errno.directoryNotEmpty) { try ctx.removeDirectory("..") }
        #expect(throws: Errno.directoryNotEmpty) { try ctx.removeDirectory("/d/..") }
    }

    @Test func rmdirOfTheRootIsEBUSY() throws {
        #expect(throws: Errno.resourceBusy) { try ctx.removeDirectory("/") }
    }

    @Test func renameWithAFinalDotIsEBUSY() throws {
        #expect(throws: Errno.resourceBusy) { try ctx.rename("/d/.", to: "/e") }
        #expect(throws: Errno.resourceBusy) { try ctx.rename("/f", to: "/d/.") }
        #expect(throws: Errno.resourceBusy) { try ctx.rename("/d/..", to: "/e") }
    }

    // MARK: - Empty paths, lengths, NUL

    @Test func emptyPathIsENOENT() throws {
        #expect(throws: Errno.noSuchFileOrDirectory) { try ctx.stat("") }
    }

    @Test func emptyPathWithAllowEmptyPathNamesTheStart() throws {
        let start = try world.place("/d")
        var operation = ctx.operation("", from: start)
        operation.allowEmptyPath = true
        let found = try world.vfs.getDentry(.root, operation)
        #expect(found.isSame(as: start))
        #expect(try world.vfs.stat(.root, operation).mode.isDirectory)
    }

    @Test func nameOf255BytesWorks() throws {
        let name = "/" + String(repeating: "a", count: 255)
        try ctx.writeFile(name, contents: [1])
        #expect(try ctx.stat(name).size == 1)
    }

    @Test func nameOf256BytesIsENAMETOOLONG() throws {
        let name = "/" + String(repeating: "a", count: 256)
        #expect(throws: Errno.fileNameTooLong) { try ctx.writeFile(name, contents: [1]) }
        #expect(throws: Errno.fileNameTooLong) { try ctx.stat(name) }
    }

    /// A relative path of exactly `length` bytes naming /f: ".//" then "./" repeats then "f",
    /// with one extra slash when the length is even.
    private func path(ofLength length: Int) -> String {
        let repeats = (length - 4) / 2
        var path = ".//" + String(repeating: "./", count: repeats) + "f"
        if path.utf8.count < length { path = ".///" + String(path.dropFirst(3)) }
        return path
    }

    @Test func pathOf4095BytesWorks() throws {
        let path = path(ofLength: 4095)
        #expect(path.utf8.count == 4095)
        #expect(try ctx.stat(path).size == 3)
    }

    @Test func pathOf4096BytesIsENAMETOOLONG() throws {
        let path = path(ofLength: 4096)
        #expect(path.utf8.count == 4096)
        // Linux 6.18: a 4096-byte path cannot fit PATH_MAX with its NUL.
        #expect(throws: Errno.fileNameTooLong) { try ctx.stat(path) }
    }

    @Test func nulByteInAPathIsEINVAL() throws {
        // Our documented choice: a C caller cannot pass one; we refuse rather than truncate.
        #expect(throws: Errno.invalidArgument) { try ctx.stat("/f\u{0}junk") }
        #expect(throws: Errno.invalidArgument) { try ctx.makeDirectory("/n\u{0}") }
    }

    // MARK: - chroot and getcwd

    @Test func dotDotCannotLeaveAChangedRoot() throws {
        try ctx.makeDirectory("/jail")
        try ctx.makeDirectory("/jail/sub")
        try ctx.writeFile("/jail/sub/f", contents: [7])
        try ctx.changeRoot("/jail")
        try ctx.changeDirectory("/")
        #expect(try ctx.stat("/..").inode == ctx.stat("/").inode)
        #expect(try ctx.listDirectory("/../..").sorted() == ["sub"])
        try ctx.changeDirectory("/sub")
        #expect(try ctx.listDirectory("../..").sorted() == ["sub"])
    }

    @Test func absoluteSymlinksResolveInsideAChangedRoot() throws {
        try ctx.makeDirectory("/jail")
        try ctx.makeDirectory("/jail/d")
        try ctx.writeFile("/jail/d/inner", contents: Array("jailed".utf8))
        try ctx.makeSymlink(target: "/d/inner", at: "/jail/absl")
        try ctx.changeRoot("/jail")
        #expect(try ctx.readFile("/absl") == Array("jailed".utf8))
    }

    @Test func workingDirectoryPathIsReported() throws {
        try ctx.makeDirectory("/d/e")
        try ctx.changeDirectory("/d/e")
        #expect(try ctx.currentDirectoryPath() == "/d/e")
        try ctx.changeDirectory("..")
        #expect(try ctx.currentDirectoryPath() == "/d")
    }

    @Test func workingDirectoryPathAfterRemovalIsENOENT() throws {
        try ctx.makeDirectory("/gone")
        try ctx.changeDirectory("/gone")
        try ctx.removeDirectory("/gone")
        #expect(throws: Errno.noSuchFileOrDirectory) { try ctx.currentDirectoryPath() }
    }

    @Test func workingDirectoryOutsideTheRootIsUnreachable() throws {
        try ctx.makeDirectory("/jail")
        try ctx.changeDirectory("/d")
        try ctx.changeRoot("/jail")
        // Linux 6.18's getcwd syscall: "(unreachable)/dev/shm/h2c/out" for a cwd outside.
        #expect(try ctx.currentDirectoryPath() == "(unreachable)/d")
    }

    @Test func workingDirectoryInsideAChangedRootIsRelativeToIt() throws {
        try ctx.makeDirectory("/jail")
        try ctx.makeDirectory("/jail/sub")
        try ctx.changeRoot("/jail")
        try ctx.changeDirectory("/sub")
        #expect(try ctx.currentDirectoryPath() == "/sub")
    }
}

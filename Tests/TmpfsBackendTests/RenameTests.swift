import TmpfsBackend
import Testing
import VFSCore

/// rename and renameat2 through the VFS. Every errno and outcome was observed with python3
/// (os.rename, and renameat2 through ctypes) on /dev/shm (tmpfs, Linux 6.18).
@Suite struct RenameTests {
    private func contents(_ world: TmpfsWorld, _ path: String) throws -> String {
        String(decoding: try world.ctx.readFile(path), as: UTF8.self)
    }

    @Test func movingDirectoryIntoItsOwnSubtreeIsEINVAL() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/a")
        try world.ctx.makeDirectory("/a/b")
        try world.ctx.makeDirectory("/a/b/c")
        // Linux 6.18 on tmpfs: rename("a", "a/b/x") and ("a", "a/b/c/x") give EINVAL.
        #expect(throws: Errno.invalidArgument) { try world.ctx.rename("/a", to: "/a/b/x") }
        #expect(throws: Errno.invalidArgument) { try world.ctx.rename("/a", to: "/a/b/c/x") }
    }

    @Test func renamingDirectoryOntoItsOwnDescendantIsEINVAL() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/a")
        try world.ctx.makeDirectory("/a/b")
        try world.ctx.makeDirectory("/a/b/c")
        // Linux 6.18 on tmpfs: rename("a/b", "a/b/c") gives EINVAL (the source is the trap).
        #expect(throws: Errno.invalidArgument) { try world.ctx.rename("/a/b", to: "/a/b/c") }
    }

    @Test func renamingOntoNonEmptyDirectoryIsENOTEMPTY() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/ne")
        try world.ctx.makeDirectory("/ne/x")
        try world.ctx.makeDirectory("/src")
        #expect(throws: Errno.directoryNotEmpty) { try world.ctx.rename("/src", to: "/ne") }
        #expect(try world.ctx.stat("/src").mode.isDirectory)
    }

    @Test func fileOntoDirectoryIsEISDIR() throws {
        let world = TmpfsWorld()
        try world.ctx.writeFile("/f", contents: [])
        try world.ctx.makeDirectory("/d")
        #expect(throws: Errno.isDirectory) { try world.ctx.rename("/f", to: "/d") }
    }

    @Test func directoryOntoFileIsENOTDIR() throws {
        let world = TmpfsWorld()
        try world.ctx.writeFile("/f", contents: [])
        try world.ctx.makeDirectory("/d")
        #expect(throws: Errno.notDirectory) { try world.ctx.rename("/d", to: "/f") }
    }

    @Test func noReplaceOntoExistingNameIsEEXIST() throws {
        let world = TmpfsWorld()
        try world.ctx.writeFile("/f", contents: Array("f".utf8))
        try world.ctx.writeFile("/g", contents: Array("g".utf8))
        #expect(throws: Errno.fileExists) { try world.ctx.rename("/f", to: "/g", flags: .noReplace) }
        #expect(try contents(world, "/g") == "g")
    }

    @Test func noReplaceOntoFreeNameMoves() throws {
        let world = TmpfsWorld()
        try world.ctx.writeFile("/f", contents: Array("f".utf8))
        try world.ctx.rename("/f", to: "/h", flags: .noReplace)
        #expect(try contents(world, "/h") == "f")
        #expect(throws: Errno.noSuchFileOrDirectory) { try world.ctx.stat("/f") }
    }

    @Test func exchangeSwapsTwoFiles() throws {
        let world = TmpfsWorld()
        try world.ctx.writeFile("/f", contents: Array("f".utf8))
        try world.ctx.writeFile("/g", contents: Array("g".utf8))
        try world.ctx.rename("/f", to: "/g", flags: .exchange)
        #expect(try contents(world, "/f") == "g")
        #expect(try contents(world, "/g") == "f")
    }

    @Test func exchangeSwapsFileAndDirectory() throws {
        let world = TmpfsWorld()
        try world.ctx.writeFile("/f", contents: Array("f".utf8))
        try world.ctx.makeDirectory("/d")
        try world.ctx.writeFile("/d/inner", contents: [])
        try world.ctx.rename("/f", to: "/d", flags: .exchange)
        #expect(try world.ctx.stat("/f").mode.isDirectory)
        #expect(try world.ctx.listDirectory("/f") == ["inner"])
        #expect(try contents(world, "/d") == "f")
    }

    @Test func exchangeAcrossDirectoriesSwapsAndUpdatesParentLinks() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/P1")
        try world.ctx.makeDirectory("/P2")
        try world.ctx.makeDirectory("/P1/d")
        try world.ctx.writeFile("/P2/file", contents: Array("z".utf8))
        #expect(try world.ctx.stat("/P1").nlink == 3)
        #expect(try world.ctx.stat("/P2").nlink == 2)
        try world.ctx.rename("/P1/d", to: "/P2/file", flags: .exchange)
        // Linux 6.18 on tmpfs: P1 3 -> 2, P2 2 -> 3; P2/file is now the directory.
        #expect(try world.ctx.stat("/P1").nlink == 2)
        #expect(try world.ctx.stat("/P2").nlink == 3)
        #expect(try world.ctx.stat("/P2/file").mode.isDirectory)
        #expect(try contents(world, "/P1/d") == "z")
    }

    @Test func exchangedDirectoryDotDotNamesItsNewParent() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/P1")
        try world.ctx.makeDirectory("/P2")
        try world.ctx.makeDirectory("/P1/d")
        try world.ctx.writeFile("/P2/file", contents: [])
        try world.ctx.rename("/P1/d", to: "/P2/file", flags: .exchange)
        #expect(try world.ctx.stat("/P2/file/..").inode == world.ctx.stat("/P2").inode)
        try world.ctx.changeDirectory("/P2/file")
        #expect(try world.ctx.currentDirectoryPath() == "/P2/file")
    }

    @Test func exchangeWithMissingNameIsENOENT() throws {
        let world = TmpfsWorld()
        try world.ctx.writeFile("/f", contents: [])
        // Linux 6.18 on tmpfs: ENOENT whichever side is missing.
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try world.ctx.rename("/f", to: "/missing", flags: .exchange)
        }
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try world.ctx.rename("/missing", to: "/f", flags: .exchange)
        }
        #expect(try world.ctx.stat("/f").mode.isRegular)
    }

    @Test func exchangeWithNoReplaceIsEINVAL() throws {
        let world = TmpfsWorld()
        try world.ctx.writeFile("/f", contents: [])
        try world.ctx.writeFile("/g", contents: [])
        #expect(throws: Errno.invalidArgument) {
            try world.ctx.rename("/f", to: "/g", flags: [.exchange, .noReplace])
        }
        // EINVAL for the flags comes before any lookup.
        #expect(throws: Errno.invalidArgument) {
            try world.ctx.rename("/nope", to: "/nada", flags: [.exchange, .noReplace])
        }
    }

    @Test func trailingSlashOnNonDirectorySourceIsENOTDIR() throws {
        let world = TmpfsWorld()
        try world.ctx.writeFile("/f", contents: [])
        // Linux 6.18 on tmpfs: rename("f/", "zz") and rename("f", "zz/") give ENOTDIR.
        #expect(throws: Errno.notDirectory) { try world.ctx.rename("/f/", to: "/zz") }
        #expect(throws: Errno.notDirectory) { try world.ctx.rename("/f", to: "/zz/") }
        #expect(try world.ctx.stat("/f").mode.isRegular)
    }

    @Test func trailingSlashesOnDirectoriesAreFine() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/src")
        try world.ctx.rename("/src/", to: "/src2/")
        #expect(try world.ctx.stat("/src2").mode.isDirectory)
    }

    @Test func renameOntoItselfIsANoOp() throws {
        let clock = StepClock()
        let world = TmpfsWorld(clock: clock)
        try world.ctx.writeFile("/f", contents: Array("f".utf8))
        try world.ctx.makeDirectory("/d")
        let before = try world.ctx.stat("/f")
        let rootBefore = try world.ctx.stat("/")
        clock.tick()
        try world.ctx.rename("/f", to: "/f")
        try world.ctx.rename("/d", to: "/d")
        // Linux 6.18 on tmpfs: succeeds and no timestamp of the file or directory moves.
        #expect(try world.ctx.stat("/f") == before)
        #expect(try world.ctx.stat("/") == rootBefore)
        #expect(try contents(world, "/f") == "f")
    }

    @Test func targetThatIsAnAncestorOfTheSourceIsENOTEMPTY() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/x")
        try world.ctx.makeDirectory("/x/y")
        try world.ctx.makeDirectory("/x/y/z")
        // Linux 6.18 on tmpfs: rename("x/y/z", "x") and ("x/y/z", "x/y") give ENOTEMPTY.
        #expect(throws: Errno.directoryNotEmpty) { try world.ctx.rename("/x/y/z", to: "/x") }
        #expect(throws: Errno.directoryNotEmpty) { try world.ctx.rename("/x/y/z", to: "/x/y") }
    }

    @Test func ancestorTargetWithExchangeIsEINVALAndWithNoReplaceEEXIST() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/x")
        try world.ctx.makeDirectory("/x/y")
        try world.ctx.makeDirectory("/x/y/z")
        // Linux 6.18 on tmpfs: EXCHANGE either way round gives EINVAL; NOREPLACE gives EEXIST.
        #expect(throws: Errno.invalidArgument) {
            try world.ctx.rename("/x/y/z", to: "/x", flags: .exchange)
        }
        #expect(throws: Errno.invalidArgument) {
            try world.ctx.rename("/x", to: "/x/y/z", flags: .exchange)
        }
        #expect(throws: Errno.fileExists) {
            try world.ctx.rename("/x/y/z", to: "/x", flags: .noReplace)
        }
    }

    @Test func movedDirectoryKeepsItsContentsAndPath() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/a")
        try world.ctx.makeDirectory("/b")
        try world.ctx.makeDirectory("/a/d")
        try world.ctx.writeFile("/a/d/f", contents: [9])
        try world.ctx.changeDirectory("/a/d")
        try world.ctx.rename("/a/d", to: "/b/e")
        #expect(try world.ctx.currentDirectoryPath() == "/b/e")
        #expect(try world.ctx.readFile("f") == [9])
        #expect(try world.ctx.stat("..").inode == world.ctx.stat("/b").inode)
    }
}

import TmpfsBackend
import Testing
import VFSCore

/// getdents through `FileDescription.readDirectory`: `.` and `..` first, stable iteration while
/// the directory changes between batches, resumption from an entry's offset. Checked against
/// getdents64 (through ctypes, with small buffers) on /dev/shm (tmpfs, Linux 6.18). Linux 6.18
/// lists newest entries first; the order itself is not part of the contract tested here.
@Suite struct ReaddirTests {
    private func openDirectory(_ world: TmpfsWorld, _ path: String) throws -> FileDescription {
        try world.ctx.open(path, flags: OpenOptions.readOnly | OpenOptions.directory)
    }

    /// Up to `count` entries from the description's offset.
    private func batch(_ file: FileDescription, _ count: Int) throws -> [DirectoryEntry] {
        var got: [DirectoryEntry] = []
        try file.readDirectory { entry in
            guard got.count < count else { return false }
            got.append(entry)
            return true
        }
        return got
    }

    @Test func dotAndDotDotComeFirstWithTheirInodeNumbers() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/e")
        for index in 0..<3 { try world.ctx.writeFile("/e/f\(index)", contents: []) }
        let entries = try TmpfsWorld.entries(try openDirectory(world, "/e"))
        // Linux 6.18 on tmpfs: ('.', ino of e, DT_DIR), ('..', ino of the parent, DT_DIR), ...
        #expect(entries.count == 5)
        #expect(entries[0].name.description == ".")
        #expect(entries[0].inode == (try world.ctx.stat("/e").inode))
        #expect(entries[0].type == .directory)
        #expect(entries[1].name.description == "..")
        #expect(entries[1].inode == (try world.ctx.stat("/").inode))
        #expect(entries[1].type == .directory)
        #expect(Set(entries.dropFirst(2).map(\.name.description)) == ["f0", "f1", "f2"])
    }

    @Test func dotDotOfTheRootIsTheRoot() throws {
        let world = TmpfsWorld()
        let entries = try TmpfsWorld.entries(try openDirectory(world, "/"))
        let root = try world.ctx.stat("/").inode
        #expect(entries.map(\.name.description) == [".", ".."])
        #expect(entries.map(\.inode) == [root, root])
    }

    @Test func entriesCarryInodeNumberAndType() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/e")
        try world.ctx.writeFile("/e/f", contents: [])
        try world.ctx.makeDirectory("/e/d")
        try world.ctx.makeSymlink(target: "f", at: "/e/l")
        try world.ctx.makeNode("/e/p", mode: FileType.fifo.rawValue | 0o644)
        try world.ctx.makeNode("/e/s", mode: FileType.socket.rawValue | 0o644)
        let entries = try TmpfsWorld.entries(try openDirectory(world, "/e")).dropFirst(2)
        var types: [String: FileType] = [:]
        for entry in entries {
            types[entry.name.description] = entry.type
            let stat = try world.ctx.stat("/e/\(entry.name)", followSymlink: false)
            #expect(entry.inode == stat.inode)
        }
        #expect(
            types == ["f": .regular, "d": .directory, "l": .symlink, "p": .fifo, "s": .socket])
    }

    @Test func batchesSeeEveryStableEntryExactlyOnceWhileTheDirectoryChanges() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/e")
        let stable = (0..<40).map { "keep\($0)" }
        let doomed = (0..<20).map { "gone\($0)" }
        let moved = (0..<10).map { "move\($0)" }
        for name in stable + doomed + moved { try world.ctx.writeFile("/e/\(name)", contents: []) }
        let directory = try openDirectory(world, "/e")
        var seen: [String] = []
        var round = 0
        while true {
            let got = try batch(directory, 3)
            if got.isEmpty { break }
            seen += got.map(\.name.description)
            // Between batches: create, unlink and rename other entries (for a bounded number of
            // rounds, or a reader that has caught up would chase the creations forever).
            if round < 30 { try world.ctx.writeFile("/e/new\(round)", contents: []) }
            if round < doomed.count { try world.ctx.unlink("/e/\(doomed[round])") }
            if round < moved.count {
                try world.ctx.rename("/e/\(moved[round])", to: "/e/renamed\(round)")
            }
            round += 1
        }
        #expect(Array(seen.prefix(2)) == [".", ".."])
        for name in stable {
            #expect(seen.count { $0 == name } == 1, "\(name)")
        }
        #expect(Set(seen).count == seen.count, "no entry twice")
    }

    @Test func batchEndingOnRejectedEntryResumesWithThatEntry() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/e")
        for index in 0..<5 { try world.ctx.writeFile("/e/f\(index)", contents: []) }
        let all = try TmpfsWorld.entries(try openDirectory(world, "/e")).map(\.name.description)
        let directory = try openDirectory(world, "/e")
        var pieces: [String] = []
        for size in [1, 2, 1, 3, 5] {
            pieces += try batch(directory, size).map(\.name.description)
        }
        #expect(pieces == all)
        #expect(try batch(directory, 5).isEmpty)
    }

    @Test func seekingToAnEntrysNextOffsetResumesAfterIt() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/e")
        for index in 0..<6 { try world.ctx.writeFile("/e/f\(index)", contents: []) }
        let all = try TmpfsWorld.entries(try openDirectory(world, "/e"))
        for (index, entry) in all.enumerated() {
            let directory = try openDirectory(world, "/e")
            #expect(try directory.seek(entry.nextOffset, whence: .set) == entry.nextOffset)
            let rest = try TmpfsWorld.entries(directory).map(\.name.description)
            #expect(rest == all[(index + 1)...].map(\.name.description), "after \(entry.name)")
        }
    }

    @Test func resumingFromAnOffsetSkipsEntriesRemovedMeanwhile() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/e")
        for index in 0..<6 { try world.ctx.writeFile("/e/f\(index)", contents: []) }
        let first = try openDirectory(world, "/e")
        let head = try batch(first, 4)
        let rest = try TmpfsWorld.entries(try openDirectory(world, "/e")).dropFirst(4)
        guard let resume = head.last?.nextOffset, let removed = rest.first else {
            Issue.record("directory too short")
            return
        }
        try world.ctx.unlink("/e/\(removed.name)")
        let second = try openDirectory(world, "/e")
        _ = try second.seek(resume, whence: .set)
        let tail = try TmpfsWorld.entries(second).map(\.name.description)
        #expect(tail == rest.dropFirst().map(\.name.description))
    }

    @Test func rewindingReadsEverythingAgain() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/e")
        try world.ctx.writeFile("/e/a", contents: [])
        let directory = try openDirectory(world, "/e")
        let once = try TmpfsWorld.entries(directory).map(\.name.description)
        #expect(try TmpfsWorld.entries(directory).isEmpty)
        _ = try directory.seek(0, whence: .set)
        #expect(try TmpfsWorld.entries(directory).map(\.name.description) == once)
    }

    @Test func getdentsOnRemovedDirectoryIsENOENT() throws {
        let world = TmpfsWorld()
        try world.ctx.makeDirectory("/d")
        let directory = try openDirectory(world, "/d")
        try world.ctx.removeDirectory("/d")
        // Linux 6.18 on tmpfs: getdents64 on an rmdir'ed directory opened before gives ENOENT.
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try directory.readDirectory { _ in true }
        }
    }

    @Test func getdentsOnRegularFileIsENOTDIR() throws {
        let world = TmpfsWorld()
        try world.ctx.writeFile("/f", contents: [])
        let file = try world.ctx.open("/f", flags: OpenOptions.readOnly)
        // Linux 6.18 on tmpfs: getdents64 on a regular file gives ENOTDIR.
        #expect(throws: Errno.notDirectory) { try file.readDirectory { _ in true } }
    }

    @Test func directorySeekFromEndOrForDataOrHoleIsEINVAL() throws {
        let world = TmpfsWorld()
        let directory = try openDirectory(world, "/")
        // Linux 6.18 on tmpfs: lseek(dirfd, 0, SEEK_END / SEEK_DATA / SEEK_HOLE) gives EINVAL.
        #expect(throws: Errno.invalidArgument) { try directory.seek(0, whence: .end) }
        #expect(throws: Errno.invalidArgument) { try directory.seek(0, whence: .data) }
        #expect(throws: Errno.invalidArgument) { try directory.seek(0, whence: .hole) }
    }
}

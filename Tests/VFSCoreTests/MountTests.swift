import TmpfsBackend
import Testing
import VFSCore

/// Mounts, bind mounts, unmounting and mount namespaces, each behaviour observed on Linux
/// 6.18 with tmpfs mounts made in a private mount namespace (unshare -m).
@Suite struct MountTests {
    let world = CoreTestWorld()
    var ctx: FSContext { world.ctx }

    /// /m (dir, holding /m/hidden and /m/sub, covered by mounts in tests), /f.
    init() throws {
        try world.ctx.makeDirectory("/m")
        try world.ctx.makeDirectory("/m/sub")
        try world.ctx.writeFile("/m/hidden", contents: Array("hidden".utf8))
        try world.ctx.writeFile("/f", contents: Array("abc".utf8))
    }

    @discardableResult
    private func mountTmpfs(at path: String) throws -> TmpfsFilesystem {
        let fs = TmpfsFilesystem()
        try ctx.mount(fs, root: fs.root, at: path)
        return fs
    }

    // MARK: - Crossing mounts

    @Test func walkCrossesIntoAMountedFilesystem() throws {
        try mountTmpfs(at: "/m")
        try ctx.makeDirectory("/m/in")
        try ctx.writeFile("/m/in/f", contents: [9])
        #expect(try ctx.readFile("/m/in/f") == [9])
        #expect(try ctx.stat("/m").dev != ctx.stat("/").dev)
        #expect(try ctx.stat("/m/in/f").dev == ctx.stat("/m").dev)
    }

    @Test func dotDotOutOfAMountedRootLandsInTheParentFilesystem() throws {
        try mountTmpfs(at: "/m")
        try ctx.makeDirectory("/m/in")
        try ctx.writeFile("/m/in/f", contents: [9])
        #expect(try ctx.listDirectory("/m/..").sorted() == ["f", "m"])
        #expect(try ctx.stat("/m/in/../../m/in/f").size == 1)
        try ctx.changeDirectory("/m")
        #expect(try ctx.stat("..").dev == ctx.stat("/").dev)
        #expect(try ctx.stat("../f").size == 3)
    }

    @Test func mountingHidesTheCoveredEntries() throws {
        try mountTmpfs(at: "/m")
        #expect(throws: Errno.noSuchFileOrDirectory) { try ctx.stat("/m/hidden") }
        #expect(try ctx.listDirectory("/m").isEmpty)
    }

    @Test func unmountRevealsTheCoveredEntries() throws {
        try mountTmpfs(at: "/m")
        try ctx.writeFile("/m/new", contents: [1])
        try ctx.unmount("/m")
        #expect(try ctx.readFile("/m/hidden") == Array("hidden".utf8))
        #expect(try ctx.listDirectory("/m").sorted() == ["hidden", "sub"])
    }

    @Test func stackedMountsShowTheTopmostAndUnmountPopsOne() throws {
        try mountTmpfs(at: "/m")
        try ctx.writeFile("/m/lower", contents: [1])
        try mountTmpfs(at: "/m")
        #expect(try ctx.listDirectory("/m").isEmpty)
        try ctx.writeFile("/m/upper", contents: [2])
        // Linux 6.18: `..` from the top of a stack lands in the file system below all of it.
        #expect(try ctx.listDirectory("/m/..").sorted() == ["f", "m"])
        try ctx.unmount("/m")
        #expect(try ctx.listDirectory("/m") == ["lower"])
        try ctx.unmount("/m")
        #expect(try ctx.listDirectory("/m").sorted() == ["hidden", "sub"])
    }

    @Test func mountsAreListedWithTheirMountPoints() throws {
        try mountTmpfs(at: "/m")
        try ctx.makeDirectory("/m/in")
        try mountTmpfs(at: "/m/in")
        let points = world.vfs.mounts(in: world.namespace).map {
            String(decoding: $0.mountPoint, as: UTF8.self)
        }
        #expect(points == ["/", "/m", "/m/in"])
        let infos = world.vfs.mounts(in: world.namespace)
        #expect(infos[1].parentID == infos[0].id)
        #expect(infos[2].parentID == infos[1].id)
        #expect(infos.allSatisfy { $0.filesystemType == "tmpfs" })
    }

    // MARK: - Bind mounts

    @Test func bindMountOfASubtreeShowsItsContents() throws {
        try ctx.makeDirectory("/a")
        try ctx.makeDirectory("/a/x")
        try ctx.writeFile("/a/x/g", contents: [5])
        try ctx.makeDirectory("/b")
        try ctx.bindMount("/a/x", at: "/b")
        #expect(try ctx.listDirectory("/b") == ["g"])
        try ctx.writeFile("/b/h", contents: [6])
        #expect(try ctx.readFile("/a/x/h") == [6])
        // Linux 6.18: `..` from a bind mount's root goes to the mount point's parent.
        #expect(try ctx.listDirectory("/b/..").sorted() == ["a", "b", "f", "m"])
    }

    @Test func bindMountOfAFileOntoAFile() throws {
        try ctx.writeFile("/file2", contents: Array("second".utf8))
        try ctx.bindMount("/file2", at: "/f")
        #expect(try ctx.readFile("/f") == Array("second".utf8))
        try ctx.unmount("/f")
        #expect(try ctx.readFile("/f") == Array("abc".utf8))
    }

    @Test func bindMountBetweenADirectoryAndAFileIsENOTDIR() throws {
        // Linux 6.18: mount(MS_BIND) of a directory onto a file, or a file onto a directory.
        #expect(throws: Errno.notDirectory) { try ctx.bindMount("/m", at: "/f") }
        #expect(throws: Errno.notDirectory) { try ctx.bindMount("/f", at: "/m") }
    }

    @Test func nonRecursiveBindLeavesSubmountsBehind() throws {
        try ctx.makeDirectory("/src")
        try ctx.makeDirectory("/src/mnt")
        try mountTmpfs(at: "/src/mnt")
        try ctx.writeFile("/src/mnt/s", contents: [1])
        try ctx.makeDirectory("/dst")
        try ctx.bindMount("/src", at: "/dst")
        #expect(try ctx.listDirectory("/dst/mnt").isEmpty)
    }

    @Test func recursiveBindCarriesSubmounts() throws {
        try ctx.makeDirectory("/src")
        try ctx.makeDirectory("/src/mnt")
        try mountTmpfs(at: "/src/mnt")
        try ctx.writeFile("/src/mnt/s", contents: [1])
        try ctx.makeDirectory("/dst")
        try ctx.bindMount("/src", at: "/dst", recursive: true)
        #expect(try ctx.listDirectory("/dst/mnt") == ["s"])
        #expect(try ctx.stat("/dst/mnt/s").inode == ctx.stat("/src/mnt/s").inode)
    }

    // MARK: - Unmounting

    @Test func unmountIsEBUSYWhileAFileIsOpenInside() throws {
        try mountTmpfs(at: "/m")
        try ctx.writeFile("/m/f", contents: [1])
        var file: FileDescription? = try ctx.open("/m/f", flags: OpenOptions.readWrite)
        withExtendedLifetime(file) {
            #expect(throws: Errno.resourceBusy) { try ctx.unmount("/m") }
        }
        file = nil
        try ctx.unmount("/m")
        #expect(try ctx.stat("/m/hidden").size == 6)
    }

    @Test func unmountIsEBUSYWhileAWorkingDirectoryIsInside() throws {
        try mountTmpfs(at: "/m")
        try ctx.makeDirectory("/m/in")
        let other = ctx.copy()
        try other.changeDirectory("/m/in")
        #expect(throws: Errno.resourceBusy) { try ctx.unmount("/m") }
        try other.changeDirectory("/")
        try ctx.unmount("/m")
    }

    @Test func unmountIsEBUSYWhileARootIsInside() throws {
        try mountTmpfs(at: "/m")
        try ctx.makeDirectory("/m/jail")
        let jailed = ctx.copy()
        try jailed.changeRoot("/m/jail")
        try jailed.changeDirectory("/")
        #expect(throws: Errno.resourceBusy) { try ctx.unmount("/m") }
    }

    @Test func unmountIsEBUSYWhileAChildMountExists() throws {
        try mountTmpfs(at: "/m")
        try ctx.makeDirectory("/m/in")
        try mountTmpfs(at: "/m/in")
        #expect(throws: Errno.resourceBusy) { try ctx.unmount("/m") }
        try ctx.unmount("/m/in")
        try ctx.unmount("/m")
    }

    @Test func unmountOfANonMountRootIsEINVAL() throws {
        #expect(throws: Errno.invalidArgument) { try ctx.unmount("/m") }
        #expect(throws: Errno.invalidArgument) { try ctx.unmount("/m/sub") }
    }

    @Test func lazyDetachKeepsAnOpenFileReadableAndWritable() throws {
        try mountTmpfs(at: "/m")
        try ctx.writeFile("/m/f", contents: [])
        let file = try ctx.open("/m/f", flags: OpenOptions.readWrite)
        try ctx.unmount("/m", detach: true)
        #expect(try CoreTestWorld.write(file, Array("hello".utf8)) == 5)
        #expect(try CoreTestWorld.read(file, count: 5, at: 0) == Array("hello".utf8))
        #expect(try ctx.listDirectory("/m").sorted() == ["hidden", "sub"])
    }

    @Test func lazyDetachTakesSubmountsAlong() throws {
        try mountTmpfs(at: "/m")
        try ctx.makeDirectory("/m/in")
        try mountTmpfs(at: "/m/in")
        try ctx.unmount("/m", detach: true)
        #expect(world.vfs.mounts(in: world.namespace).count == 1)
    }

    @Test func removingAMountPointIsEBUSY() throws {
        try mountTmpfs(at: "/m/sub")
        try ctx.writeFile("/file2", contents: [2])
        try ctx.bindMount("/file2", at: "/f")
        #expect(throws: Errno.resourceBusy) { try ctx.removeDirectory("/m/sub") }
        #expect(throws: Errno.resourceBusy) { try ctx.unlink("/f") }
    }

    @Test func renamingAMountPointOrOverOneIsEBUSY() throws {
        try mountTmpfs(at: "/m/sub")
        try ctx.makeDirectory("/e")
        try ctx.writeFile("/file2", contents: [2])
        try ctx.bindMount("/file2", at: "/f")
        #expect(throws: Errno.resourceBusy) { try ctx.rename("/m/sub", to: "/m/sub2") }
        #expect(throws: Errno.resourceBusy) { try ctx.rename("/e", to: "/m/sub") }
        #expect(throws: Errno.resourceBusy) { try ctx.rename("/f", to: "/g") }
    }

    // MARK: - Across mounts

    @Test func renameAcrossMountsIsEXDEV() throws {
        try mountTmpfs(at: "/m")
        #expect(throws: Errno.improperLink) { try ctx.rename("/f", to: "/m/f") }
    }

    @Test func renameAcrossBindMountsOfTheSameFilesystemIsEXDEV() throws {
        try ctx.makeDirectory("/a")
        try ctx.writeFile("/a/f", contents: [1])
        try ctx.makeDirectory("/b")
        try ctx.bindMount("/a", at: "/b")
        #expect(throws: Errno.improperLink) { try ctx.rename("/a/f", to: "/b/g") }
        try ctx.rename("/b/f", to: "/b/g")
        #expect(try ctx.listDirectory("/a") == ["g"])
    }

    @Test func linkAcrossMountsIsEXDEV() throws {
        try ctx.makeDirectory("/a")
        try ctx.writeFile("/a/f", contents: [1])
        try ctx.makeDirectory("/b")
        try ctx.bindMount("/a", at: "/b")
        #expect(throws: Errno.improperLink) { try ctx.makeLink(existing: "/a/f", new: "/b/g") }
        try mountTmpfs(at: "/m")
        #expect(throws: Errno.improperLink) { try ctx.makeLink(existing: "/f", new: "/m/f") }
    }

    // MARK: - Namespaces

    @Test func mountInACloneIsInvisibleInTheOriginal() throws {
        let (clone, translate) = try world.vfs.cloneNamespace(world.namespace)
        let inClone = ctx.copy()
        inClone.enterNamespace(clone, translate: translate)
        let fs = TmpfsFilesystem()
        try inClone.mount(fs, root: fs.root, at: "/m")
        #expect(try inClone.listDirectory("/m").isEmpty)
        #expect(try ctx.listDirectory("/m").sorted() == ["hidden", "sub"])
        #expect(world.vfs.mounts(in: clone).count == 2)
        #expect(world.vfs.mounts(in: world.namespace).count == 1)
    }

    @Test func mountInTheOriginalIsInvisibleInAClone() throws {
        let (clone, translate) = try world.vfs.cloneNamespace(world.namespace)
        let inClone = ctx.copy()
        inClone.enterNamespace(clone, translate: translate)
        try mountTmpfs(at: "/m")
        #expect(try ctx.listDirectory("/m").isEmpty)
        #expect(try inClone.listDirectory("/m").sorted() == ["hidden", "sub"])
    }

    @Test func removingANameMountedOnOnlyInAnotherNamespaceWorks() throws {
        let (clone, translate) = try world.vfs.cloneNamespace(world.namespace)
        let inClone = ctx.copy()
        inClone.enterNamespace(clone, translate: translate)
        let fs = TmpfsFilesystem()
        try inClone.mount(fs, root: fs.root, at: "/m/sub")
        try ctx.writeFile("/file2", contents: [2])
        try inClone.bindMount("/file2", at: "/f")
        // Linux 6.18: rmdir and unlink succeed when the mounts are in another namespace only
        // (is_local_mountpoint); those mounts are then detached.
        try ctx.removeDirectory("/m/sub")
        try ctx.unlink("/f")
        #expect(throws: Errno.noSuchFileOrDirectory) { try inClone.stat("/m/sub") }
    }

    @Test func cloneCopiesExistingMounts() throws {
        try mountTmpfs(at: "/m")
        try ctx.writeFile("/m/x", contents: [1])
        let (clone, translate) = try world.vfs.cloneNamespace(world.namespace)
        let inClone = ctx.copy()
        inClone.enterNamespace(clone, translate: translate)
        #expect(try inClone.listDirectory("/m") == ["x"])
        // Unmounting in the clone leaves the original's mount in place.
        try inClone.unmount("/m")
        #expect(try inClone.listDirectory("/m").sorted() == ["hidden", "sub"])
        #expect(try ctx.listDirectory("/m") == ["x"])
        #expect(world.vfs.mounts(in: clone).count == 1)
    }
}

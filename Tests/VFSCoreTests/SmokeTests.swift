import Testing
import VFSCore
import TmpfsBackend

@Suite struct SmokeTests {
    @Test func buildsATreeAndReadsItBack() throws {
        let vfs = VirtualFilesystem()
        let tmpfs = TmpfsFilesystem()
        let namespace = vfs.makeNamespace(root: tmpfs, rootDentry: tmpfs.root)
        let context = FSContext(vfs: vfs, namespace: namespace)
        try context.makeDirectory("/a")
        try context.makeDirectory("/a/b")
        try context.writeFile("/a/b/f", contents: Array("hello".utf8))
        #expect(try context.readFile("/a/b/f") == Array("hello".utf8))
        try context.makeSymlink(target: "b/f", at: "/a/l")
        #expect(try context.readFile("/a/l") == Array("hello".utf8))
        #expect(try context.listDirectory("/a").sorted() == ["b", "l"])
        let other = TmpfsFilesystem()
        try context.mount(other, root: other.root, at: "/a/b")
        #expect(throws: Errno.noSuchFileOrDirectory) { try context.stat("/a/b/f") }
        try context.writeFile("/a/b/g", contents: [1, 2, 3])
        try context.changeDirectory("/a/b")
        #expect(try context.stat("../l", followSymlink: false).mode.isSymlink)
        #expect(try context.currentDirectoryPath() == "/a/b")
        #expect(throws: Errno.resourceBusy) { try context.unmount("/a/b") }
        try context.changeDirectory("/")
        try context.unmount("/a/b")
        #expect(try context.readFile("/a/b/f") == Array("hello".utf8))
        #expect(try context.stat("/a").nlink == 3)
        try context.rename("/a/b", to: "/c")
        #expect(try context.readFile("/c/f") == Array("hello".utf8))
        #expect(throws: Errno.invalidArgument) { try context.rename("/a", to: "/a/x") }
    }
}

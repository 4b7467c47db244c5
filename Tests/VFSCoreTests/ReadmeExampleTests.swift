import Testing
import TmpfsBackend
import VFSCore

/// The README's example, kept compiling and true.
@Suite struct ReadmeExampleTests {
    @Test func readmeExampleBehavesAsTheReadmeSays() throws {
        let vfs = VirtualFilesystem()
        let rootfs = TmpfsFilesystem(options: TmpfsOptions(rootMode: 0o755))
        let namespace = vfs.makeNamespace(root: rootfs, rootDentry: rootfs.root)
        let shell = FSContext(vfs: vfs, namespace: namespace)

        try shell.makeDirectory("/data")
        try shell.writeFile("/data/hello", contents: Array("hi\n".utf8))
        let small = TmpfsFilesystem(options: try TmpfsOptions(parsing: "size=1m,nr_inodes=100"))
        try shell.mount(small, root: small.root, at: "/data")
        #expect(throws: Errno.noSuchFileOrDirectory) { try shell.stat("/data/hello") }

        shell.credentials = .user(1000, gid: 1000)
        #expect(throws: Errno.permissionDenied) { try shell.makeDirectory("/etc") }
    }
}

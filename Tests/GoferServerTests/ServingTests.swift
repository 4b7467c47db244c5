import Foundation
import Glibc
import GoferServer
import LISAFS
import SystemPackage
import Testing

/// What the server does for well-formed requests beyond the golden exercise: read-only
/// serving, FD donation, FDID numbering, concurrent clients, SetStat's per-attribute
/// failures, unix sockets.
@Suite struct ServingTests {
    static func setUp(_ options: GoferServerOptions = .init()) throws -> (ScratchTree, GoferHarness, FDID) {
        let tree = try ScratchTree()
        try tree.write("file", "contents")
        try tree.mkdir("dir")
        try tree.symlink("link", to: "file")
        let harness = try GoferHarness(root: tree.path, options: options)
        let root = try harness.mount().root.controlFD
        return (tree, harness, root)
    }

    @Test func readOnlyServingRefusesEveryMutatingMessageWithEROFS() throws {
        let (tree, harness, root) = try Self.setUp(GoferServerOptions(readOnly: true))
        let file = try #require(harness.walk(root, ["file"]).inodes.first).controlFD
        let readOpen = try harness.call(OpenAtRequest(fd: file, flags: 0)).response.openFD
        func refused<R: RequestMessage>(_ request: R) {
            #expect(throws: Errno.readOnlyFileSystem, "\(R.self)") { try harness.call(request) }
        }
        refused(OpenAtRequest(fd: file, flags: 2))
        refused(OpenAtRequest(fd: file, flags: 0o1000))  // O_TRUNC
        refused(OpenCreateAtRequest(dirFD: root, name: "new", flags: 2, mode: 0o100644, uid: 0, gid: 0))
        refused(SetStatRequest(fd: file, mask: 0x2, mode: 0o600))
        refused(PWriteRequest(fd: readOpen, offset: 0, data: [1]))
        refused(FAllocateRequest(fd: readOpen, mode: 0, offset: 0, length: 10))
        refused(MkdirAtRequest(dirFD: root, name: "d2", mode: 0o40755, uid: 0, gid: 0))
        refused(MknodAtRequest(dirFD: root, name: "n", mode: 0o100644, uid: 0, gid: 0))
        refused(SymlinkAtRequest(dirFD: root, name: "s", target: "file", uid: 0, gid: 0))
        refused(LinkAtRequest(dirFD: root, target: file, name: "h"))
        refused(UnlinkAtRequest(dirFD: root, name: "file", flags: 0))
        refused(RenameAtRequest(oldDir: root, oldName: "file", newDir: root, newName: "f2"))
        refused(RenameAt2Request(oldDir: root, oldName: "file", newDir: root, newName: "f2", flags: 0))
        refused(FSetXattrRequest(fd: file, name: "user.a", value: "b", flags: 0))
        refused(FRemoveXattrRequest(fd: file, name: "user.a"))
        refused(BindAtRequest(dirFD: root, name: "sock", sockType: 1, mode: 0o140755, uid: 0, gid: 0))
        // Reads still work, and nothing changed on the host.
        #expect(try harness.call(PReadRequest(fd: readOpen, offset: 0, count: 100)).response.data == Array("contents".utf8))
        #expect(tree.read("file") == "contents")
        #expect(!tree.exists("new") && !tree.exists("d2") && !tree.exists("s") && !tree.exists("sock"))
    }

    @Test func regularFilesComeWithADonatedHostFDAndDirectoriesWithout() throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        let file = try #require(harness.walk(root, ["file"]).inodes.first).controlFD
        let opened = try harness.call(OpenAtRequest(fd: file, flags: 2))
        #expect(opened.fds.count == 1)
        // The donated fd is the file itself, opened read-write.
        let donated = try #require(opened.fds.first)
        var buffer = [UInt8](repeating: 0, count: 8)
        #expect(Glibc.pread((donated.descriptor?.rawValue ?? -1), &buffer, 8, 0) == 8)
        #expect(buffer == Array("contents".utf8))
        #expect(Glibc.pwrite((donated.descriptor?.rawValue ?? -1), "C", 1, 0) == 1)
        let dir = try harness.call(OpenAtRequest(fd: root, flags: 0))
        #expect(dir.fds.isEmpty)
        #expect(throws: Errno.isDirectory) { try harness.call(OpenAtRequest(fd: root, flags: 2)) }
    }

    @Test func fdidsCountUpFromOneAndAreNeverReused() throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        #expect(root == 1)
        let first = try harness.walk(root, ["dir"]).inodes.map(\.controlFD)
        _ = try harness.call(CloseRequest(fds: first))
        let second = try harness.walk(root, ["dir"]).inodes.map(\.controlFD)
        #expect(first == [2])
        #expect(second == [3])
    }

    @Test func severalClientsAreServedConcurrently() throws {
        let tree = try ScratchTree()
        for index in 0..<8 { try tree.write("f\(index)", String(repeating: "x", count: index + 1)) }
        let server = try GoferServer(rootPath: tree.path)
        let results = Mutex8()
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            do {
                var pair: [Int32] = [0, 0]
                guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else { return }
                server.serveInBackground(socket: pair[1])
                let client = Communicator(socket: FileDescriptor(rawValue: pair[0]))
                let root = try client.call(MountRequest()).response.root.controlFD
                var sizes: [UInt64] = []
                for _ in 0..<20 {
                    let walked = try client.call(WalkRequest(dirFD: root, path: [SizedString("f\(index)")]))
                    sizes.append(walked.response.inodes[0].stat.size)
                    _ = try client.call(CloseRequest(fds: walked.response.inodes.map(\.controlFD)))
                }
                results.record(index, root: root.rawValue, sizes: sizes)
                client.close()
            } catch {}
        }
        // Every connection has its own FDID space (root 1) and saw its own file.
        for index in 0..<8 {
            #expect(results.root(index) == 1)
            #expect(results.sizes(index) == [UInt64](repeating: UInt64(index + 1), count: 20))
        }
    }

    @Test func setStatReportsPerAttributeFailuresInsteadOfFailing() throws {
        let (tree, harness, root) = try Self.setUp()
        let link = try #require(harness.walk(root, ["link"]).inodes.first).controlFD
        // chmod of a symlink: Linux says EOPNOTSUPP; the times still apply.
        let response = try harness.call(SetStatRequest(
            fd: link, mask: 0x2 | 0x40, mode: 0o600, mtime: LISAFSTimespec(sec: 1_500_000_000, nsec: 0))).response
        #expect(response.failureMask == 0x2)
        #expect(response.failureErrno == UInt32(EOPNOTSUPP))
        var st = stat()
        #expect(lstat(tree.url("link"), &st) == 0)
        #expect(st.st_mtim.tv_sec == 1_500_000_000)
        // Unsupported mask bits: EPERM for the whole request.
        #expect(throws: Errno.notPermitted) { try harness.call(SetStatRequest(fd: link, mask: 0x800)) }
        // Size on a directory: EISDIR in the failure fields.
        let dir = try #require(harness.walk(root, ["dir"]).inodes.first).controlFD
        let sized = try harness.call(SetStatRequest(fd: dir, mask: 0x200, size: 0)).response
        #expect(sized.failureMask == 0x200 && sized.failureErrno == UInt32(EISDIR))
    }

    @Test func xattrsRoundTripOnFilesAndLinuxRefusesThemOnSymlinks() throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        let file = try #require(harness.walk(root, ["file"]).inodes.first).controlFD
        _ = try harness.call(FSetXattrRequest(fd: file, name: "user.color", value: "blue", flags: 0))
        #expect(try harness.call(FGetXattrRequest(fd: file, name: "user.color", bufSize: 64)).response.value == "blue")
        #expect(throws: Errno.fileExists) {
            try harness.call(FSetXattrRequest(fd: file, name: "user.color", value: "red", flags: 1))  // XATTR_CREATE
        }
        _ = try harness.call(FRemoveXattrRequest(fd: file, name: "user.color"))
        #expect(throws: Errno.noData) { try harness.call(FGetXattrRequest(fd: file, name: "user.color", bufSize: 64)) }
        // Linux 6.18: user.* xattrs on a symlink are EPERM to set.
        let link = try #require(harness.walk(root, ["link"]).inodes.first).controlFD
        #expect(throws: Errno.notPermitted) {
            try harness.call(FSetXattrRequest(fd: link, name: "user.a", value: "b", flags: 0))
        }
    }

    @Test func renamingAnEntryOntoItselfSucceedsWithoutTheKernel() throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        // fsgofer answers before renameat: even a missing name "renames" onto itself.
        _ = try harness.call(RenameAtRequest(oldDir: root, oldName: "missing", newDir: root, newName: "missing"))
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try harness.call(RenameAtRequest(oldDir: root, oldName: "missing", newDir: root, newName: "other"))
        }
    }

    @Test func boundSocketsListenAcceptAndConnect() throws {
        let (tree, harness, root) = try Self.setUp()
        _ = tree
        let bound = try harness.call(BindAtRequest(dirFD: root, name: "sock", sockType: 1, mode: 0o140755, uid: 0, gid: 0))
        #expect(bound.fds.count == 1)
        #expect(bound.response.child.stat.mode & 0o170000 == 0o140000)
        _ = try harness.call(ListenRequest(fd: bound.response.boundSocketFD, backlog: 4))
        let connected = try harness.call(ConnectRequest(fd: bound.response.child.controlFD, sockType: 1))
        let accepted = try harness.call(AcceptRequest(fd: bound.response.boundSocketFD))
        #expect(accepted.response.peerAddress == "")
        let ours = try #require(connected.fds.first), theirs = try #require(accepted.fds.first)
        #expect(Glibc.write((ours.descriptor?.rawValue ?? -1), "ping", 4) == 4)
        var buffer = [UInt8](repeating: 0, count: 4)
        #expect(Glibc.read((theirs.descriptor?.rawValue ?? -1), &buffer, 4) == 4)
        #expect(buffer == Array("ping".utf8))
        let withCreds = try harness.call(ConnectWithCredsRequest(fd: bound.response.child.controlFD, sockType: 1, uid: 0, gid: 0))
        #expect(withCreds.fds.count == 1)
        // Not a socket: ENOTSOCK; an unsupported socket type: ENXIO.
        #expect(throws: Errno.notSocket) { try harness.call(ConnectRequest(fd: root, sockType: 1)) }
        #expect(throws: Errno.noSuchAddressOrDevice) {
            try harness.call(ConnectRequest(fd: bound.response.child.controlFD, sockType: 10))
        }
    }

    @Test func createdFilesGetExactlyTheClientsModeWhateverTheProcessUmask() throws {
        // The test process's umask (022 here) must not mask modes: fsgofer runs with umask 0.
        let (tree, harness, root) = try Self.setUp()
        let dir = try harness.call(MkdirAtRequest(dirFD: root, name: "open", mode: 0o40777, uid: 0, gid: 0))
        #expect(dir.response.child.stat.mode == 0o40777)
        let file = try harness.call(OpenCreateAtRequest(dirFD: root, name: "f", flags: 2, mode: 0o100666, uid: 0, gid: 0))
        #expect(file.response.child.stat.mode == 0o100666)
        var st = stat()
        #expect(lstat(tree.url("open"), &st) == 0)
        #expect(st.st_mode & 0o7777 == 0o777)
    }
}

/// Results from concurrent clients.
final class Mutex8: @unchecked Sendable {
    private let lock = NSLock()
    private var roots: [Int: UInt64] = [:]
    private var allSizes: [Int: [UInt64]] = [:]
    func record(_ index: Int, root: UInt64, sizes: [UInt64]) {
        lock.lock()
        roots[index] = root
        allSizes[index] = sizes
        lock.unlock()
    }
    func root(_ index: Int) -> UInt64? {
        lock.lock()
        defer { lock.unlock() }
        return roots[index]
    }
    func sizes(_ index: Int) -> [UInt64]? {
        lock.lock()
        defer { lock.unlock() }
        return allSizes[index]
    }
}

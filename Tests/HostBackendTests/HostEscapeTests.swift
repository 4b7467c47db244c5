import Foundation
import HostBackend
import HostSyscalls
import Syscalls
import Testing
import VFSCore

/// Nothing done through a host-backed root reaches outside it. The expected results are what
/// Linux 6.18 gives in a chroot at the same directory (python3 in a forked, chrooted child):
/// every climbing path or symlink is ENOENT there (it resolves inside the chroot, where
/// nothing is named "outside"); under openat2's RESOLVE_BENEATH every `..` past the dirfd,
/// absolute path and absolute symlink is EXDEV.
@Suite struct HostEscapeTests {
    private func readString(_ box: HostSandbox, _ path: String) throws(Errno) -> String {
        String(decoding: try box.context.readFile(path), as: UTF8.self)
    }

    @Test func symlinkToSlashLeadsToTheSandboxRoot() throws {
        let box = try HostSandbox()
        try FileManager.default.createSymbolicLink(atPath: box.host("up"), withDestinationPath: "/")
        #expect(throws: Errno.noSuchFileOrDirectory) { try readString(box, "/up/outside/secret") }
        #expect(try box.context.listDirectory("/up") == box.context.listDirectory("/"))
        #expect(box.outsideIsUntouched)
    }

    @Test func dotDotChainsStopAtTheRoot() throws {
        let box = try HostSandbox()
        try box.context.makeDirectory("/a")
        try box.context.changeDirectory("/a")
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try readString(box, "/../../../outside/secret")
        }
        #expect(throws: Errno.noSuchFileOrDirectory) { try readString(box, "../../outside/secret") }
        #expect(try box.context.stat("/../../..").inode == box.context.stat("/").inode)
    }

    @Test func hostAbsoluteSymlinkToOutsideResolvesInsideTheSandbox() throws {
        let box = try HostSandbox()
        try FileManager.default.createSymbolicLink(
            atPath: box.host("abs"), withDestinationPath: box.outsidePath + "/secret")
        #expect(throws: Errno.noSuchFileOrDirectory) { try readString(box, "/abs") }
        // O_CREAT through it would create at that path inside the sandbox: no /dev there.
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try box.context.writeFile("/abs", contents: [1])
        }
        #expect(box.outsideIsUntouched)
    }

    @Test func relativeSymlinkClimbingOutStaysInside() throws {
        let box = try HostSandbox()
        try FileManager.default.createSymbolicLink(
            atPath: box.host("rel"), withDestinationPath: "../outside/secret")
        #expect(throws: Errno.noSuchFileOrDirectory) { try readString(box, "/rel") }
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try box.context.writeFile("/rel", contents: [1])
        }
        #expect(box.outsideIsUntouched)
    }

    @Test func resolveBeneathGivesEXDEVForEveryEscape() throws {
        let box = try HostSandbox()
        try box.context.makeDirectory("/a")
        try FileManager.default.createSymbolicLink(atPath: box.host("up"), withDestinationPath: "/")
        try FileManager.default.createSymbolicLink(
            atPath: box.host("rel"), withDestinationPath: "../outside/secret")
        let task = Task(kernel: Kernel(vfs: box.vfs), namespace: box.namespace)
        let root = try task.openat(Linux.AT_FDCWD, "/", OpenOptions.pathOnly, 0)
        let a = try task.openat(Linux.AT_FDCWD, "/a", OpenOptions.pathOnly, 0)
        let beneath = ResolveFlags.beneath.rawValue
        let flags = UInt64(OpenOptions.pathOnly)
        // Linux 6.18: each of these is EXDEV.
        for (dirfd, path) in [
            (a, "../x"), (a, "../../outside"), (a, "/up"), (root, "up"), (root, "up/a"),
            (root, "rel"),
        ] {
            #expect(throws: Errno.improperLink, "\(path)") {
                try task.openat2(dirfd, PathArgument(path), flags: flags, mode: 0, resolve: beneath)
            }
        }
    }

    @Test func hardLinkCannotNameAnythingOutside() throws {
        let box = try HostSandbox()
        try FileManager.default.createSymbolicLink(
            atPath: box.host("abs"), withDestinationPath: box.outsidePath + "/secret")
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try box.context.makeLink(existing: "/../outside/secret", new: "/x")
        }
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try box.context.makeLink(existing: "/abs", new: "/y", followSymlink: true)
        }
        // Without AT_SYMLINK_FOLLOW the link names the symlink itself, inside the root.
        try box.context.makeLink(existing: "/abs", new: "/z")
        #expect(try box.hostStat("z").isSymlink)
        let secret = try HostSyscall.statx(
            HostSyscall.currentDirectory, Array((box.outsidePath + "/secret").utf8), flags: 0)
        #expect(secret.nlink == 1)
    }

    @Test func renameCannotMoveAnythingOutside() throws {
        let box = try HostSandbox()
        try box.context.writeFile("/f", contents: [1])
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try box.context.rename("/f", to: "/../outside/f")
        }
        #expect(box.outsideIsUntouched)
    }

    /// A host process swaps `d` for a symlink to the outside directory (absolute, then
    /// relative) and back, as fast as it can, while the sandbox reads `d/secret` and creates
    /// files in `d`. Every read gives the inside file or an error, and nothing appears outside.
    @Test func directorySwappedForASymlinkDuringWalksNeverLeaksOut() throws {
        for caching in [HostCachingMode.shared, .exclusive] {
            let box = try HostSandbox(options: HostOptions(caching: caching))
            try box.context.makeDirectory("/d")
            try box.context.writeFile("/d/secret", contents: Array("inside".utf8))
            let d = box.host("d")
            let parked = box.host("parked")
            let targets = [box.outsidePath, "../outside"]
            let stop = ManualFlag()
            let racer = Thread {
                var i = 0
                while !stop.isSet {
                    rename(d, parked)
                    symlink(targets[i % 2], d)
                    unlink(d)
                    rename(parked, d)
                    i += 1
                }
            }
            racer.start()
            var leaked: [String] = []
            for i in 0..<1500 {
                if let text = try? readString(box, "/d/secret"), text != "inside" {
                    leaked.append(text)
                }
                try? box.context.writeFile("/d/new\(i % 7)", contents: [1])
                try? box.context.makeDirectory("/d/dir\(i % 5)")
                _ = try? box.context.listDirectory("/d")
            }
            stop.set()
            while !racer.isFinished { usleep(1000) }
            #expect(leaked.isEmpty, "\(caching)")
            #expect(box.outsideIsUntouched, "\(caching)")
        }
    }
}

/// A flag one thread sets and another polls.
final class ManualFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

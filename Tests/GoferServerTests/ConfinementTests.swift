import Foundation
import Glibc
import GoferServer
import LISAFS
import SystemPackage
import Testing

/// `vfs gofer` as a separate process: confined (mount namespace + pivot_root, the
/// capability set, no_new_privs, the seccomp allow-list) it still serves the whole golden
/// exercise — any syscall missing from the allow-list would kill it — and it cannot reach
/// anything outside the served directory.
@Suite struct ConfinementTests {
    /// The `vfs` executable: $VFSKIT_VFS_BINARY, else next to this test binary.
    static func vfsBinary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["VFSKIT_VFS_BINARY"] { return path }
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var directory = URL(fileURLWithPath: exe).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("vfs").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw Errno.noSuchFileOrDirectory
    }

    /// Starts `vfs` with `arguments`, `socket` as its fd 3 and its stdout into a pipe.
    static func spawn(_ arguments: [String], socket: Int32?) throws -> (pid: pid_t, stdout: Int32) {
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else { throw Errno(rawValue: errno) }
        // Neither end may leak into other children (dup2 clears the flag on fd 1).
        _ = fcntl(pipeFDs[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipeFDs[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 2)
        if let socket { posix_spawn_file_actions_adddup2(&actions, socket, 3) }
        let binary = try vfsBinary()
        let argv: [UnsafeMutablePointer<CChar>?] = ([binary] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, binary, &actions, nil, argv, environ)
        Glibc.close(pipeFDs[1])
        guard result == 0 else { throw Errno(rawValue: result) }
        return (pid, pipeFDs[0])
    }

    static func readAll(_ fd: Int32) -> String {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        Glibc.close(fd)
        return String(decoding: data, as: UTF8.self)
    }

    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    /// A field of /proc/<pid>/status.
    static func status(_ pid: pid_t, _ key: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            return line.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    @Test func theConfinedGoferServesTheGoldenExerciseWithExactlyItsCapabilities() throws {
        let vectors = try GoldenReplayTests.loadVectors()
        let tree = try GoldenReplayTests.makeTree()
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else { throw Errno(rawValue: errno) }
        let child = try Self.spawn(["gofer", "--root", tree.path, "--fd", "3"], socket: pair[1])
        Glibc.close(pair[1])
        let communicator = Communicator(socket: FileDescriptor(rawValue: pair[0]))
        do {
            _ = try communicator.call(MountRequest())
        } catch {
            communicator.close()
            let status = Self.wait(child.pid)
            Issue.record("the gofer did not answer Mount (status \(status)): \(Self.readAll(child.stdout))")
            return
        }

        // While it serves: the kept capabilities only (CAP_CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH,
        // FOWNER, FSETID = 0x1f) in every set that grants any, no_new_privs, a seccomp filter,
        // and a mount table holding nothing but the served tree.
        #expect(Self.status(child.pid, "CapEff") == "000000000000001f")
        #expect(Self.status(child.pid, "CapPrm") == "000000000000001f")
        #expect(Self.status(child.pid, "CapBnd") == "000000000000001f")
        #expect(Self.status(child.pid, "CapInh") == "0000000000000000")
        #expect(Self.status(child.pid, "CapAmb") == "0000000000000000")
        #expect(Self.status(child.pid, "NoNewPrivs") == "1")
        #expect(Self.status(child.pid, "Seccomp") == "2")
        let mounts = try String(contentsOfFile: "/proc/\(child.pid)/mountinfo", encoding: .utf8)
            .split(separator: "\n")
        #expect(mounts.count == 1)
        #expect(mounts.first?.split(separator: " ")[4] == "/")

        // The recorded exercise (after its Mount), every answer compared as in the in-process test.
        var compared = 0
        for (request, recorded) in zip(vectors, vectors.dropFirst())
        where request.direction == "request" && request.name != "Mount" {
            try communicator.sendFrame(rawMessageID: request.mid, payload: Array(request.bytes.dropFirst(8)))
            let frame = try communicator.receiveFrame(maxFDs: 4)
            let ours = FrameHeader(payloadLength: frame.header.payloadLength, rawMessageID: frame.header.rawMessageID)
                .encoded() + frame.payload
            let problems = GoldenReplayTests.differences(recorded, ours, fds: frame.fds.count)
            #expect(problems.isEmpty, "seq \(recorded.seq) \(recorded.name): \(problems)")
            compared += 1
        }
        #expect(compared == 48)
        communicator.close()
        let status = Self.wait(child.pid)
        _ = Self.readAll(child.stdout)
        // It ended on its own (EOF), not killed by the filter.
        #expect(status & 0x7f == 0, "gofer died from signal \(status & 0x7f)")
        #expect((status >> 8) & 0xff == 0)
    }

    @Test func theConfinedGoferSeesOnlyTheServedTreeAndDiesOnAForbiddenSyscall() throws {
        let tree = try ScratchTree()
        try tree.write("marker", "m")
        let child = try Self.spawn(["gofer", "--root", tree.path, "--probe"], socket: nil)
        let output = Self.readAll(child.stdout)
        let status = Self.wait(child.pid)
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.contains("served-marker: opened"))
        #expect(lines.contains("host-passwd: errno 2"))
        #expect(lines.contains("original-root: errno 2"))
        #expect(lines.contains("proc: errno 2"))
        #expect(lines.contains("dotdot: errno 2"))
        // Through the /proc/self/fd fd kept for reopening: another process's root is EACCES
        // (ptrace access to a fully privileged process needs capabilities the gofer dropped),
        // and its own root is the served tree.
        #expect(lines.contains("proc-pid1-root: errno 13"))
        #expect(lines.contains("proc-self-root: errno 2"))
        #expect(lines.last == "forbidden-syscall: unshare")
        // unshare(2) is not on the allow-list: SECCOMP_RET_KILL_PROCESS, SIGSYS.
        #expect(status & 0x7f == SIGSYS)
    }

    @Test func theConfinedGoferServesConcurrentClientsOnItsListeningSocket() throws {
        let tree = try ScratchTree()
        try tree.mkdir("served")
        for index in 0..<4 { try tree.write("served/f\(index)", String(repeating: "y", count: index + 1)) }
        let socketPath = tree.url("gofer.sock")
        let child = try Self.spawn(["gofer", "--root", tree.url("served"), "--socket", socketPath], socket: nil)
        defer {
            kill(child.pid, SIGKILL)
            _ = Self.wait(child.pid)
            _ = Self.readAll(child.stdout)
        }
        var waited = 0
        while !tree.exists("gofer.sock") && waited < 100 {
            usleep(50_000)
            waited += 1
        }
        let results = Mutex8()
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            let sock = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (offset, byte) in socketPath.utf8.enumerated() where offset < raw.count - 1 { raw[offset] = byte }
            }
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(sock, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard connected == 0 else { return }
            let client = Communicator(socket: FileDescriptor(rawValue: sock))
            defer { client.close() }
            guard let root = try? client.call(MountRequest()).response.root.controlFD else { return }
            var sizes: [UInt64] = []
            for _ in 0..<10 {
                guard let walked = try? client.call(WalkRequest(dirFD: root, path: [SizedString("f\(index)")])) else { return }
                sizes.append(walked.response.inodes.first?.stat.size ?? 0)
            }
            results.record(index, root: root.rawValue, sizes: sizes)
        }
        for index in 0..<4 {
            #expect(results.root(index) == 1)
            #expect(results.sizes(index) == [UInt64](repeating: UInt64(index + 1), count: 10))
        }
        // Still running (not even a zombie): thread creation and teardown stayed within the
        // allow-list.
        var status: Int32 = 0
        #expect(waitpid(child.pid, &status, WNOHANG) == 0)
    }

    @Test func aReadOnlyGoferServesFromAReadOnlyMount() throws {
        let tree = try ScratchTree()
        try tree.write("file", "ro")
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw Errno(rawValue: errno)
        }
        let child = try Self.spawn(["gofer", "--root", tree.path, "--fd", "3", "--read-only"], socket: pair[1])
        Glibc.close(pair[1])
        let communicator = Communicator(socket: FileDescriptor(rawValue: pair[0]))
        defer {
            communicator.close()
            _ = Self.wait(child.pid)
            _ = Self.readAll(child.stdout)
        }
        let root = try communicator.call(MountRequest()).response.root.controlFD
        // The kernel refuses writes too: the pivoted root is mounted "ro".
        let mounts = try String(contentsOfFile: "/proc/\(child.pid)/mountinfo", encoding: .utf8)
        let options = mounts.split(separator: "\n").first?.split(separator: " ")[5] ?? ""
        #expect(options.split(separator: ",").contains("ro"))
        let file = try #require(
            communicator.call(WalkRequest(dirFD: root, path: ["file"])).response.inodes.first).controlFD
        #expect(throws: Errno.readOnlyFileSystem) { try communicator.call(OpenAtRequest(fd: file, flags: 2)) }
        let opened = try communicator.call(OpenAtRequest(fd: file, flags: 0))
        let donated = try #require(opened.fds.first?.descriptor?.rawValue)
        #expect(Glibc.write(donated, "x", 1) == -1)
        #expect(errno == EBADF)
        #expect(tree.read("file") == "ro")
    }

    @Test func everyKeptCapabilityAndAllowedSyscallHasAReason() {
        #expect(ConfinementPolicy.capabilities.map(\.number) == [0, 1, 2, 3, 4])
        #expect(ConfinementPolicy.capabilities.allSatisfy { !$0.reason.isEmpty })
        #expect(ConfinementPolicy.syscalls.allSatisfy { !$0.reason.isEmpty })
        let names = ConfinementPolicy.syscalls.map(\.name)
        #expect(Set(names).count == names.count)
        for forbidden in ["mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "ptrace", "execve", "capset", "init_module", "open", "openat2"] {
            #expect(!names.contains(forbidden), "\(forbidden) must not be allowed")
        }
    }
}

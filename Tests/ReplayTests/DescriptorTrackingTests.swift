import Replay
import Testing

/// The replayer's process model on small synthetic logs, replayed against VFSKit's tmpfs.
@Suite struct DescriptorTrackingTests {
    static let tree = Manifest(cwd: "/", entries: [
        .init(path: "/a", type: "file", mode: 0o644, size: 8),
        .init(path: "/b", type: "file", mode: 0o644, size: 100),
        .init(path: "/d", type: "dir", mode: 0o755, size: 4096),
        .init(path: "/d/f", type: "file", mode: 0o600, size: 3),
    ])

    func replay(_ log: String, manifest: Manifest = tree) throws -> ReplayReport {
        try Replayer(target: TaskTarget.tmpfs()).run(StraceParser.parse(log), manifest: manifest)
    }

    @Test func forkedChildSharesTheOpenFileDescription() throws {
        // The child reads 5 of the 8 bytes; the parent's read continues at the shared offset.
        let report = try replay("""
            10 openat(AT_FDCWD, "/a", O_RDONLY) = 3
            10 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 11
            11 read(3, "xxxxx", 5) = 5
            11 close(3) = 0
            10 read(3, "xxx", 5) = 3
            10 close(3) = 0
            """)
        #expect(report.diverged == 0)
        #expect(report.matched == 5)
        #expect(report.perSyscall["read"]?.matched == 2)
    }

    @Test func cloneFilesSharesTheTable() throws {
        // With CLONE_FILES the child's close removes the parent's descriptor too.
        let report = try replay("""
            10 openat(AT_FDCWD, "/a", O_RDONLY) = 3
            10 clone(child_stack=0x7f, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD) = 12
            12 close(3) = 0
            10 read(3, 0x7f, 5) = -1 EBADF (Bad file descriptor)
            """)
        #expect(report.diverged == 0)
        #expect(report.skippedByReason["fd not opened in the trace (inherited)"] == 1)
        #expect(report.perSyscall["close"]?.matched == 1)
    }

    @Test func execveClosesCloseOnExecDescriptorsOnly() throws {
        let report = try replay("""
            10 openat(AT_FDCWD, "/a", O_RDONLY|O_CLOEXEC) = 3
            10 openat(AT_FDCWD, "/b", O_RDONLY) = 4
            10 execve("/usr/bin/true", ["true"], 0x7ffd /* 3 vars */) = 0
            10 read(4, "xxxx", 100) = 100
            10 fcntl(3, F_GETFD) = -1 EBADF (Bad file descriptor)
            """)
        #expect(report.diverged == 0)
        #expect(report.perSyscall["read"]?.matched == 1)
        #expect(report.skippedByReason["fd not opened in the trace (inherited)"] == 1)
        #expect(report.skippedByReason["execve (close-on-exec applied, not replayed)"] == 1)
    }

    @Test func childWithoutCloneRecordInheritsFromSigchldParent() throws {
        // Logs traced without %process have no clone lines: pid 21's parent is the process that
        // later receives SIGCHLD for it.
        let report = try replay("""
            20 openat(AT_FDCWD, "/b", O_RDONLY) = 3
            21 pread64(3, "x", 10, 95) = 5
            21 execve("/usr/bin/as", ["as"], 0x7ffd /* 3 vars */) = 0
            20 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=21, si_uid=0, si_status=0} ---
            20 close(3) = 0
            """)
        #expect(report.diverged == 0)
        #expect(report.perSyscall["pread64"]?.matched == 1)
    }

    @Test func workingDirectoryIsPerProcess() throws {
        let report = try replay("""
            10 chdir("/d") = 0
            10 clone(child_stack=NULL, flags=SIGCHLD) = 11
            11 chdir("/") = 0
            10 getcwd("/d", 4096) = 3
            11 getcwd("/", 4096) = 2
            10 openat(AT_FDCWD, "f", O_RDONLY) = 3
            11 openat(AT_FDCWD, "f", O_RDONLY) = -1 ENOENT (No such file or directory)
            10 newfstatat(3, "", {st_mode=S_IFREG|0600, st_size=3, ...}, AT_EMPTY_PATH) = 0
            """)
        #expect(report.diverged == 0)
        #expect(report.matched == 7)
    }

    @Test func dupAndFcntlDescriptorsMapToTheTargets() throws {
        let report = try replay("""
            10 openat(AT_FDCWD, "/a", O_RDONLY) = 3
            10 dup(3) = 4
            10 fcntl(3, F_DUPFD_CLOEXEC, 10) = 10
            10 fcntl(10, F_GETFD) = 0x1 (flags FD_CLOEXEC)
            10 close(3) = 0
            10 read(4, "xxxxxxxx", 100) = 8
            10 lseek(10, 0, SEEK_CUR) = 8
            10 dup2(4, 1) = 1
            10 lseek(1, 2, SEEK_SET) = 2
            """)
        #expect(report.diverged == 0)
        #expect(report.matched == 9)
    }

    @Test func pipeDescriptorsAreSkippedWithAReason() throws {
        let report = try replay("""
            10 pipe2([3, 4], O_CLOEXEC) = 0
            10 write(4, "+", 1) = 1
            10 close(3) = 0
            """)
        #expect(report.replayed == 0)
        #expect(report.skippedByReason["fd from pipe2 (not modelled)"] == 3)
    }

    @Test func aDifferentResultIsReportedAsDivergence() throws {
        let report = try replay("""
            10 openat(AT_FDCWD, "/missing", O_RDONLY) = 3
            10 newfstatat(AT_FDCWD, "/a", {st_mode=S_IFREG|0600, st_size=8, ...}, 0) = 0
            10 access("/a", W_OK) = 0
            """)
        #expect(report.diverged == 2)
        #expect(report.matched == 1)
        #expect(report.divergences.map(\.line) == [1, 2])
        #expect(report.divergences.first?.observed == "-1 ENOENT")
        #expect(report.divergences.last?.observed.contains("mode 0o100644") == true)
    }
}

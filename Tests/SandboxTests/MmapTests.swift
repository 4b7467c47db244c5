import Foundation
import Testing

/// mmap of VFS files under `vfs run` (Supervisor+Mmap.swift): each program runs natively in a
/// fresh directory on /dev/shm (a real tmpfs) and under `vfs run` with a tmpfs, host or gofer
/// mount at /sandbox, and the outputs are compared. Linux 6.18 on /dev/shm is the reference;
/// the one deliberate difference (a shared mapping of a tmpfs file that could write is ENODEV:
/// its pages are a copy kept current by the supervisor, which the program cannot write) has its
/// own test; MmapCoherenceTests checks that mappings of the copy follow the file.
@Suite(.serialized) struct MmapTests {
    enum Backend: CaseIterable {
        case tmpfs, host, gofer
    }

    /// `program` (its last argument the working directory) natively, and sandboxed with the
    /// backend at /sandbox; a host or gofer mount serves a fresh scratch directory, given back
    /// (the caller removes it) so tests can look at the host file.
    func compare(_ program: [String], on backend: Backend)
        throws -> (native: ProgramResult, sandboxed: ProgramResult, hostDirectory: String?)
    {
        let nativeDirectory = try SandboxRunner.scratchDirectory()
        defer { SandboxRunner.cleanup(nativeDirectory) }
        let native = try SandboxRunner.native(program, in: nativeDirectory)
        switch backend {
        case .tmpfs:
            return (native, try SandboxRunner.sandboxed(program), nil)
        case .host, .gofer:
            let source = try SandboxRunner.scratchDirectory()
            let mount = backend == .host ? "host:/sandbox=\(source)" : "gofer:/sandbox=\(source)"
            return (native, try SandboxRunner.sandboxed(program, mounts: [mount]), source)
        }
    }

    func python(_ script: String) -> [String] { ["/usr/bin/python3", "-c", script] }

    func expectSame(
        _ program: [String], on backend: Backend, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let (native, sandboxed, source) = try compare(program, on: backend)
        if let source { SandboxRunner.cleanup(source) }
        #expect(native.status == 0, "native run failed: \(native)", sourceLocation: sourceLocation)
        #expect(sandboxed == native, "\(backend)", sourceLocation: sourceLocation)
    }

    /// Python's mmap.ACCESS_READ is MAP_SHARED with PROT_READ; ACCESS_COPY is MAP_PRIVATE with
    /// PROT_READ|PROT_WRITE. Both read the file's bytes, past the first page too.
    static let readMappingScript = """
        import mmap, os, sys
        path = os.path.join(sys.argv[1], "f")
        with open(path, "wb") as f:
            f.write(b"".join(b"line %05d\\n" % i for i in range(1000)))
        with open(path, "rb") as f:
            m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            print(len(m), m[:11], m[4096:4107], m[-11:], m.find(b"line 00777"))
            m.close()
            c = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
            c[0:4] = b"LINE"
            print(c[:11], f.read(4))
            c.close()
        print(open(path, "rb").read(4))
        sparse = os.path.join(sys.argv[1], "sparse")
        with open(sparse, "wb") as f:
            f.truncate(3 << 20)
            f.seek(1 << 20)
            f.write(b"in the middle")
            f.seek((3 << 20) - 4)
            f.write(b"end!")
        with open(sparse, "rb") as f:
            m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
            print(len(m), m[:4], m[(1 << 20) - 2:(1 << 20) + 15], m[-6:], m[:].count(b"\\0"))
            m.close()
        """

    @Test func readMappingOfATmpfsFileReadsItsBytes() throws {
        try expectSame(python(Self.readMappingScript), on: .tmpfs)
    }

    @Test func readMappingOfAHostFileReadsItsBytes() throws {
        try expectSame(python(Self.readMappingScript), on: .host)
    }

    @Test func readMappingOfAGoferFileReadsItsBytes() throws {
        try expectSame(python(Self.readMappingScript), on: .gofer)
    }

    /// ACCESS_WRITE (MAP_SHARED, PROT_WRITE) on a file opened r+b: the bytes written through
    /// the mapping are in the file, read back through the VFS and seen on the host.
    static let sharedWriteScript = """
        import mmap, os, sys
        path = os.path.join(sys.argv[1], "f")
        with open(path, "wb") as f:
            f.write(b"abcdefgh" * 1024)
        with open(path, "r+b") as f:
            m = mmap.mmap(f.fileno(), 0)
            m[0:3] = b"XYZ"
            m[5000:5004] = b"MMAP"
            m.flush()
            m.close()
            print(f.read(8), os.fstat(f.fileno()).st_size)
        data = open(path, "rb").read()
        print(data[:8], data[4998:5006], len(data))
        """

    @Test func sharedWritableMappingOfAHostFileWritesThrough() throws {
        let (native, sandboxed, source) = try compare(python(Self.sharedWriteScript), on: .host)
        defer { source.map(SandboxRunner.cleanup) }
        #expect(native.status == 0, "\(native)")
        #expect(sandboxed == native)
        let onHost = try Data(contentsOf: URL(fileURLWithPath: (source ?? "") + "/f"))
        #expect(onHost.prefix(8) == Data("XYZdefgh".utf8))
        #expect(onHost[5000..<5004] == Data("MMAP".utf8))
    }

    @Test func sharedWritableMappingOfAGoferFileWritesThrough() throws {
        let (native, sandboxed, source) = try compare(python(Self.sharedWriteScript), on: .gofer)
        defer { source.map(SandboxRunner.cleanup) }
        #expect(native.status == 0, "\(native)")
        #expect(sandboxed == native)
        let onHost = try Data(contentsOf: URL(fileURLWithPath: (source ?? "") + "/f"))
        #expect(onHost.prefix(8) == Data("XYZdefgh".utf8))
    }

    /// A tmpfs file's pages are the supervisor's: a copy can be mapped privately, or shared
    /// read-only from a read-only descriptor, but a shared mapping that could write would
    /// silently diverge from the file, so it is ENODEV (Linux maps it).
    @Test func sharedMappingThatCouldWriteATmpfsFileIsENODEV() throws {
        let result = try SandboxRunner.sandboxed(python("""
            import mmap, os, sys
            path = os.path.join(sys.argv[1], "f")
            open(path, "wb").write(b"x" * 100)
            def attempt(name, fd, **options):
                try:
                    mmap.mmap(fd, 100, **options).close()
                    print(name, "ok")
                except OSError as error:
                    print(name, error.errno)
            rw = os.open(path, os.O_RDWR)
            ro = os.open(path, os.O_RDONLY)
            attempt("rw shared write", rw)
            attempt("rw shared read", rw, access=mmap.ACCESS_READ)
            attempt("rw private", rw, access=mmap.ACCESS_COPY)
            attempt("ro shared read", ro, access=mmap.ACCESS_READ)
            attempt("ro shared write", ro, access=mmap.ACCESS_WRITE)
            """))
        // Linux 6.18 on /dev/shm: the first three are ok, the last is EACCES (13).
        #expect(result.output == """
            rw shared write 19
            rw shared read 19
            rw private ok
            ro shared read ok
            ro shared write 13

            """, "\(result)")
    }

    /// mmap(2) and mprotect(2) through ctypes, each case's errno name or "ok": the access-mode
    /// and file-type rules Linux applies, on every backend.
    static let errnoMatrixScript = """
        import ctypes, errno, os, sys
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mmap.restype = ctypes.c_void_p
        libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                              ctypes.c_int, ctypes.c_long]
        libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        R, W, X = 1, 2, 4
        SHARED, PRIVATE, HUGETLB = 1, 2, 0x40000
        FAILED = ctypes.c_void_p(-1).value
        def attempt(name, fd, prot, flags, length=4096, upgrade=None):
            p = libc.mmap(None, length, prot, flags, fd, 0)
            if p == FAILED:
                print(name, errno.errorcode[ctypes.get_errno()])
                return
            result = "ok"
            if upgrade is not None and libc.mprotect(p, length, upgrade) != 0:
                result = "mprotect " + errno.errorcode[ctypes.get_errno()]
            print(name, result)
            libc.munmap(p, length)
        d = sys.argv[1]
        os.chdir(d)
        open("f", "wb").write(b"hello" * 100)
        os.mkdir("dir")
        ro = os.open("f", os.O_RDONLY)
        wo = os.open("f", os.O_WRONLY)
        path = os.open("f", os.O_PATH)
        directory = os.open("dir", os.O_RDONLY)
        attempt("ro shared write", ro, R | W, SHARED)
        attempt("ro shared read", ro, R, SHARED)
        attempt("ro shared read then write", ro, R, SHARED, upgrade=R | W)
        attempt("ro private write", ro, R | W, PRIVATE)
        attempt("ro private read then write", ro, R, PRIVATE, upgrade=R | W)
        attempt("ro private exec", ro, R | X, PRIVATE)
        attempt("wo private read", wo, R, PRIVATE)
        attempt("wo shared write", wo, W, SHARED)
        attempt("dir private read", directory, R, PRIVATE)
        attempt("dir shared write", directory, W, SHARED)
        attempt("O_PATH", path, R, PRIVATE)
        attempt("zero length", ro, R, PRIVATE, length=0)
        attempt("zero length wo", wo, R, PRIVATE, length=0)
        attempt("hugetlb", ro, R, PRIVATE | HUGETLB)
        attempt("no type", ro, R, 0)
        """

    @Test func mmapErrnosFollowLinuxOnTmpfs() throws {
        try expectSame(python(Self.errnoMatrixScript), on: .tmpfs)
    }

    @Test func mmapErrnosFollowLinuxOnAHostMount() throws {
        try expectSame(python(Self.errnoMatrixScript), on: .host)
    }

    @Test func mmapErrnosFollowLinuxOnAGoferMount() throws {
        try expectSame(python(Self.errnoMatrixScript), on: .gofer)
    }

    /// After a mapping, the descriptor's number holds a real file but is still a VFS
    /// descriptor: reads, writes and fstat go to the VFS, in the process, in a forked child
    /// (whose table the supervisor must still recognise) and after the parent writes more.
    static let descriptorAfterMappingScript = """
        import mmap, os, sys
        path = os.path.join(sys.argv[1], "f")
        open(path, "wb").write(b"first\\n")
        fd = os.open(path, os.O_RDWR)
        m = mmap.mmap(fd, 0, access=mmap.ACCESS_COPY)
        print(m[:6])
        os.pwrite(fd, b"second\\n", 0)
        print(os.pread(fd, 7, 0), os.fstat(fd).st_size)
        pid = os.fork()
        if pid == 0:
            os.pwrite(fd, b"child!\\n", 0)
            print("child reads", os.pread(fd, 7, 0), flush=True)
            os._exit(0)
        os.waitpid(pid, 0)
        print("parent reads", os.pread(fd, 7, 0), open(path, "rb").read())
        m2 = mmap.mmap(fd, 0, access=mmap.ACCESS_COPY)
        print(m2[:7])
        """

    @Test func descriptorStaysAVFSDescriptorAfterAMappingOnTmpfs() throws {
        try expectSame(python(Self.descriptorAfterMappingScript), on: .tmpfs)
    }

    @Test func descriptorStaysAVFSDescriptorAfterAMappingOnAHostMount() throws {
        try expectSame(python(Self.descriptorAfterMappingScript), on: .host)
    }

    /// A mapped close-on-exec descriptor is closed by exec in the child that execs (the program
    /// run there opens a host file at the freed number and must read that), and stays open in
    /// the parent.
    @Test func mappedCloseOnExecDescriptorIsGoneAfterExec() throws {
        try expectSame(python("""
            import mmap, os, subprocess, sys
            os.chdir(sys.argv[1])
            open("vfs-file", "w").write("from the vfs\\n")
            fd = os.open("vfs-file", os.O_RDONLY)
            m = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
            subprocess.run(["/bin/sh", "-c", "cat /etc/hostname >/dev/null && cat /proc/self/comm"])
            subprocess.run(["/bin/sh", "-c", "cat <&%d 2>/dev/null || echo closed" % fd], close_fds=False)
            print(os.read(fd, 100).decode(), end="")
            print(m[:4])
            """), on: .tmpfs)
    }

    /// dlopen maps a shared object with PROT_EXEC: a Python extension module placed in a VFS
    /// mount imports and works.
    static let extensionModuleScript = """
        import os, sys, sysconfig
        d = sys.argv[1]
        dynload = os.path.join(sysconfig.get_path("platstdlib"), "lib-dynload")
        name = sorted(n for n in os.listdir(dynload) if n.startswith("_bz2."))[0]
        with open(os.path.join(dynload, name), "rb") as source:
            open(os.path.join(d, name), "wb").write(source.read())
        sys.path.insert(0, d)
        print("_bz2" in sys.modules)
        import _bz2
        print(os.path.dirname(_bz2.__file__) == d)
        packed = _bz2.BZ2Compressor()
        data = packed.compress(b"mapped from the vfs " * 50) + packed.flush()
        print(_bz2.BZ2Decompressor().decompress(data)[:20])
        """

    @Test func extensionModuleImportsFromAGoferMount() throws {
        try expectSame(python(Self.extensionModuleScript), on: .gofer)
    }

    @Test func extensionModuleImportsFromATmpfsMount() throws {
        try expectSame(python(Self.extensionModuleScript), on: .tmpfs)
    }

    /// ld.so maps a shared object several times in a row (the whole span, then each segment):
    /// one copy of a tmpfs file serves them all while the file does not change.
    @Test func oneCopyServesEveryMappingOfASharedObject() throws {
        let result = try SandboxRunner.sandboxed(python(Self.extensionModuleScript + "\n" + """
            copies = {line.split()[4] for line in open("/proc/self/maps") if "/memfd:vfs:" in line}
            print(len(copies))
            """))
        #expect(result.output == "False\nTrue\nb'mapped from the vfs '\n1\n", "\(result)")
    }

    /// git maps its index and objects; a whole init/add/commit/log with fixed identities and
    /// dates gives the same hashes as natively.
    static let gitScript = """
        cd "$1" && mkdir w && cd w
        export HOME="$PWD" GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=a GIT_AUTHOR_EMAIL=a@example.com
        export GIT_COMMITTER_NAME=a GIT_COMMITTER_EMAIL=a@example.com
        export GIT_AUTHOR_DATE='2020-01-01T00:00:00Z' GIT_COMMITTER_DATE='2020-01-01T00:00:00Z'
        git init -q -b main . && echo hello > f && mkdir d && echo x > d/g
        git add f d && git commit -q -m first && git log --format='%H %s'
        git cat-file -p 'HEAD^{tree}'
        echo more >> f && git commit -q -am second && git log --oneline | wc -l
        git status --short && git diff HEAD~1 --stat && git gc -q 2>&1 && git fsck 2>&1 && git log --format=%s
        """

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/git")))
    func gitCommitInATmpfsMount() throws {
        try expectSame(["/bin/sh", "-c", Self.gitScript, "sh"], on: .tmpfs)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/git")))
    func gitCommitInAGoferMount() throws {
        try expectSame(["/bin/sh", "-c", Self.gitScript, "sh"], on: .gofer)
    }
}

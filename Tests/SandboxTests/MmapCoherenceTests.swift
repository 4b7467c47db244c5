import Foundation
import Testing

/// Mappings of tmpfs files under `vfs run` follow the file (Supervisor+Mmap.swift, LiveCopy.swift):
/// a read-only MAP_SHARED mapping (Python's ACCESS_READ) and the unwritten pages of a
/// MAP_PRIVATE one see every later write, truncate and hole punch, whoever makes it. Each
/// script runs natively in a fresh directory on /dev/shm (Linux 6.18's tmpfs, the reference)
/// and under `vfs run` with a tmpfs at /sandbox; the outputs must be the same.
@Suite(.serialized) struct MmapCoherenceTests {
    func expectSameAsLinux(
        _ script: String, mount: String = "tmpfs:/sandbox:mode=0755",
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let program = ["/usr/bin/python3", "-c", script]
        let directory = try SandboxRunner.scratchDirectory()
        defer { SandboxRunner.cleanup(directory) }
        let native = try SandboxRunner.native(program, in: directory)
        let sandboxed = try SandboxRunner.sandboxed(program, mounts: [mount])
        #expect(native.status == 0, "native run failed: \(native)", sourceLocation: sourceLocation)
        #expect(sandboxed == native, sourceLocation: sourceLocation)
    }

    static let prelude = """
        import ctypes, mmap, os, sys
        libc = ctypes.CDLL(None, use_errno=True)
        d = sys.argv[1]
        path = os.path.join(d, "f")
        open(path, "wb").write(b"a" * 10000)
        ro = os.open(path, os.O_RDONLY)
        rw = os.open(path, os.O_RDWR)
        shared = mmap.mmap(ro, 0, access=mmap.ACCESS_READ)

        """

    /// Linux 6.18 on /dev/shm: b'WXYZ' b'far' b'vec!' b'link' b'appended'.
    @Test func sharedReadMappingSeesWritesThroughOtherDescriptorsAndNames() throws {
        try expectSameAsLinux(Self.prelude + """
            os.pwrite(rw, b"WXYZ", 0)
            os.lseek(rw, 8000, 0)
            os.write(rw, b"far")
            os.pwritev(rw, [b"ve", b"c!"], 300)
            os.link(path, os.path.join(d, "g"))
            with open(os.path.join(d, "g"), "r+b") as g:
                g.seek(100)
                g.write(b"link")
            appending = os.open(path, os.O_WRONLY | os.O_APPEND)
            os.write(appending, b"appended")
            print(shared[:4], shared[8000:8003], shared[300:304], shared[100:104], len(shared))
            again = mmap.mmap(ro, 0, access=mmap.ACCESS_READ)
            print(again[10000:10008], len(again))
            """)
    }

    /// Linux 6.18 on /dev/shm: the child's write is in the parent's mapping, and the parent's
    /// later write in the mapping the child inherited.
    @Test func sharedReadMappingSeesWritesOfOtherProcesses() throws {
        try expectSameAsLinux(Self.prelude + """
            pid = os.fork()
            if pid == 0:
                os.pwrite(os.open(path, os.O_WRONLY), b"child", 200)
                os._exit(0)
            os.waitpid(pid, 0)
            print("child wrote", shared[200:205])
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.read(r, 1)
                print("child sees", shared[400:406], flush=True)
                os._exit(0)
            os.pwrite(rw, b"parent", 400)
            os.write(w, b"x")
            os.waitpid(pid, 0)
            """)
    }

    /// Linux 6.18 on /dev/shm: punch gives b'a\\x00\\x00ra'; after ftruncate to 4100 the rest
    /// of the last page reads as zeros; bytes past the old end read as zeros after regrowing.
    @Test func sharedReadMappingSeesTruncationAndHolePunching() throws {
        try expectSameAsLinux(Self.prelude + """
            os.pwrite(rw, b"far", 8000)
            print("punch", libc.fallocate(rw, 3, ctypes.c_long(8000), ctypes.c_long(2)), shared[7999:8004])
            os.ftruncate(rw, 4100)
            print("shrunk", os.fstat(ro).st_size, shared[4090:4110])
            os.truncate(path, 10000)
            print("regrown", shared[8000:8003], shared[4095:4101])
            os.pwrite(rw, b"again", 9000)
            print("again", shared[9000:9005])
            """)
    }

    /// Linux 6.18 on /dev/shm: a private mapping's pages follow the file until the program
    /// writes them (b'WXYZ' b'P' b'aaaa').
    @Test func privateMappingFollowsTheFileUntilItsPageIsWritten() throws {
        try expectSameAsLinux(Self.prelude + """
            private = mmap.mmap(ro, 0, access=mmap.ACCESS_COPY)
            private[5000:5001] = b"P"
            os.pwrite(rw, b"WXYZ", 0)
            os.pwrite(rw, b"QRST", 5001)
            print(private[:4], private[5000:5001], private[5001:5005])
            """)
    }

    /// A mapping outlives its descriptor, and the supervisor's sweep (after more files than its
    /// first threshold were mapped and unmapped) keeps the copy it still uses. Linux 6.18 on
    /// /dev/shm: b'closed' b'later!' and 40 files read.
    @Test func mappingOutlivesItsDescriptorAndTheSweep() throws {
        try expectSameAsLinux(Self.prelude + """
            os.close(ro)
            os.pwrite(rw, b"closed", 9600)
            print(shared[9600:9606])
            total = 0
            for i in range(40):
                name = os.path.join(d, "other%d" % i)
                open(name, "wb").write(b"%d" % i)
                with open(name, "rb") as f:
                    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
                    total += int(m[:])
                    m.close()
            os.pwrite(rw, b"later!", 9700)
            print(shared[9700:9706], total)
            """)
    }

    /// Copies no process maps or holds any more are dropped: after 100 files were mapped one
    /// after the other, ten of the mappings kept, the supervisor (the program's parent) holds
    /// fewer than 50 copies, and at least the ten in use.
    @Test func copiesNoLongerMappedAreDroppedBySweeps() throws {
        let result = try SandboxRunner.sandboxed(["/usr/bin/python3", "-c", """
            import mmap, os, sys
            d = sys.argv[1]
            keep = []
            for i in range(100):
                name = os.path.join(d, "f%d" % i)
                open(name, "wb").write(b"x" * 10)
                with open(name, "rb") as f:
                    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
                    if i % 10 == 0:
                        keep.append(m)
                    else:
                        m.close()
            fds = "/proc/%d/fd" % os.getppid()
            links = [os.readlink(os.path.join(fds, n)) for n in os.listdir(fds)]
            copies = sum(1 for link in links if link.startswith("/memfd:vfs:"))
            print(10 <= copies < 50, copies)
            """])
        #expect(result.status == 0, "\(result)")
        #expect(result.output.hasPrefix("True "), "\(result)")
    }

    /// A copy does not keep its file alive: once the mapping (and Python's duplicate of the
    /// descriptor) is gone, an unlinked file's space comes back (a size= limit, so that statfs
    /// counts free blocks). Linux 6.18 on a quiet tmpfs: False b'zzz' then True (not compared
    /// live: /dev/shm's free count moves with everyone else's files).
    @Test func unlinkedMappedFileGivesItsSpaceBackWhenUnmapped() throws {
        let result = try SandboxRunner.sandboxed(["/usr/bin/python3", "-c", """
            import mmap, os, sys
            d = sys.argv[1]
            path = os.path.join(d, "big")
            def free():
                return os.statvfs(d).f_bfree
            before = free()
            open(path, "wb").write(b"z" * (4 << 20))
            with open(path, "rb") as f:
                m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            os.unlink(path)
            print(free() >= before, m[:3])
            m.close()
            print(free() >= before)
            """], mounts: ["tmpfs:/sandbox:mode=0755,size=64m"])
        #expect(result.output == "False b'zzz'\nTrue\n", "\(result)")
    }

    /// A copy never takes writes from the program: the descriptor that holds it after a mapping
    /// is still the VFS's for write(2), and a shared mapping that could write is ENODEV (see
    /// MmapTests). Linux 6.18 on /dev/shm: the write through the number lands in the file and
    /// in the mapping.
    @Test func writesThroughTheMappedDescriptorReachTheFileAndTheMapping() throws {
        try expectSameAsLinux(Self.prelude + """
            private = mmap.mmap(rw, 0, access=mmap.ACCESS_COPY)
            os.pwrite(rw, b"number", 10)
            print(shared[10:16], private[10:16], os.pread(ro, 6, 10), open(path, "rb").read()[10:16])
            """)
    }
}

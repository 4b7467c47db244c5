import Foundation
import Glibc
import Testing

/// AF_UNIX sockets named by paths in `vfs run` mounts (Supervisor+UnixSockets.swift): python3
/// under `vfs run` talks to host processes through sockets in gofer and host mounts, to other
/// sandboxed processes through sockets in gofer, host and tmpfs mounts, and gets Linux's
/// errnos, compared with the same script run natively in a directory on /dev/shm.
@Suite(.serialized) struct UnixSocketUnderRunTests {
    enum Backend: CaseIterable { case tmpfs, host, gofer }

    /// `script` (python3, the directory as its last argument) under `vfs run` with the
    /// directory on `backend` (host and gofer mounts serve `hostDirectory`).
    func sandboxed(_ script: String, on backend: Backend, hostDirectory: String) throws
        -> ProgramResult
    {
        let program = ["/usr/bin/python3", "-c", script]
        switch backend {
        case .tmpfs: return try SandboxRunner.sandboxed(program)
        case .host:
            return try SandboxRunner.sandboxed(
                program, mounts: ["host:/vfskit-srv=\(hostDirectory)"], directory: "/vfskit-srv")
        case .gofer:
            return try SandboxRunner.sandboxed(
                program, mounts: ["gofer:/vfskit-srv=\(hostDirectory)"], directory: "/vfskit-srv")
        }
    }

    /// The script natively on /dev/shm and sandboxed on `backend`; both results.
    func compare(_ script: String, on backend: Backend) throws
        -> (native: ProgramResult, sandboxed: ProgramResult)
    {
        let nativeDirectory = try SandboxRunner.scratchDirectory()
        defer { SandboxRunner.cleanup(nativeDirectory) }
        let hostDirectory = try SandboxRunner.scratchDirectory()
        defer { SandboxRunner.cleanup(hostDirectory) }
        let native = try SandboxRunner.native(["/usr/bin/python3", "-c", script], in: nativeDirectory)
        let sandboxed = try sandboxed(script, on: backend, hostDirectory: hostDirectory)
        return (native, sandboxed)
    }

    /// A sandboxed server and a forked sandboxed client exchange bytes through a socket file in
    /// the mount (absolute path for the server, relative for the client).
    static let serverAndClient = """
        import os, signal, socket, sys
        signal.alarm(120)  # a hang guard, not a timing check: a lost connection fails the test
        d = sys.argv[-1]; os.chdir(d)
        srv = socket.socket(socket.AF_UNIX); srv.bind(d + "/srv.sock"); srv.listen(1)
        pid = os.fork()
        if pid == 0:
            c = socket.socket(socket.AF_UNIX); c.connect("srv.sock"); c.sendall(b"ping")
            print("client got", c.recv(100).decode(), flush=True); os._exit(0)
        conn, _ = srv.accept(); data = conn.recv(100); conn.sendall(data.upper())
        os.waitpid(pid, 0); print("server got", data.decode())
        print(oct(os.stat("srv.sock").st_mode))
        """

    @Test(arguments: Backend.allCases) func sandboxedServerAndClientTalk(_ backend: Backend) throws {
        let (native, sandboxed) = try compare(Self.serverAndClient, on: backend)
        #expect(native.output.hasPrefix("client got PING\nserver got ping\n0o140"), "\(native)")
        #expect(sandboxed == native)
    }

    /// The errno scripts' start: the scratch directory (last argument) as cwd, and `attempt`,
    /// which prints a label with "ok" or the errno's name.
    static let attemptPrelude = """
        import errno, os, socket, sys
        d = sys.argv[-1]; os.chdir(d)
        def attempt(label, f):
            try:
                f(); print(label, "ok")
            except OSError as e:
                print(label, errno.errorcode[e.errno])
        """

    /// Linux 6.18 on /dev/shm: ENOENT for a missing file or directory, ENOTDIR through a
    /// regular file, ECONNREFUSED for a regular file and for a socket file nobody listens on,
    /// EADDRINUSE for bind over any existing name, EPROTOTYPE for a datagram socket to a
    /// stream listener, EINVAL for binding a bound socket or connecting a listening one,
    /// EISCONN for a connected one; the socket file is 0777 & ~umask.
    static let errnoCases = """
        \(attemptPrelude)
        def connect(path, kind=socket.SOCK_STREAM):
            s = socket.socket(socket.AF_UNIX, kind)
            try: s.connect(path)
            finally: s.close()
        def bind(path):
            s = socket.socket(socket.AF_UNIX)
            try: s.bind(path)
            finally: s.close()
        open("file", "w").close(); os.mkdir("sub")
        attempt("missing", lambda: connect(d + "/missing"))
        attempt("regular", lambda: connect(d + "/file"))
        attempt("directory", lambda: connect(d + "/sub"))
        attempt("through-file", lambda: connect(d + "/file/x"))
        attempt("missing-dir", lambda: connect(d + "/nodir/x"))
        attempt("bind-stale", lambda: bind(d + "/stale"))
        attempt("stale", lambda: connect(d + "/stale"))
        attempt("stale-relative", lambda: connect("stale"))
        attempt("bind-existing", lambda: bind(d + "/stale"))
        attempt("bind-file", lambda: bind("file"))
        attempt("bind-dir", lambda: bind("sub"))
        attempt("bind-missing-dir", lambda: bind(d + "/nodir/s"))
        attempt("bind-through-file", lambda: bind(d + "/file/s"))
        os.symlink("dangling-target", "dangling")
        attempt("bind-dangling", lambda: bind("dangling"))
        os.symlink("stale", "link-to-stale")
        attempt("via-symlink", lambda: connect("link-to-stale"))
        print("stale", oct(os.lstat("stale").st_mode))
        srv = socket.socket(socket.AF_UNIX); srv.bind(d + "/live"); srv.listen(1)
        attempt("dgram-to-stream", lambda: connect(d + "/live", socket.SOCK_DGRAM))
        attempt("seqpacket-to-stream", lambda: connect(d + "/live", socket.SOCK_SEQPACKET))
        b = socket.socket(socket.AF_UNIX); b.bind(d + "/b1")
        attempt("rebind", lambda: b.bind(d + "/b2"))
        attempt("rebind-existing", lambda: b.bind(d + "/file"))
        c = socket.socket(socket.AF_UNIX); c.connect(d + "/live")
        attempt("reconnect", lambda: c.connect(d + "/live"))
        attempt("connect-listening", lambda: srv.connect(d + "/live"))
        print(sorted(os.listdir(".")))
        """

    @Test(arguments: Backend.allCases) func errnosAreLinuxs(_ backend: Backend) throws {
        let (native, sandboxed) = try compare(Self.errnoCases, on: backend)
        #expect(native.status == 0, "\(native)")
        #expect(native.output.contains("stale ECONNREFUSED\n"), "\(native)")
        #expect(sandboxed == native)
    }

    /// A connected socket keeps the program descriptor's close-on-exec flag and O_NONBLOCK
    /// (the supervisor installs a new socket at the number); data flows both ways.
    static let flagsKept = """
        import fcntl, os, signal, socket, sys
        signal.alarm(120)  # a hang guard, not a timing check
        d = sys.argv[-1]
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); srv.bind(d + "/s"); srv.listen(2)
        a = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); a.setblocking(False)
        os.set_inheritable(a.fileno(), True)
        a.connect(d + "/s")
        b = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); b.connect(d + "/s")
        for s in (a, b):
            flags = fcntl.fcntl(s.fileno(), fcntl.F_GETFL)
            print(s.type, bool(flags & os.O_NONBLOCK), os.get_inheritable(s.fileno()))
        conn, _ = srv.accept(); conn.send(b"one"); conn.send(b"two")
        b2, _ = srv.accept()
        import select; select.select([a], [], [])
        print(a.recv(100), a.recv(100))
        """

    @Test(arguments: Backend.allCases) func connectKeepsDescriptorFlags(_ backend: Backend) throws {
        let (native, sandboxed) = try compare(Self.flagsKept, on: backend)
        #expect(native.status == 0, "\(native)")
        #expect(sandboxed == native)
    }

    /// AF_INET, abstract names and socketpair are the kernel's (the trap continues them).
    static let otherFamilies = """
        import os, socket, sys
        l = socket.socket(socket.AF_INET); l.bind(("127.0.0.1", 0)); l.listen(1)
        c = socket.socket(socket.AF_INET); c.connect(l.getsockname()); s, _ = l.accept()
        c.sendall(b"inet"); print(s.recv(10))
        name = b"\\0vfskit-abstract-%d" % os.getpid()
        a = socket.socket(socket.AF_UNIX); a.bind(name); a.listen(1)
        print(a.getsockname() == name)
        b = socket.socket(socket.AF_UNIX); b.connect(name); t, _ = a.accept()
        b.sendall(b"abstract"); print(t.recv(10))
        u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); u.bind(""); print(u.getsockname()[:1])
        x, y = socket.socketpair(); x.sendall(b"pair"); print(y.recv(10))
        """

    @Test func otherFamiliesAreUnaffected() throws {
        let (native, sandboxed) = try compare(Self.otherFamilies, on: .gofer)
        #expect(native.status == 0 && native.output.hasSuffix("b'pair'\n"), "\(native)")
        #expect(sandboxed == native)
    }

    /// Linux 6.18 on /dev/shm as uid 1000: EACCES without write permission on the socket
    /// file, without search permission on a directory on the way, and for bind without write
    /// permission on the directory.
    static let permissionCases = """
        \(attemptPrelude)
        def connect(path):
            s = socket.socket(socket.AF_UNIX)
            try: s.connect(path)
            finally: s.close()
        srv = socket.socket(socket.AF_UNIX); srv.bind("s"); srv.listen(1)
        os.chmod("s", 0o555)
        attempt("no-write", lambda: connect(d + "/s"))
        os.chmod("s", 0o777)
        attempt("write", lambda: connect(d + "/s"))
        os.mkdir("closed"); os.chmod("closed", 0o600)
        attempt("no-search", lambda: connect(d + "/closed/x"))
        os.mkdir("ro"); os.chmod("ro", 0o555)
        attempt("bind-no-write", lambda: socket.socket(socket.AF_UNIX).bind(d + "/ro/s"))
        print(os.getuid(), os.stat("s").st_uid)
        """

    @Test(arguments: Backend.allCases) func permissionErrnosAreLinuxs(_ backend: Backend) throws {
        let nativeDirectory = try SandboxRunner.scratchDirectory()
        defer { SandboxRunner.cleanup(nativeDirectory) }
        let hostDirectory = try SandboxRunner.scratchDirectory()
        defer { SandboxRunner.cleanup(hostDirectory) }
        chmod(nativeDirectory, 0o777)
        chmod(hostDirectory, 0o777)
        let program = ["/usr/bin/python3", "-c", Self.permissionCases]
        let native = try SandboxRunner.native(
            ["/usr/bin/setpriv", "--reuid=1000", "--regid=1000", "--clear-groups"] + program,
            in: nativeDirectory)
        let mount: String
        switch backend {
        case .tmpfs: mount = "tmpfs:/vfskit-srv:mode=0777"
        case .host: mount = "host:/vfskit-srv=\(hostDirectory)"
        case .gofer: mount = "gofer:/vfskit-srv=\(hostDirectory)"
        }
        let sandboxed = try SandboxRunner.sandboxed(
            program, mounts: [mount], directory: "/vfskit-srv", extraOptions: ["--uid", "1000"])
        #expect(native.output == "no-write EACCES\nwrite ok\nno-search EACCES\nbind-no-write EACCES\n1000 1000\n", "\(native)")
        #expect(sandboxed == native)
    }

    // MARK: - With host processes

    /// A host listener at `path`: accepts one connection, reads what arrives, answers it in
    /// upper case; `received` holds what it read.
    func hostListener(at path: String) throws -> (thread: Thread, received: Locked<String>) {
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw RunnerError("socket: \(errno)") }
        guard Self.withAddress(path, { bind(listener, $0, $1) }) == 0, listen(listener, 1) == 0
        else { throw RunnerError("bind/listen: \(errno)") }
        let received = Locked<String>("")
        let thread = Thread {
            defer { close(listener) }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return received.set("accept failed") }
            defer { close(connection) }
            var buffer = [UInt8](repeating: 0, count: 100)
            let count = read(connection, &buffer, buffer.count)
            let text = String(decoding: buffer[..<max(count, 0)], as: UTF8.self)
            let reply = Array(text.uppercased().utf8)
            _ = send(connection, reply, reply.count, Int32(MSG_NOSIGNAL))
            received.set(text)
        }
        thread.start()
        return (thread, received)
    }

    static func withAddress(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32)
        -> Int32
    {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return -1 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1))
            }
        }
    }

    @Test(arguments: [Backend.gofer, .host]) func sandboxedClientReachesHostListener(
        _ backend: Backend
    ) throws {
        let hostDirectory = try SandboxRunner.scratchDirectory()
        defer { SandboxRunner.cleanup(hostDirectory) }
        let (_, received) = try hostListener(at: hostDirectory + "/host.sock")
        let result = try sandboxed(
            """
            import socket, sys
            c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[-1] + "/host.sock")
            c.sendall(b"from the sandbox"); print(c.recv(100).decode())
            """, on: backend, hostDirectory: hostDirectory)
        if !received.done {
            // The program never reached the listener: release its accept.
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            _ = Self.withAddress(hostDirectory + "/host.sock") { connect(fd, $0, $1) }
            close(fd)
        }
        while !received.done { usleep(1000) }
        #expect(result.output == "FROM THE SANDBOX\n", "\(result)")
        #expect(received.value == "from the sandbox")
    }

    @Test(arguments: [Backend.gofer, .host]) func hostClientReachesSandboxedServer(
        _ backend: Backend
    ) throws {
        let hostDirectory = try SandboxRunner.scratchDirectory()
        defer { SandboxRunner.cleanup(hostDirectory) }
        let path = hostDirectory + "/sandboxed.sock"
        // The host client connects once the sandboxed server listens (it retries meanwhile:
        // ENOENT before the bind, ECONNREFUSED between bind and listen).
        let answer = Locked<String>("")
        let finished = Locked<Bool>(false)
        let client = Thread {
            while !finished.done {
                let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
                if Self.withAddress(path, { connect(fd, $0, $1) }) == 0 {
                    let message = Array("from the host".utf8)
                    _ = send(fd, message, message.count, Int32(MSG_NOSIGNAL))
                    var buffer = [UInt8](repeating: 0, count: 100)
                    let count = read(fd, &buffer, buffer.count)
                    close(fd)
                    return answer.set(String(decoding: buffer[..<max(count, 0)], as: UTF8.self))
                }
                close(fd)
                usleep(10_000)
            }
            answer.set("never connected")
        }
        client.start()
        let result = try sandboxed(
            """
            import signal, socket, sys
            signal.alarm(120)  # a hang guard, not a timing check
            s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[-1] + "/sandboxed.sock"); s.listen(1)
            conn, _ = s.accept(); data = conn.recv(100); conn.sendall(data.upper())
            print(data.decode())
            """, on: backend, hostDirectory: hostDirectory)
        finished.set(true)
        while !answer.done { usleep(1000) }
        #expect(result.output == "from the host\n", "\(result)")
        #expect(answer.value == "FROM THE HOST")
        var status = stat()
        #expect(lstat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFSOCK)
    }
}

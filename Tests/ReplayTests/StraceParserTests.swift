import Replay
import Testing

/// Parser cases from real lines of the shipped workloads (py_imports, lua_build).
@Suite struct StraceParserTests {
    func call(_ line: String) -> StraceCall? {
        guard case .call(let call)? = StraceParser.parse(line).first else { return nil }
        return call
    }

    @Test func openatWithFlagsAndDescriptorResult() throws {
        let parsed = try #require(call(#"1369  openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3"#))
        #expect(parsed.pid == 1369)
        #expect(parsed.name == "openat")
        #expect(parsed.arguments == [
            .flags(["AT_FDCWD"]), .string(Array("/etc/ld.so.cache".utf8), truncated: false),
            .flags(["O_RDONLY", "O_CLOEXEC"]),
        ])
        #expect(parsed.result == .value(3))
        #expect(StraceConstants.value(of: parsed.arguments[2]) == 0o2000000)
    }

    @Test func errorResultKeepsTheErrnoName() throws {
        let parsed = try #require(call(
            #"30401 access("/etc/ld.so.preload", R_OK) = -1 ENOENT (No such file or directory)"#))
        #expect(parsed.result == .error("ENOENT"))
        #expect(StraceConstants.value(of: parsed.arguments[1]) == 4)
    }

    @Test func stringEscapesAndTruncationMarker() throws {
        let parsed = try #require(call(
            #"1369  read(3, "\177ELF\2\1\1\3\0\0\0\0\0\0\0\0\3\0>\0\1\0\0\0\0\0\0\0\0\0\0\0@\0\0\0\0\0\0\0`\342\r\0\0\0\0\0\0\0\0\0@\08\0\v\0@\0\37\0\36\0"..., 832) = 832"#))
        guard case .string(let bytes, let truncated) = parsed.arguments[1] else {
            Issue.record("not a string: \(parsed.arguments[1])")
            return
        }
        #expect(truncated)
        #expect(Array(bytes.prefix(4)) == [0o177, 0x45, 0x4C, 0x46])
        #expect(bytes.count == 64)  // strace -s 64
        #expect(bytes.contains(0xE2))  // \342
        #expect(bytes.contains(0x0D))  // \r
        #expect(parsed.arguments[2] == .int(832))
        #expect(parsed.result == .value(832))
    }

    @Test func backslashAndQuoteEscapes() throws {
        let parsed = try #require(call(
            #"32756 write(3, "A\\B\"C\t\x41"..., 8192) = 8192"#))
        #expect(parsed.arguments[1] == .string(Array("A\\B\"C\tA".utf8), truncated: true))
    }

    @Test func statStructIsKeptAsText() throws {
        let parsed = try #require(call(
            #"1369  newfstatat(3, "", {st_mode=S_IFREG|0644, st_size=38559, ...}, AT_EMPTY_PATH) = 0"#))
        #expect(parsed.arguments[0] == .int(3))
        #expect(parsed.arguments[1] == .string([], truncated: false))
        #expect(parsed.arguments[2] == .structure("st_mode=S_IFREG|0644, st_size=38559, ..."))
        #expect(StraceConstants.value(of: parsed.arguments[3]) == 0x1000)
    }

    @Test func getdentsAddressWithComment() throws {
        let parsed = try #require(call(#"1369  getdents64(3, 0x306df7a0 /* 208 entries */, 32768) = 6944"#))
        #expect(parsed.arguments == [.int(3), .int(0x306df7a0), .int(32768)])
        #expect(parsed.result == .value(6944))
    }

    @Test func fcntlResultWithAnnotation() throws {
        let parsed = try #require(call(#"30401 fcntl(1, F_GETFL)                 = 0x8002 (flags O_RDWR|O_LARGEFILE)"#))
        #expect(parsed.arguments == [.int(1), .flags(["F_GETFL"])])
        #expect(parsed.result == .value(0x8002))
    }

    @Test func octalModeArgument() throws {
        let parsed = try #require(call(#"100 openat(AT_FDCWD, "lapi.o", O_RDWR|O_CREAT|O_TRUNC, 0666) = 3"#))
        #expect(parsed.arguments[3] == .int(0o666))
    }

    @Test func execveArraysAndVarsComment() throws {
        let parsed = try #require(call(
            #"30401 execve("/usr/bin/make", ["make", "-j1", "CC=gcc"], 0x7fff0f7e1460 /* 38 vars */) = 0"#))
        #expect(parsed.arguments.count == 3)
        #expect(parsed.arguments[1] == .array(#""make", "-j1", "CC=gcc""#))
        #expect(parsed.arguments[2] == .int(0x7fff0f7e1460))
    }

    @Test func unfinishedAndResumedHalvesJoin() throws {
        let records = StraceParser.parse("""
            30402 close(3 <unfinished ...>
            30407 <... execve resumed>)             = 0
            30402 <... close resumed>)              = 0
            """)
        // The execve's first half was never seen: its arguments are unknown, its result kept.
        #expect(records.count == 2)
        guard case .call(let execve) = records[0], case .call(let close) = records[1] else {
            Issue.record("expected two calls: \(records)")
            return
        }
        #expect(execve.name == "execve")
        #expect(execve.result == .value(0))
        #expect(close.pid == 30402)
        #expect(close.arguments == [.int(3)])
        #expect(close.result == .value(0))
        #expect(close.line == 3)
    }

    @Test func resumedAfterArgumentsJoinsWithComma() throws {
        let records = StraceParser.parse("""
            7 read(3,  <unfinished ...>
            8 close(4) = 0
            7 <... read resumed>"abc", 4096) = 3
            """)
        guard case .call(let read) = records.last else {
            Issue.record("no call")
            return
        }
        #expect(read.arguments == [.int(3), .string(Array("abc".utf8), truncated: false), .int(4096)])
        #expect(read.result == .value(3))
    }

    @Test func signalAndExitLines() {
        let records = StraceParser.parse("""
            30402 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=30407, si_uid=0, si_status=0, si_utime=45 /* 0.45 s */, si_stime=3 /* 0.03 s */} ---
            30407 +++ exited with 0 +++
            """)
        #expect(records.count == 2)
        guard case .signal(let pid, let name, let info, _) = records[0] else {
            Issue.record("not a signal: \(records[0])")
            return
        }
        #expect(pid == 30402)
        #expect(name == "SIGCHLD")
        #expect(info.contains("si_pid=30407"))
        #expect(records[1] == .exit(pid: 30407, line: 2))
    }

    /// All of py_imports and the first 10,000 lines of lua_build (the whole of it takes too long
    /// in a debug build; `vfs replay` reports unparsed lines for the rest).
    @Test func everyLineOfBothWorkloadsParses() throws {
        for name in ["py_imports", "lua_build"] {
            guard let url = Workloads.url("\(name).strace") else { continue }  // lua_build: shared copy only
            let text = try String(contentsOf: url, encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).prefix(10_000)
            let records = StraceParser.parse(lines.joined(separator: "\n"))
            let unparsed = records.filter { if case .unparsed = $0 { return true } else { return false } }
            #expect(unparsed.isEmpty, "\(name): \(unparsed.prefix(3))")
            #expect(records.count > 1000)
        }
    }
}

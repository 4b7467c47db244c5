import Foundation
import Testing

/// What `vfs run` guarantees beyond identical output: isolation of the host directory under a
/// mount point, exit status, descriptors across fork and exec, and the documented answers
/// for what needs a real host file (mmap: MmapTests).
@Suite(.serialized) struct SandboxBehaviourTests {
    @Test func hostFilesUnderTheMountPointAreUnreachable() throws {
        let directory = try SandboxRunner.scratchDirectory()
        defer { SandboxRunner.cleanup(directory) }
        try "host secret\n".write(toFile: directory + "/secret", atomically: false, encoding: .utf8)
        let result = try SandboxRunner.sandboxed(
            ["/bin/sh", "-c", """
                cat "$1/secret" 2>&1; ls -A "$1"; cd "$1" && cat secret 2>&1; cat ../$(basename "$1")/secret 2>&1
                echo mine > "$1/secret"; cat "$1/secret"
                """, "sh"],
            mounts: ["tmpfs:\(directory)"], directory: directory)
        #expect(result.status == 0)
        #expect(!result.output.contains("host secret"))
        #expect(result.output.contains("No such file or directory"))
        #expect(result.output.hasSuffix("mine\n"))
        // The program's write went to the VFS, not to the host file.
        #expect(try String(contentsOfFile: directory + "/secret", encoding: .utf8) == "host secret\n")
    }

    @Test func exitCodeIsTheProgramsOwn() throws {
        let result = try SandboxRunner.sandboxed(["/bin/sh", "-c", "exit 7", "sh"])
        #expect(result.status == 7)
    }

    @Test func deathBySignalIs128PlusTheSignal() throws {
        let result = try SandboxRunner.sandboxed(["/bin/sh", "-c", "kill -TERM $$", "sh"])
        #expect(result.status == 128 + 15)
    }

    @Test func missingProgramExits127() throws {
        let result = try SandboxRunner.sandboxed(["/nonexistent/program"])
        #expect(result.status == 127)
        #expect(result.errors.contains("No such file or directory"))
    }

    @Test func fileStoredInTheVFSCannotBeExecuted() throws {
        // EACCES, as on a noexec mount: the shell reports "Permission denied" and 126.
        let result = try SandboxRunner.sandboxed(["/bin/sh", "-c", """
            cp /bin/true "$1/true" && chmod 755 "$1/true" && "$1/true"
            """, "sh"])
        #expect(result.status == 126)
        #expect(result.errors.contains("Permission denied"))
    }

    @Test func inheritedDescriptorIsReadByAForkedChild() throws {
        let (native, sandboxed) = try SandboxRunner.compareShell("""
            cd "$1" && mkdir w && cd w && printf 'inherited\\n' > f
            exec 4< f; sh -c 'cat <&4'; (read line <&4; echo "sub: $line")
            """)
        #expect(sandboxed == native)
    }

    @Test func closeOnExecDescriptorIsGoneAfterExec() throws {
        // Python's descriptors are close-on-exec: after exec the child's `cat` opens a host
        // file at the freed number and must read the host file, not the VFS one.
        let script = """
            import os, subprocess, sys
            os.chdir(sys.argv[1])
            open("vfs-file", "w").write("from the vfs\\n")
            fd = os.open("vfs-file", os.O_RDONLY)
            subprocess.run(["/bin/sh", "-c", "cat /etc/hostname >/dev/null && cat /proc/self/comm"])
            subprocess.run(["/bin/sh", "-c", "cat <&%d 2>/dev/null || echo closed" % fd], close_fds=False)
            print(os.read(fd, 100).decode(), end="")
            """
        let directory = try SandboxRunner.scratchDirectory()
        defer { SandboxRunner.cleanup(directory) }
        let native = try SandboxRunner.native(["/usr/bin/python3", "-c", script], in: directory)
        let sandboxed = try SandboxRunner.sandboxed(["/usr/bin/python3", "-c", script])
        #expect(native.output == "cat\nclosed\nfrom the vfs\n")
        #expect(sandboxed == native)
    }

    @Test func chmodThroughProcSelfFdReachesTheVFSFile() throws {
        // glibc's fchmodat(AT_SYMLINK_NOFOLLOW) does this (tar's directory fix-ups): the
        // magic link must lead to the VFS file, never to the placeholder behind the number.
        let devNullBefore = try FileManager.default.attributesOfItem(atPath: "/dev/null")[.posixPermissions]
        let result = try SandboxRunner.sandboxed(["/usr/bin/python3", "-c", """
            import os, sys
            path = sys.argv[1] + "/f"
            open(path, "w").write("x")
            fd = os.open(path, os.O_RDONLY)
            os.chmod("/proc/self/fd/%d" % fd, 0o600)
            os.chmod("/dev/fd/%d" % fd, 0o640)
            print(oct(os.stat(path).st_mode & 0o777))
            """])
        #expect(result.output == "0o640\n")
        let devNullAfter = try FileManager.default.attributesOfItem(atPath: "/dev/null")[.posixPermissions]
        #expect(devNullBefore as? Int == devNullAfter as? Int)
    }

    @Test func hostPathsOutsideTheMountsPassThrough() throws {
        let result = try SandboxRunner.sandboxed(["/bin/sh", "-c", """
            cat /etc/hostname > "$1/copy" && cmp /etc/hostname "$1/copy" && echo same
            """, "sh"])
        #expect(result.output == "same\n")
    }

    @Test func crossingBetweenHostAndVFSIsEXDEVForRename() throws {
        let result = try SandboxRunner.sandboxed(["/usr/bin/python3", "-c", """
            import os, sys
            open(sys.argv[1] + "/f", "w").write("x")
            try:
                os.rename(sys.argv[1] + "/f", "/tmp/vfskit-should-not-exist")
            except OSError as error:
                print(error.errno)
            """])
        #expect(result.output == "18\n")
    }

    @Test func programRunsAsTheRequestedUser() throws {
        let result = try SandboxRunner.sandboxed(
            ["/bin/sh", "-c", """
                id -u; id -g; cd "$1" && touch f && stat -c '%u %g' f; chmod 700 . 2>&1
                """, "sh"],
            mounts: ["tmpfs:/sandbox"],  // root-owned 1777, as tmpfs mounts default to
            extraOptions: ["--uid", "1000", "--gid", "1000"])
        #expect(result.output.hasPrefix("1000\n1000\n1000 1000\n"))
        // The tmpfs root belongs to root: only its owner may chmod it.
        #expect(result.output.contains("Operation not permitted"))
    }
}

/// `host:` mounts (HostBackend) under `vfs run`.
@Suite(.serialized) struct HostMountUnderRunTests {
    @Test func hostMountServesAndChangesTheHostDirectory() throws {
        let directory = try SandboxRunner.scratchDirectory()
        defer { SandboxRunner.cleanup(directory) }
        try "from the host\n".write(toFile: directory + "/f", atomically: false, encoding: .utf8)
        let result = try SandboxRunner.sandboxed(
            ["/bin/sh", "-c", "cat \"$1/f\" && echo written > \"$1/g\"", "sh"],
            mounts: ["host:/data=\(directory)"], directory: "/data")
        #expect(result.output == "from the host\n")
        #expect(try String(contentsOfFile: directory + "/g", encoding: .utf8) == "written\n")
    }

    @Test func readOnlyHostMountRefusesWrites() throws {
        let directory = try SandboxRunner.scratchDirectory()
        defer { SandboxRunner.cleanup(directory) }
        let result = try SandboxRunner.sandboxed(
            ["/bin/sh", "-c", "echo x > \"$1/g\"", "sh"],
            mounts: ["host:/data=\(directory):ro"], directory: "/data")
        #expect(result.status != 0)
        #expect(result.errors.contains("Read-only file system"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/g"))
    }

    @Test func goferMountOfAMissingDirectoryIsRefused() throws {
        let result = try SandboxRunner.sandboxed(
            ["/bin/true"], mounts: ["gofer:/g=/nonexistent-vfskit-dir"], directory: "/g")
        #expect(result.status == 125)
        #expect(result.errors.contains("No such file or directory"))
    }
}

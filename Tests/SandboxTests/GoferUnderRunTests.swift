import Foundation
import Testing

/// Real programs under `vfs run --mount gofer:/srv=DIR` (DIR served by a separate, confined
/// `vfs gofer` process), their output compared with the same script run natively in another
/// directory on /dev/shm (a real tmpfs). As in CoreutilsUnderRunTests, scripts work in a
/// subdirectory `w` they create and `ls` prints no times.
@Suite(.serialized) struct GoferUnderRunTests {
    func compare(_ script: String, flags: String = "") throws
        -> (native: ProgramResult, sandboxed: ProgramResult, hostDirectory: String)
    {
        try SandboxRunner.compareShellOnGofer(script, flags: flags)
    }

    func expectSame(
        _ script: String, flags: String = "", sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let (native, sandboxed, hostDirectory) = try compare(script, flags: flags)
        SandboxRunner.cleanup(hostDirectory)
        #expect(native.status == 0, "native run failed: \(native)", sourceLocation: sourceLocation)
        #expect(sandboxed == native, sourceLocation: sourceLocation)
    }

    @Test func shellScriptWritesAndReadsFiles() throws {
        try expectSame("""
            cd "$1" && mkdir w && cd w
            echo one > f; echo two >> f; printf 'c\\nb\\na\\n' | sort | tee g | wc -l
            cat f g | tr a-z A-Z > h; cat h; wc -c f g h
            exec 3> fd3; echo via-three >&3; exec 3>&-; cat fd3
            cat missing 2>&1; echo "status $?"
            """)
    }

    @Test func lsLaOfATree() throws {
        try expectSame("""
            cd "$1" && mkdir -p w/sub/deeper && cd w
            printf 12345 > five; : > empty; echo hi > sub/deeper/f; chmod 640 five
            ls -la --time-style=+ . sub sub/deeper
            """)
    }

    @Test func copyRecursive() throws {
        try expectSame("""
            cd "$1" && mkdir -p w/a/b && cd w && echo x > a/b/f && echo y > a/g && ln -s g a/l
            cp -r a c && ls -laR --time-style=+ c && cat c/b/f c/l
            """)
    }

    @Test func findExpressions() throws {
        try expectSame("""
            cd "$1" && mkdir -p w/a/b w/c && cd w && touch a/x.c a/b/y.c c/z.h top.c
            find . | sort && find . -name '*.c' | sort && find . -type d | sort
            find . -empty -type d -o -name 'z*' | sort && find a -maxdepth 1 -type f
            """)
    }

    @Test func moveAndRemove() throws {
        try expectSame("""
            cd "$1" && mkdir -p w/d/e w/r/s && cd w && echo x > f && touch r/1 r/s/2
            mv f g && mv d d2 && mv g d2/e/ && rm -r r && ls -R && cat d2/e/g
            rmdir nope 2>&1; echo "status $?"
            """)
    }

    @Test func sharedCachingModeGivesTheSameOutput() throws {
        try expectSame("""
            cd "$1" && mkdir -p w/a && cd w && echo x > a/f && ln -s f a/l && cat a/l
            mv a b && ls -la --time-style=+ b && rm b/l && ls b
            """, flags: ":shared")
    }

    @Test func filesLandInTheHostDirectory() throws {
        let (_, sandboxed, hostDirectory) = try compare("""
            cd "$1" && mkdir -p w/sub && echo written > w/sub/f && chmod 600 w/sub/f
            """)
        defer { SandboxRunner.cleanup(hostDirectory) }
        #expect(sandboxed.status == 0, "\(sandboxed)")
        let path = hostDirectory + "/w/sub/f"
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "written\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }

    @Test func hostFilesAreSeenUnderTheMount() throws {
        let directory = try SandboxRunner.scratchDirectory()
        defer { SandboxRunner.cleanup(directory) }
        try "from the host\n".write(toFile: directory + "/f", atomically: false, encoding: .utf8)
        let result = try SandboxRunner.sandboxed(
            ["/bin/sh", "-c", "cat \"$1/f\" && ls \"$1\"", "sh"],
            mounts: ["gofer:/srv=\(directory)"], directory: "/srv")
        #expect(result == ProgramResult(status: 0, output: "from the host\nf\n", errors: ""))
    }

    /// The program reaches the host directory by its host path too (outside every mount);
    /// a file replaced that way is seen under a shared mount on the next lookup.
    @Test func sharedMountSeesAFileReplacedOnTheHost() throws {
        let directory = try SandboxRunner.scratchDirectory()
        defer { SandboxRunner.cleanup(directory) }
        try "old\n".write(toFile: directory + "/f", atomically: false, encoding: .utf8)
        let result = try SandboxRunner.sandboxed(
            ["/bin/sh", "-c", "cat /srv/f && rm \"$1/f\" && echo new > \"$1/f\" && cat /srv/f", "sh"],
            mounts: ["gofer:/srv=\(directory):shared"], directory: directory)
        #expect(result == ProgramResult(status: 0, output: "old\nnew\n", errors: ""))
    }

    @Test func readOnlyGoferMountRefusesChangesWithEROFS() throws {
        let directory = try SandboxRunner.scratchDirectory()
        defer { SandboxRunner.cleanup(directory) }
        try "kept\n".write(toFile: directory + "/f", atomically: false, encoding: .utf8)
        let result = try SandboxRunner.sandboxed(
            [
                "/bin/sh", "-c",
                "cd \"$1\"; cat f; echo x > g; mkdir d; rm f; echo x >> f; touch f; cat f", "sh",
            ],
            mounts: ["gofer:/srv=\(directory):ro"], directory: "/srv")
        // Linux: each change on a read-only mount fails with EROFS ("Read-only file system").
        #expect(result.output == "kept\nkept\n")
        let refusals = result.errors.split(separator: "\n").filter { $0.contains("Read-only file system") }
        #expect(refusals.count == 5, "\(result)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["f"])
        #expect(try String(contentsOfFile: directory + "/f", encoding: .utf8) == "kept\n")
    }

    @Test func goferProcessIsGoneWhenTheProgramExits() throws {
        let directory = try SandboxRunner.scratchDirectory()
        defer { SandboxRunner.cleanup(directory) }
        let result = try SandboxRunner.sandboxed(
            ["/bin/sh", "-c", "ls \"$1\"", "sh"], mounts: ["gofer:/srv=\(directory)"], directory: "/srv")
        #expect(result.status == 0)
        // No process is left whose command line names the served directory.
        let lingering = try FileManager.default.contentsOfDirectory(atPath: "/proc").filter { entry in
            guard Int(entry) != nil,
                let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
            else { return false }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.contains("gofer") && arguments.contains(directory)
        }
        #expect(lingering.isEmpty)
    }

    @Test func programExitStatusPassesThroughAGoferMount() throws {
        let directory = try SandboxRunner.scratchDirectory()
        defer { SandboxRunner.cleanup(directory) }
        let result = try SandboxRunner.sandboxed(
            ["/bin/sh", "-c", "test -d \"$1\" && exit 7", "sh"],
            mounts: ["gofer:/srv=\(directory)"], directory: "/srv")
        #expect(result.status == 7)
    }
}

import Testing
import VFSCore

@testable import vfs

/// `vfs shell`: the verbs do what their coreutils namesakes do, and fail the way they fail.
@Suite struct ShellTests {
    final class Transcript: @unchecked Sendable {
        var output: [String] = []
        var errors: [String] = []
    }

    func makeShell() -> (Shell, Transcript) {
        let transcript = Transcript()
        let shell = Shell.overTmpfs(
            output: { transcript.output.append($0) }, errors: { transcript.errors.append($0) })
        return (shell, transcript)
    }

    @Test func quotesAndRedirectionsParse() throws {
        #expect(
            try ShellLine.parse(#"echo 'a b' "c\"d" e\ f > out"#)
                == ShellLine(words: ["echo", "a b", "c\"d", "e f"], redirect: .init(path: "out", append: false)))
        #expect(try ShellLine.parse("echo x >> log").redirect == .init(path: "log", append: true))
        #expect(try ShellLine.parse("ls # comment").words == ["ls"])
        #expect(throws: ShellLine.ParseError.unterminatedQuote) { try ShellLine.parse("echo 'oops") }
        #expect(throws: ShellLine.ParseError.missingRedirectTarget) { try ShellLine.parse("echo >") }
    }

    @Test func echoRedirectsIntoAFileAndCatPrintsIt() {
        let (shell, transcript) = makeShell()
        shell.run("echo hello world > /greeting")
        shell.run("echo again >> /greeting")
        shell.run("cat /greeting")
        #expect(transcript.output == ["hello world\nagain"])
    }

    @Test func mkdirOfAnExistingDirectoryFailsLikeCoreutils() {
        let (shell, transcript) = makeShell()
        #expect(shell.run("mkdir /a") == 0)
        #expect(shell.run("mkdir /a") == 1)
        #expect(transcript.errors == ["mkdir: cannot create directory '/a': File exists"])
    }

    @Test func lsLongShowsModesLinksAndSymlinkTargets() {
        let (shell, transcript) = makeShell()
        shell.run("mkdir /d")
        shell.run("echo x > /d/f")
        shell.run("ln -s f /d/l")
        shell.run("ls -l /d")
        #expect(transcript.output.first == "total 4")
        #expect(transcript.output.dropFirst().first?.hasPrefix("-rw-r--r-- 1 0 0 2 ") == true)
        #expect(transcript.output.last?.hasPrefix("lrwxrwxrwx 1 0 0 1 ") == true)
        #expect(transcript.output.last?.hasSuffix(" l -> f") == true)
    }

    @Test func cdAndPwdFollowTheWorkingDirectory() {
        let (shell, transcript) = makeShell()
        shell.run("mkdir -p /x/y/z")
        shell.run("cd /x/y")
        shell.run("cd z/..")
        shell.run("pwd")
        #expect(transcript.output == ["/x/y"])
        #expect(shell.run("cd /missing") == 1)
        #expect(transcript.errors == ["cd: /missing: No such file or directory"])
    }

    @Test func mountHidesAndUmountReveals() {
        let (shell, transcript) = makeShell()
        shell.run("mkdir /mnt")
        shell.run("echo under > /mnt/file")
        shell.run("mount -t tmpfs -o size=1m none /mnt")
        shell.run("ls /mnt")
        shell.run("cd /mnt")
        #expect(shell.run("umount /mnt") == 1)
        shell.run("cd /")
        #expect(shell.run("umount /mnt") == 0)
        shell.run("ls /mnt")
        #expect(transcript.output == ["file"])
        #expect(transcript.errors == ["umount: /mnt: target is busy."])
    }

    @Test func readOnlyBindMountRefusesWrites() {
        let (shell, transcript) = makeShell()
        shell.run("mkdir /src /ro")
        shell.run("mount --bind -o ro /src /ro")
        #expect(shell.run("touch /ro/f") == 1)
        #expect(transcript.errors == ["touch: cannot touch '/ro/f': Read-only file system"])
    }

    @Test func suDropsPrivilegesForPermissionChecks() {
        let (shell, transcript) = makeShell()
        shell.run("mkdir /private")
        shell.run("chmod 700 /private")
        shell.run("su 1000")
        #expect(shell.run("ls /private") == 1)
        #expect(shell.run("chown 1000 /") == 1)
        #expect(
            transcript.errors == [
                "ls: cannot open directory '/private': Permission denied",
                "chown: changing ownership of '/': Operation not permitted",
            ])
    }

    @Test func mvRenamesAndReportsMissingSources() {
        let (shell, transcript) = makeShell()
        shell.run("echo 1 > /a")
        shell.run("mkdir /dir")
        shell.run("mv /a /dir")
        shell.run("ls /dir")
        #expect(shell.run("mv /a /b") == 1)
        #expect(transcript.output == ["a"])
        #expect(transcript.errors == ["mv: cannot stat '/a': No such file or directory"])
    }

    @Test func rmRefusesDirectoriesWithoutR() {
        let (shell, transcript) = makeShell()
        shell.run("mkdir -p /t/u")
        #expect(shell.run("rm /t") == 1)
        #expect(shell.run("rm -r /t") == 0)
        #expect(transcript.errors == ["rm: cannot remove '/t': Is a directory"])
    }

    @Test func unknownVerbsAre127() {
        let (shell, transcript) = makeShell()
        #expect(shell.run("frobnicate") == 127)
        #expect(transcript.errors == ["vfs: frobnicate: command not found"])
    }
}

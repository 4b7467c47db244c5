import Foundation
import Testing

/// A real C build under `vfs run`: Lua 5.4.4's source (Debian's lua5.4 .orig tarball) unpacked
/// into a tmpfs mount and built by `make`, against the same build natively on /dev/shm. Slow
/// (about a minute natively on a 2-core machine, more sandboxed), so it runs only with
/// VFSKIT_SLOW_TESTS=1. The tarball is VFSKIT_LUA_TARBALL, else /work/lua-src's, else fetched
/// with `apt-get source --download-only lua5.4` (needs a deb-src entry).
@Suite(.serialized) struct LuaBuildUnderRunTests {
    static var slowTestsEnabled: Bool {
        ProcessInfo.processInfo.environment["VFSKIT_SLOW_TESTS"] == "1"
    }

    /// Unpacks, builds, copies the interpreter out to `$2` (a VFS file cannot be executed),
    /// prints make's output with the build directory replaced by ROOT.
    static let buildScript = """
        set -e
        cd "$1"
        tar -xzf "$3"
        mkdir tmp
        cd lua-5.4.4
        TMPDIR="$1/tmp" make >make.log 2>&1 || { cat make.log; exit 1; }
        sed "s|$1|ROOT|g" make.log
        cp src/lua "$2"
        """

    @Test(.enabled(if: slowTestsEnabled, "set VFSKIT_SLOW_TESTS=1 to build Lua under vfs run"))
    func luaBuiltInATmpfsMountPrintsWhatTheNativeBuildPrints() throws {
        let tarball = try Self.luaTarball()
        let output = try SandboxRunner.scratchDirectory()
        defer { SandboxRunner.cleanup(output) }
        let work = try SandboxRunner.scratchDirectory()
        defer { SandboxRunner.cleanup(work) }

        let native = try SandboxRunner.execute(
            ["/bin/sh", "-c", Self.buildScript, "sh", work, output + "/lua-native", tarball])
        #expect(native.status == 0, "\(native)")
        guard let vfs = SandboxRunner.vfsBinary else {
            throw RunnerError("the vfs executable is not built")
        }
        let sandboxed = try SandboxRunner.execute([
            vfs, "run", "--mount", "tmpfs:/sandbox:mode=0755", "--",
            "/bin/sh", "-c", Self.buildScript, "sh", "/sandbox", output + "/lua-sandboxed", tarball,
        ])
        #expect(sandboxed.status == 0, "\(sandboxed)")
        #expect(sandboxed.output == native.output)

        for script in ["print(1+1)", "print(string.format('%.6f', math.pi), #('x'):rep(1000))"] {
            let expected = try SandboxRunner.execute([output + "/lua-native", "-e", script])
            let built = try SandboxRunner.execute([output + "/lua-sandboxed", "-e", script])
            #expect(expected.status == 0, "\(expected)")
            #expect(built == expected)
        }
        let two = try SandboxRunner.execute([output + "/lua-sandboxed", "-e", "print(1+1)"])
        #expect(two.output == "2\n")
    }

    static func luaTarball() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["VFSKIT_LUA_TARBALL"] { return explicit }
        let shipped = "/work/lua-src/lua5.4_5.4.4.orig.tar.gz"
        if FileManager.default.isReadableFile(atPath: shipped) { return shipped }
        let download = NSTemporaryDirectory() + "vfskit-lua-src"
        let candidate = download + "/lua5.4_5.4.4.orig.tar.gz"
        if FileManager.default.isReadableFile(atPath: candidate) { return candidate }
        try FileManager.default.createDirectory(atPath: download, withIntermediateDirectories: true)
        let fetched = try SandboxRunner.execute(
            ["/bin/sh", "-c", "cd \"$1\" && apt-get source --download-only lua5.4", "sh", download])
        guard fetched.status == 0, FileManager.default.isReadableFile(atPath: candidate) else {
            throw RunnerError("cannot fetch lua5.4's source (apt-get source): \(fetched)")
        }
        return candidate
    }
}

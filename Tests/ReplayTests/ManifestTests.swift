import Replay
import Testing

@Suite struct ManifestTests {
    @Test func danglingSymlinkReachedInTheTraceGetsItsTarget() throws {
        // As /etc/localtime in py_imports: the manifest lists the link, not what it points to.
        let manifest = Manifest(cwd: "/", entries: [
            .init(path: "/etc", type: "dir", mode: 0o755, size: 4096),
            .init(path: "/etc/localtime", type: "symlink", mode: 0o777, size: 27, target: "/usr/share/zoneinfo/Etc/UTC"),
        ])
        let records = StraceParser.parse("""
            1 openat(AT_FDCWD, "/etc/localtime", O_RDONLY|O_CLOEXEC) = 3
            1 newfstatat(3, "", {st_mode=S_IFREG|0644, st_size=114, ...}, AT_EMPTY_PATH) = 0
            """)
        let completion = manifest.completed(with: records)
        #expect(completion.inferred == ["/usr/share/zoneinfo/Etc/UTC"])
        let added = completion.manifest.entries.first { $0.path == "/usr/share/zoneinfo/Etc/UTC" }
        #expect(added?.size == 114)
        #expect(added?.type == "file")
        let report = try Replayer(target: TaskTarget.tmpfs()).run(records, manifest: manifest)
        #expect(report.diverged == 0)
        #expect(report.matched == 2)
    }

    @Test func symlinkThatStaysDanglingIsNotFilled() {
        let manifest = Manifest(cwd: "/", entries: [
            .init(path: "/l", type: "symlink", mode: 0o777, size: 7, target: "/nowhere"),
        ])
        let records = StraceParser.parse(#"1 openat(AT_FDCWD, "/l", O_RDONLY) = -1 ENOENT (No such file or directory)"#)
        #expect(manifest.completed(with: records).inferred.isEmpty)
    }

    @Test func sizeChangeOutsideTheTraceIsReplayed() throws {
        // As /etc/ld.so.cache in lua_build: rewritten by a process outside the trace.
        let manifest = Manifest(cwd: "/", entries: [.init(path: "/c", type: "file", mode: 0o644, size: 10)])
        let records = StraceParser.parse("""
            1 openat(AT_FDCWD, "/c", O_RDONLY) = 3
            1 newfstatat(3, "", {st_mode=S_IFREG|0644, st_size=10, ...}, AT_EMPTY_PATH) = 0
            1 close(3) = 0
            2 openat(AT_FDCWD, "/c", O_RDONLY) = 3
            2 newfstatat(3, "", {st_mode=S_IFREG|0644, st_size=12, ...}, AT_EMPTY_PATH) = 0
            """)
        let changes = manifest.externalChanges(in: records)
        #expect(changes.map(\.line) == [5])
        #expect(changes.first?.size == 12)
        let report = try Replayer(target: TaskTarget.tmpfs()).run(records, manifest: manifest)
        #expect(report.diverged == 0)
    }

    @Test func sizeChangeByTheTraceIsNotExternal() {
        let manifest = Manifest(cwd: "/", entries: [.init(path: "/c", type: "file", mode: 0o644, size: 10)])
        let records = StraceParser.parse("""
            1 openat(AT_FDCWD, "/c", O_WRONLY|O_APPEND) = 3
            1 write(3, "xx", 2) = 2
            1 newfstatat(3, "", {st_mode=S_IFREG|0644, st_size=12, ...}, AT_EMPTY_PATH) = 0
            """)
        #expect(manifest.externalChanges(in: records).isEmpty)
    }

    @Test func treeIsBuiltWithModesAndSymlinksThroughTheTarget() throws {
        let manifest = Manifest(cwd: "/src", entries: [
            .init(path: "/lib", type: "symlink", mode: 0o777, size: 7, target: "usr/lib"),
            .init(path: "/lib/x", type: "file", mode: 0o755, size: 5000),
            .init(path: "/usr/lib", type: "dir", mode: 0o755, size: 4096),
            .init(path: "/src", type: "dir", mode: 0o700, size: 4096),
        ])
        let records = StraceParser.parse("""
            1 newfstatat(AT_FDCWD, "/usr/lib/x", {st_mode=S_IFREG|0755, st_size=5000, ...}, 0) = 0
            1 newfstatat(AT_FDCWD, "/src", {st_mode=S_IFDIR|0700, st_size=4096, ...}, 0) = 0
            1 readlink("/lib", "usr/lib", 100) = 7
            1 getcwd("/src", 4096) = 5
            """)
        let report = try Replayer(target: TaskTarget.tmpfs()).run(records, manifest: manifest)
        #expect(report.diverged == 0)
        #expect(report.matched == 4)
    }
}

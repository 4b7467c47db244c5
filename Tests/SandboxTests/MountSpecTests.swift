import Sandbox
import Testing

@Suite struct MountSpecTests {
    @Test func tmpfsSpecParsesPathAndOptions() throws {
        let spec = try MountSpec(parsing: "tmpfs:/sandbox//data/:size=1m")
        #expect(spec.target == "/sandbox/data")
        #expect(spec.kind == .tmpfs(options: "size=1m"))
    }

    @Test func hostSpecParsesSourceAndReadOnly() throws {
        let spec = try MountSpec(parsing: "host:/data=/srv/data:ro")
        #expect(spec.target == "/data")
        #expect(spec.kind == .host(source: "/srv/data", readOnly: true))
    }

    @Test func goferSpecDefaultsToExclusive() throws {
        #expect(try MountSpec(parsing: "gofer:/src=/srv/src").kind
            == .gofer(source: "/srv/src", caching: .exclusive))
        #expect(try MountSpec(parsing: "gofer:/src=/srv/src:shared").kind
            == .gofer(source: "/srv/src", caching: .shared))
    }

    @Test func goferSpecTakesReadOnlyWithOrWithoutAMode() throws {
        #expect(try MountSpec(parsing: "gofer:/src=/srv/src:ro").kind
            == .gofer(source: "/srv/src", caching: .exclusive, readOnly: true))
        #expect(try MountSpec(parsing: "gofer:/src=/srv/src:shared:ro").kind
            == .gofer(source: "/srv/src", caching: .shared, readOnly: true))
        #expect(try MountSpec(parsing: "gofer:/src=/srv/src:ro:writethrough").kind
            == .gofer(source: "/srv/src", caching: .writethrough, readOnly: true))
        #expect(try MountSpec(parsing: "gofer:/src=/srv/src:shared:ro").description
            == "gofer:/src=/srv/src:shared:ro")
    }

    @Test func goferSpecRefusesRepeatedOrUnknownFlags() {
        for text in [
            "gofer:/s=/srv:shared:exclusive", "gofer:/s=/srv:ro:ro", "gofer:/s=/srv:ro:rw",
            "gofer:/s=/srv:shared:ro:x", "host:/s=/srv:ro:ro",
        ] {
            #expect(throws: MountSpecError.self) { try MountSpec(parsing: text) }
        }
    }

    @Test func badSpecsAreRefused() {
        for text in [
            "sandbox", "nfs:/x", "tmpfs:relative", "tmpfs:/", "tmpfs:/a/../b", "host:/data",
            "host:/data=relative", "host:/data=/srv:rx", "gofer:/s=/srv:sometimes",
        ] {
            #expect(throws: MountSpecError.self) { try MountSpec(parsing: text) }
        }
    }

    @Test func sameMountPointTwiceIsRefused() throws {
        let specs = [try MountSpec(parsing: "tmpfs:/a"), try MountSpec(parsing: "tmpfs:/a/")]
        #expect(throws: MountSpecError.self) { try MountSpec.validate(specs) }
    }
}

@Suite struct PathRouterTests {
    let router = PathRouter(mountPoints: ["/sandbox", "/srv/data"])

    func route(_ path: String) -> String? {
        router.route(absolute: Array(path.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func pathsUnderAMountGoToTheVFS() {
        #expect(route("/sandbox") == "/sandbox")
        #expect(route("/sandbox/") == "/sandbox/")
        #expect(route("/sandbox/a/b") == "/sandbox/a/b")
        #expect(route("//sandbox//a") == "/sandbox//a")
        #expect(route("/srv/./data/x") == "/srv/data/x")
    }

    @Test func pathsOutsideEveryMountStayOnTheHost() {
        #expect(route("/") == nil)
        #expect(route("/sandboxes/x") == nil)
        #expect(route("/srv") == nil)
        #expect(route("/etc/passwd") == nil)
    }

    @Test func dotDotBeforeTheMountIsLexical() {
        #expect(route("/tmp/../sandbox/f") == "/sandbox/f")
        #expect(route("/../../sandbox") == "/sandbox")
    }

    @Test func restAfterTheMountPointIsKeptAsWritten() {
        #expect(route("/sandbox/a/../b/") == "/sandbox/a/../b/")
    }

    @Test func relativePathsJoinTheirBase() {
        let routed = router.route(relative: Array("sandbox/x".utf8), base: Array("/".utf8))
        #expect(routed.map { String(decoding: $0, as: UTF8.self) } == "/sandbox/x")
        #expect(router.route(relative: Array("x".utf8), base: Array("/home".utf8)) == nil)
    }

    @Test func onlyPathsThatCanReachAMountNeedTheirBase() {
        #expect(router.mayReach(relative: Array("sandbox/x".utf8)))
        #expect(router.mayReach(relative: Array("./data".utf8)))
        #expect(router.mayReach(relative: Array("../x".utf8)))
        #expect(!router.mayReach(relative: Array("file.txt".utf8)))
        #expect(!router.mayReach(relative: Array("a/b/c".utf8)))
    }
}

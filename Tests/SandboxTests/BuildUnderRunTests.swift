import Foundation
import Testing

/// `make` of a small C project living in the VFS (a tmpfs mount, then a gofer mount): cc, as
/// and ld read and write only VFS files; the result cannot be run from the VFS (EACCES) —
/// here the build output and the files are compared with a native build.
@Suite(.serialized) struct BuildUnderRunTests {
    static let script = """
            cd "$1" && mkdir -p w/proj && cd w/proj
            printf '#include <stdio.h>\\n#include "util.h"\\nint main(void) { printf("%%d\\\\n", twice(21)); return 0; }\\n' > main.c
            printf '#include "util.h"\\nint twice(int x) { return 2 * x; }\\n' > util.c
            echo 'int twice(int x);' > util.h
            printf 'prog: main.o util.o\\n\\tcc -o prog main.o util.o\\nmain.o: main.c util.h\\n\\tcc -c main.c\\nutil.o: util.c util.h\\n\\tcc -c util.c\\n' > Makefile
            make 2>&1 && ls && make 2>&1 && sleep 1 && touch util.h && make 2>&1
            test -x prog && echo executable
            """

    @Test func makeBuildsASmallCProject() throws {
        let (native, sandboxed) = try SandboxRunner.compareShell(Self.script)
        #expect(native.status == 0, "\(native)")
        #expect(sandboxed == native)
    }

    @Test func makeBuildsASmallCProjectOnAGoferMount() throws {
        let result = try SandboxRunner.compareShellOnGofer(Self.script)
        SandboxRunner.cleanup(result.hostDirectory)
        #expect(result.native.status == 0, "\(result.native)")
        #expect(result.sandboxed == result.native)
    }
}

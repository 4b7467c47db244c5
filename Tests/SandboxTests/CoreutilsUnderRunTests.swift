import Foundation
import Testing

/// Real programs from the machine under `vfs run`, each script twice — on a tmpfs mount
/// (`tmpfs:/sandbox`) and on a gofer mount (`gofer:/srv=DIR`, a separate confined gofer
/// serving a /dev/shm directory) — its output compared with the same script run natively in
/// a directory on /dev/shm (a real tmpfs).
/// Scripts work in a subdirectory `w` they create, since the mount root itself differs
/// (a tmpfs root is 1777; the native scratch directory is 0755). `ls` prints no times
/// (--time-style=+): the two runs may straddle a minute. The mount root gets the scratch
/// directory's mode (mode=0755).
@Suite(.serialized) struct CoreutilsUnderRunTests {
    func expectSame(_ script: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (native, sandboxed) = try SandboxRunner.compareShell(script)
        #expect(native.status == 0, "native run failed: \(native)", sourceLocation: sourceLocation)
        #expect(sandboxed == native, "on tmpfs", sourceLocation: sourceLocation)
        let onGofer = try SandboxRunner.compareShellOnGofer(script)
        SandboxRunner.cleanup(onGofer.hostDirectory)
        #expect(onGofer.sandboxed == onGofer.native, "on a gofer mount", sourceLocation: sourceLocation)
    }

    @Test func shellRedirectionsAndPipes() throws {
        try expectSame("""
            cd "$1" && mkdir w && cd w
            echo one > f; echo two >> f; printf 'c\\nb\\na\\n' | sort | tee g | wc -l
            cat f g | tr a-z A-Z > h; cat h
            exec 3> fd3; echo via-three >&3; exec 3>&-; cat fd3
            cat < f | sed s/one/uno/ 2>&1
            cat missing 2>&1; echo "status $?"
            { echo grouped; echo again; } > grp; cat grp
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

    @Test func moveFilesAndDirectories() throws {
        try expectSame("""
            cd "$1" && mkdir -p w/d/e && cd w && echo x > f
            mv f g && mv d d2 && mv g d2/e/ && ls -R && cat d2/e/g
            mv missing elsewhere 2>&1; echo "status $?"
            """)
    }

    @Test func removeRecursive() throws {
        try expectSame("""
            cd "$1" && mkdir -p w/a/b/c && cd w && touch a/1 a/b/2 a/b/c/3 keep
            rm -r a && ls -A && rmdir nope 2>&1; echo "status $?"
            """)
    }

    @Test func symbolicLinks() throws {
        try expectSame("""
            cd "$1" && mkdir w && cd w && echo target > t
            ln -s t l && ln -s missing dangling && ln -s . self && readlink l dangling
            cat l && cat dangling 2>&1; ls -l --time-style=+ l dangling self; cat self/self/t
            """)
    }

    @Test func statOfFiles() throws {
        try expectSame("""
            cd "$1" && mkdir w && cd w && printf abc > f && mkdir d && ln f hard && ln -s f s
            chmod 604 f
            stat -c '%n %s %F %a %h %U %G' f d hard s . && stat -L -c '%n %s %F' s
            stat nope 2>&1; echo "status $?"
            """)
    }

    @Test func findExpressions() throws {
        try expectSame("""
            cd "$1" && mkdir -p w/a/b w/c && cd w && touch a/x.c a/b/y.c c/z.h top.c
            find . | sort && find . -name '*.c' | sort && find . -type d | sort
            find . -empty -type d -o -name 'z*' | sort && find a -maxdepth 1 -type f
            """)
    }

    @Test func catOfManyFiles() throws {
        try expectSame("""
            cd "$1" && mkdir w && cd w
            for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do echo "file $i" > f$i; done
            cat f* | sort | md5sum && cat f7 f20
            """)
    }

    @Test func sortAFile() throws {
        try expectSame("""
            cd "$1" && mkdir w && cd w && printf 'pear\\napple\\nfig\\n10\\n9\\n' > in
            sort in > out && cat out && sort -n in && sort -r -o in in && cat in
            """)
    }

    @Test func chmodAndChown() throws {
        try expectSame("""
            cd "$1" && mkdir -p w/d && cd w && touch f d/g
            chmod 600 f && chmod -R go-rwx d && chown 1000:1000 f && chown -R 2000:3000 d
            stat -c '%n %a %u %g' f d d/g
            """)
    }

    @Test func tarCreateAndExtract() throws {
        try expectSame("""
            cd "$1" && mkdir -p w/src/sub && cd w && echo a > src/a && echo b > src/sub/b
            ln -s a src/l && tar cf t.tar src && mkdir out && tar xf t.tar -C out
            ls -laR --time-style=+ out && tar tf t.tar | sort && cat out/src/l
            """)
    }

    @Test func diskUsage() throws {
        try expectSame("""
            cd "$1" && mkdir -p w/d && cd w && head -c 10000 /dev/zero > d/big && echo x > small
            du -a . | sort -k2 && du -s --apparent-size -b .
            """)
    }

    @Test func python3WritesAndReadsFiles() throws {
        try expectSame("""
            cd "$1" && mkdir w && cd w && python3 -c '
            import os
            with open("data.txt", "w") as f:
                f.write("line1\\nline2\\n")
            with open("data.txt", "a") as f:
                f.write("line3\\n")
            print(open("data.txt").read(), end="")
            os.makedirs("x/y")
            os.rename("data.txt", "x/y/moved.txt")
            print(sorted(os.listdir("x/y")), os.stat("x/y/moved.txt").st_size)
            fd = os.open("x/y/moved.txt", os.O_RDONLY)
            os.lseek(fd, 6, 0)
            print(os.read(fd, 5))
            os.close(fd)
            print(os.getcwd().endswith("/w"))
            '
            """)
    }
}

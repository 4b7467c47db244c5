// A miniature Linux-compatibility test: the same syscalls, with the same arguments, once
// against the running kernel (in a scratch directory under /dev/shm, a real tmpfs) and once
// against VFSKit's syscall layer on its own tmpfs, and the results diffed line by line.
// Run it with `swift run compat-check`. The full version of this idea is the differential
// harness (Sources/DifferentialHarness, Tests/DifferentialTests).

#if canImport(Glibc)
    import Glibc
#endif
import Syscalls
import TmpfsBackend
import VFSCore

/// One step: a name, the kernel's call (relative to a directory fd) and the VFS's call.
struct Step {
    let name: String
    let kernel: (Int32) -> Int  // returns the syscall's result or -errno
    let vfs: (Task) -> Int
}

/// Runs a throwing VFS call and returns what the syscall would: the result, or -errno.
func result(_ body: () throws -> Int) -> Int {
    do { return try body() } catch let error as Errno { return -Int(error.rawValue) } catch {
        return -Int(Errno.ioError.rawValue)
    }
}

/// Runs a Glibc call and returns the result, or -errno.
func kernelResult(_ value: Int) -> Int { value >= 0 ? value : -Int(errno) }

let O_DIR = OpenOptions.directory
let steps: [Step] = [
    Step(name: "mkdir a", kernel: { kernelResult(Int(mkdirat($0, "a", 0o755))) },
         vfs: { task in result { try task.mkdirat(Linux.AT_FDCWD, "a", 0o755); return 0 } }),
    Step(name: "mkdir a (again)", kernel: { kernelResult(Int(mkdirat($0, "a", 0o755))) },
         vfs: { task in result { try task.mkdirat(Linux.AT_FDCWD, "a", 0o755); return 0 } }),
    Step(name: "mkdir a/b/c (no b)", kernel: { kernelResult(Int(mkdirat($0, "a/b/c", 0o755))) },
         vfs: { task in result { try task.mkdirat(Linux.AT_FDCWD, "a/b/c", 0o755); return 0 } }),
    Step(name: "create a/f", kernel: {
            let fd = openat($0, "a/f", O_CREAT | O_WRONLY, 0o644)
            if fd >= 0 { close(fd) }
            return kernelResult(fd >= 0 ? 0 : -1)
         },
         vfs: { task in result {
            let fd = try task.openat(Linux.AT_FDCWD, "a/f", OpenOptions.create | OpenOptions.writeOnly, 0o644)
            try task.close(fd)
            return 0
         } }),
    Step(name: "open a/f/ (trailing slash)", kernel: {
            let fd = openat($0, "a/f/", O_RDONLY)
            if fd >= 0 { close(fd) }
            return kernelResult(fd >= 0 ? 0 : -1)
         },
         vfs: { task in result {
            let fd = try task.openat(Linux.AT_FDCWD, "a/f/", OpenOptions.readOnly)
            try task.close(fd)
            return 0
         } }),
    Step(name: "symlink l -> a/f", kernel: { kernelResult(Int(symlinkat("a/f", $0, "l"))) },
         vfs: { task in result { try task.symlinkat("a/f", Linux.AT_FDCWD, "l"); return 0 } }),
    Step(name: "open l with O_NOFOLLOW", kernel: {
            let fd = openat($0, "l", O_RDONLY | O_NOFOLLOW)
            if fd >= 0 { close(fd) }
            return kernelResult(fd >= 0 ? 0 : -1)
         },
         vfs: { task in result {
            let fd = try task.openat(Linux.AT_FDCWD, "l", OpenOptions.readOnly | OpenOptions.noFollow)
            try task.close(fd)
            return 0
         } }),
    Step(name: "rename a into a/sub", kernel: {
            _ = mkdirat($0, "a/sub", 0o755)
            return kernelResult(Int(renameat($0, "a", $0, "a/sub/a")))
         },
         vfs: { task in result {
            try? task.mkdirat(Linux.AT_FDCWD, "a/sub", 0o755)
            try task.renameat(Linux.AT_FDCWD, "a", Linux.AT_FDCWD, "a/sub/a")
            return 0
         } }),
    Step(name: "rmdir a (not empty)", kernel: { kernelResult(Int(unlinkat($0, "a", AT_REMOVEDIR))) },
         vfs: { task in result { try task.unlinkat(Linux.AT_FDCWD, "a", Linux.AT_REMOVEDIR); return 0 } }),
    Step(name: "unlink a (a directory)", kernel: { kernelResult(Int(unlinkat($0, "a", 0))) },
         vfs: { task in result { try task.unlinkat(Linux.AT_FDCWD, "a", 0); return 0 } }),
    Step(name: "link a/f a/g, then stat nlink", kernel: {
            _ = linkat($0, "a/f", $0, "a/g", 0)
            var st = stat()
            return kernelResult(fstatat($0, "a/f", &st, 0) == 0 ? Int(st.st_nlink) : -1)
         },
         vfs: { task in result {
            try task.linkat(Linux.AT_FDCWD, "a/f", Linux.AT_FDCWD, "a/g", 0)
            return Int(try task.newfstatat(Linux.AT_FDCWD, "a/f", 0).nlink)
         } }),
]

// The kernel side: a fresh scratch directory on the real tmpfs.
var template = Array("/dev/shm/compat-check-XXXXXX".utf8CString)
guard let scratchPointer = template.withUnsafeMutableBufferPointer({ $0.baseAddress.flatMap { mkdtemp($0) } })
else {
    print("cannot create a scratch directory under /dev/shm")
    exit(1)
}
let scratch = String(cString: scratchPointer)
let directory = open(scratch, O_RDONLY | O_DIRECTORY)

// The VFS side: a fresh tmpfs as the root of a task whose cwd is that root.
let kernel = Kernel()
let tmpfs = TmpfsFilesystem()
let task = Task(kernel: kernel, namespace: kernel.vfs.makeNamespace(root: tmpfs, rootDentry: tmpfs.root), umask: 0)
let previousUmask = umask(0)

func describe(_ value: Int) -> String {
    value >= 0 ? "\(value)" : "error \(-value) (\(Errno(rawValue: Int32(-value))))"
}

var differences = 0
for step in steps {
    let fromKernel = step.kernel(directory)
    let fromVFS = step.vfs(task)
    let same = fromKernel == fromVFS
    if !same { differences += 1 }
    let padded = step.name + String(repeating: " ", count: max(0, 34 - step.name.count))
    print("\(same ? "same" : "DIFF")  \(padded) kernel: \(describe(fromKernel))   vfs: \(describe(fromVFS))")
}
umask(previousUmask)
close(directory)
_ = system("rm -rf '\(scratch)'")
print(differences == 0 ? "\nall \(steps.count) steps behave as Linux does" : "\n\(differences) step(s) differ")
exit(differences == 0 ? 0 : 1)

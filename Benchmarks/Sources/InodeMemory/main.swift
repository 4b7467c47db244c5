// Bytes per inode in VFSKit's tmpfs: creates 1,000,000 empty regular files (1,000 directories
// of 1,000, through `Syscalls.Task.mknodat`) and reports the growth of the malloc heap in use
// (the program break, sbrk(0)) and of the resident set (/proc/self/statm), divided by
// the number of files. Usage: swift run -c release inode-memory [count]
import Foundation
import Glibc
import Syscalls
import TmpfsBackend
import VFSCore

func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
}

/// The main arena's break (glibc's heap for the main thread's small allocations; mallinfo is
/// not visible to Swift's Glibc module).
func heapInUse() -> Int {
    Int(bitPattern: sbrk(0))
}

let count = CommandLine.arguments.count > 1 ? (Int(CommandLine.arguments[1]) ?? 1_000_000) : 1_000_000
let perDirectory = 1_000
let kernel = Kernel()
let tmpfs = TmpfsFilesystem()
let task = Task(kernel: kernel, namespace: kernel.vfs.makeNamespace(root: tmpfs, rootDentry: tmpfs.root))
// Names are built before measuring so their strings are not counted.
let directories = (0..<(count + perDirectory - 1) / perDirectory).map { PathArgument("/d\($0)") }
let names = (0..<count).map { PathArgument("/d\($0 / perDirectory)/f\($0 % perDirectory)") }
let heapBefore = heapInUse(), residentBefore = residentBytes()
let start = Date()
do throws(Errno) {
    for directory in directories { try task.mkdirat(Linux.AT_FDCWD, directory, 0o755) }
    for name in names { try task.mknodat(Linux.AT_FDCWD, name, 0o100644, 0) }
} catch {
    print("failed: \(error)")
    exit(1)
}
let elapsed = Date().timeIntervalSince(start)
let heapAfter = heapInUse(), residentAfter = residentBytes()
let inodes = count + directories.count
print("files created:            \(count) (+ \(directories.count) directories) in \(String(format: "%.2f", elapsed)) s")
print("program break (heap):    \(heapBefore) -> \(heapAfter) bytes")
print("resident set:             \(residentBefore) -> \(residentAfter) bytes")
print("heap bytes per inode:     \(String(format: "%.1f", Double(heapAfter - heapBefore) / Double(inodes)))")
print("resident bytes per inode: \(String(format: "%.1f", Double(residentAfter - residentBefore) / Double(inodes)))")
withExtendedLifetime(task) {}

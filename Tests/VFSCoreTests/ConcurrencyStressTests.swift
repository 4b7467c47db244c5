import Dispatch
import Foundation
import Synchronization
import Testing
import TmpfsBackend
import VFSCore

/// Threads (real ones, so they run in parallel) hammer a small shared namespace on one tmpfs,
/// part of it also seen through a bind mount, with random creates, mkdirs, renames, links,
/// removals, stats, readdirs and I/O. Only errnos the operation can legitimately give are
/// allowed. Afterwards, from a quiescent state, the tree must be consistent: link counts,
/// readdir against lookup, no duplicate names, no leaked inodes. A failure names its seed;
/// rerun with VFS_STRESS_SEED=<seed in hex, as printed> to repeat the same operation streams
/// (the interleaving, and so the outcome, may still differ from run to run).
@Suite struct ConcurrencyStressTests {
    static let threadCount = 4
    static let operationsPerThread = 3000

    static var seeds: [UInt64] {
        if let text = ProcessInfo.processInfo.environment["VFS_STRESS_SEED"],
            let seed = UInt64(text, radix: 16) ?? UInt64(text)
        {
            return [seed]
        }
        return [0x5EED_0001, 0x5EED_0002, 0x5EED_0003]
    }

    @Test(arguments: seeds)
    func randomOperationsLeaveAConsistentTree(seed: UInt64) throws {
        let world = try StressWorld()
        let problems = Mutex<[String]>([])
        let group = DispatchGroup()
        for index in 0..<Self.threadCount {
            group.enter()
            let thread = Thread {
                var worker = StressWorker(
                    context: world.context,
                    random: SplitMix64(seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
                for _ in 0..<Self.operationsPerThread {
                    if let problem = worker.step() {
                        problems.withLock { if $0.count < 20 { $0.append("thread \(index): \(problem)") } }
                    }
                }
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        // The watchdog: a deadlock shows as workers that never finish.
        guard group.wait(timeout: .now() + 120) == .success else {
            Issue.record("seed 0x\(String(seed, radix: 16)): workers did not finish within 120 s (deadlock?)")
            return
        }
        for problem in problems.withLock({ $0 }) {
            Issue.record("seed 0x\(String(seed, radix: 16)): \(problem)")
        }
        for violation in try world.checkInvariants() {
            Issue.record("seed 0x\(String(seed, radix: 16)): \(violation)")
        }
    }
}

/// A tiny, seedable generator (SplitMix64), so a failing run can be repeated.
private struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One tmpfs: /t is the playground, /t/bound is also bind-mounted at /m.
private struct StressWorld {
    let vfs = VirtualFilesystem()
    let tmpfs = TmpfsFilesystem()
    let context: FSContext

    init() throws {
        let namespace = vfs.makeNamespace(root: tmpfs, rootDentry: tmpfs.root)
        context = FSContext(vfs: vfs, namespace: namespace)
        try context.makeDirectory("/t")
        try context.makeDirectory("/t/bound")
        try context.makeDirectory("/m")
        try context.bindMount("/t/bound", at: "/m")
    }

    private struct Listed {
        let name: String
        let type: FileType
        let inode: UInt64
    }

    private func list(_ path: String) throws(Errno) -> [Listed] {
        let directory = try context.open(path, flags: OpenOptions.readOnly | OpenOptions.directory)
        var entries: [Listed] = []
        try directory.readDirectory { entry in
            if !entry.name.isDot && !entry.name.isDotDot {
                entries.append(Listed(name: entry.name.description, type: entry.type, inode: entry.inode))
            }
            return true
        }
        return entries
    }

    /// Walks the whole tree from `/` (the bind mount's contents once, through /t/bound) and
    /// returns every broken invariant.
    func checkInvariants() throws -> [String] {
        var violations: [String] = []
        var namesPerInode: [UInt64: Int] = [:]
        var linkCounts: [UInt64: (path: String, nlink: UInt32)] = [:]
        var pending = ["/"]
        var directoriesSeen = 0
        let root = try context.stat("/")
        namesPerInode[root.inode] = 1
        while let directory = pending.popLast() {
            directoriesSeen += 1
            let entries = try list(directory)
            let names = entries.map(\.name)
            if Set(names).count != names.count {
                violations.append("\(directory): readdir lists a name twice: \(names.sorted())")
            }
            let stat = try context.stat(directory, followSymlink: false)
            let subdirectories = entries.filter { $0.type == .directory }.count
            if stat.nlink != UInt32(2 + subdirectories) {
                violations.append("\(directory): nlink \(stat.nlink), but \(subdirectories) subdirectories")
            }
            // Vice versa: every name the workers use resolves exactly when readdir lists it.
            for name in StressWorker.names + ["t", "bound", "m"] {
                let path = (directory == "/" ? "" : directory) + "/" + name
                let found = (try? context.stat(path, followSymlink: false)) != nil
                if found != names.contains(name) {
                    violations.append("\(path): lstat \(found ? "finds" : "misses") a name readdir \(found ? "omits" : "lists")")
                }
            }
            for entry in entries {
                let path = (directory == "/" ? "" : directory) + "/" + entry.name
                namesPerInode[entry.inode, default: 0] += 1
                if path == "/m" { continue }  // the mount point; its contents are /t/bound's
                let info: FileStat
                do throws(Errno) {
                    info = try context.stat(path, followSymlink: false)
                } catch {
                    violations.append("\(path): listed but lstat gives \(error)")
                    continue
                }
                if info.inode != entry.inode || info.mode.type != entry.type {
                    violations.append("\(path): readdir says \(entry.type) #\(entry.inode), lstat \(String(describing: info.mode.type)) #\(info.inode)")
                }
                if entry.type == .directory {
                    pending.append(path)
                } else {
                    linkCounts[entry.inode] = (path, info.nlink)
                }
            }
        }
        for (inode, (path, nlink)) in linkCounts where nlink != UInt32(namesPerInode[inode] ?? 0) {
            violations.append("\(path): nlink \(nlink), but \(namesPerInode[inode] ?? 0) names for inode \(inode)")
        }
        if try list("/m").map(\.name).sorted() != list("/t/bound").map(\.name).sorted() {
            violations.append("/m and /t/bound list different names")
        }
        // Linux's tmpfs charges every extra hard link against nr_inodes (Linux 6.18: f_ffree
        // drops by one per link(2) and comes back on unlink), so in use = inodes + extra names.
        let extraLinks = linkCounts.keys.reduce(0) { $0 + (namesPerInode[$1] ?? 1) - 1 }
        if tmpfs.inodesInUse != namesPerInode.count + extraLinks {
            violations.append(
                "tmpfs counts \(tmpfs.inodesInUse) inodes in use; \(namesPerInode.count) are reachable with \(extraLinks) extra links")
        }
        return violations
    }
}

/// One thread's random operations. `step` returns a description of anything not allowed.
private struct StressWorker {
    static let names = ["a", "b", "c", "d"]
    static let bases = ["/t", "/t", "/t", "/t/bound", "/t/bound", "/m"]
    static let symlinkTargets = ["a", "b/c", "..", "../a", ".", "d/../a"]

    let context: FSContext
    var random: SplitMix64
    var buffer = [UInt8](repeating: 0, count: 512)

    private mutating func pick<T>(_ items: [T]) -> T {
        items[Int.random(in: 0..<items.count, using: &random)]
    }

    /// Mostly short paths under /t, so that operations often succeed; /m (the bind mount of
    /// /t/bound) often enough that renames and links meet EXDEV and walks cross the mount.
    private mutating func path() -> String {
        var path = pick(Self.bases)
        let depth = pick([1, 1, 2, 2, 3])
        for level in 0..<depth {
            let dotDot = level < depth - 1 && Int.random(in: 0..<10, using: &random) == 0
            path += "/" + (dotDot ? ".." : pick(Self.names))
        }
        return path
    }

    /// Another name in the same directory as `path`: renames within a directory and links
    /// next to their source succeed more often than between two random paths.
    private mutating func sibling(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return path[..<slash] + "/" + pick(Self.names)
    }

    private static let pathErrors: Set<Errno> = [.noSuchFileOrDirectory, .notDirectory, .tooManySymbolicLinkLevels]

    mutating func step() -> String? {
        let operation = Int.random(in: 0..<11, using: &random)
        let first = path()
        let second = Bool.random(using: &random) ? sibling(of: first) : path()
        var allowed = Self.pathErrors
        var label = ""
        do throws(Errno) {
            switch operation {
            case 0:
                label = "create \(first)"
                allowed.formUnion([.isDirectory, .fileExists])
                let exclusive = Bool.random(using: &random) ? OpenOptions.exclusive : 0
                _ = try context.open(
                    first, flags: OpenOptions.create | OpenOptions.writeOnly | exclusive, mode: 0o644)
            case 1:
                label = "mkdir \(first)"
                allowed.insert(.fileExists)
                try context.makeDirectory(first)
            case 2, 3:
                let flags: RenameFlags = pick([[], [], [], [.noReplace], [.exchange]])
                label = "rename \(first) \(second) \(flags.rawValue)"
                allowed.formUnion([
                    .isDirectory, .fileExists, .directoryNotEmpty, .improperLink, .invalidArgument,
                ])
                try context.rename(first, to: second, flags: flags)
            case 4:
                label = "unlink \(first)"
                allowed.insert(.isDirectory)
                try context.unlink(first)
            case 5:
                label = "rmdir \(first)"
                allowed.insert(.directoryNotEmpty)
                try context.removeDirectory(first)
            case 6:
                label = "link \(first) \(second)"
                allowed.formUnion([.fileExists, .improperLink, .notPermitted])
                try context.makeLink(existing: first, new: second)
            case 7:
                let target = pick(Self.symlinkTargets)
                label = "symlink \(target) \(first)"
                allowed.insert(.fileExists)
                try context.makeSymlink(target: target, at: first)
            case 8:
                label = "stat \(first)"
                _ = try context.stat(first, followSymlink: Bool.random(using: &random))
            case 9:
                label = "readdir \(first)"
                let directory = try context.open(first, flags: OpenOptions.readOnly | OpenOptions.directory)
                var count = 0
                try directory.readDirectory { _ in
                    count += 1
                    return true
                }
            default:
                label = "read/write \(first)"
                allowed.insert(.isDirectory)
                try readAndWrite(first)
            }
        } catch {
            return allowed.contains(error) ? nil : "\(label): unexpected \(error)"
        }
        return nil
    }

    private mutating func readAndWrite(_ path: String) throws(Errno) {
        let file = try context.open(path, flags: OpenOptions.readWrite)
        let offset = Int64.random(in: 0..<8192, using: &random)
        let count = Int.random(in: 1...buffer.count, using: &random)
        let written = try buffer.withUnsafeBytes { bytes in
            Result { () throws(Errno) -> Int in
                try file.write(
                    from: UnsafeRawBufferPointer(rebasing: bytes[..<count]), at: offset,
                    credentials: .root)
            }
        }.get()
        if written != count { throw .ioError }
        let readOffset = Int64.random(in: 0..<8192, using: &random)
        _ = try buffer.withUnsafeMutableBytes { bytes in
            Result { () throws(Errno) -> Int in try file.read(into: bytes, at: readOffset) }
        }.get()
        if Bool.random(using: &random) { try context.truncate(path, size: Int64.random(in: 0..<8192, using: &random)) }
    }
}

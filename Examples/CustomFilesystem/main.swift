// How a backend plugs into VFSKit: a complete, read-only `FilesystemImpl` whose tree comes
// from a Swift dictionary. It is mounted inside a tmpfs-less namespace, walked, listed and read
// through the same VFS calls every file system gets; every write is EROFS.
// Run it with `swift run custom-filesystem`.

import VFSCore

/// A file system generated from `["path/to/file": "contents"]`. Directories are implied by
/// the paths. Everything is owned by root, directories 0555, files 0444.
final class DictionaryFilesystem: FilesystemImpl, @unchecked Sendable {
    let typeName = "dictfs"

    /// One node of the tree. A `Dentry` subclass, as every backend's is: the VFS keeps
    /// `Dentry` references, and we downcast them back to ours.
    final class Node: Dentry, @unchecked Sendable {
        let inode: UInt64
        let contents: [UInt8]
        var children: [Name: Node] = [:]
        weak var parent: Node?
        let name: Name

        init(type: FileType, inode: UInt64, name: Name, contents: [UInt8] = []) {
            self.inode = inode
            self.name = name
            self.contents = contents
            super.init(fileType: type)
        }
    }

    let root: Node
    private let created = RealtimeClock().now()

    init(files: [String: String]) throws(Errno) {
        var nextInode: UInt64 = 1
        root = Node(type: .directory, inode: nextInode, name: try Name("root"))
        for (path, text) in files.sorted(by: { $0.key < $1.key }) {
            var directory = root
            let components = path.split(separator: "/").map(String.init)
            for (index, component) in components.enumerated() {
                let name = try Name(component)
                let isLast = index == components.count - 1
                if let existing = directory.children[name] {
                    directory = existing
                    continue
                }
                nextInode += 1
                let node = Node(
                    type: isLast ? .regular : .directory, inode: nextInode, name: name,
                    contents: isLast ? Array(text.utf8) : [])
                node.parent = directory
                directory.children[name] = node
                directory = node
            }
        }
    }

    private func node(_ dentry: Dentry) throws(Errno) -> Node {
        guard let node = dentry as? Node else { throw .improperLink }
        return node
    }

    // MARK: Resolution — the one method that makes delegated resolution work

    /// Consumes every component this file system can, handing back to the core only at a
    /// mount point and at `..` out of the mount root (there are no symlinks here).
    func walk(_ rp: inout ResolvingPath) throws(Errno) -> WalkStop {
        var current = try node(rp.current)
        while !rp.isDone {
            guard current.isDirectory else { throw .notDirectory }
            try rp.checkSearchPermission(try ownership(current))
            if rp.stopsAtParent && rp.isFinalComponent { return .done }
            if rp.componentIsDot {
                rp.advance()
            } else if rp.componentIsDotDot {
                if rp.isAtRoot() {
                    try rp.dotDotAtRoot()
                } else if current === rp.mount.root {
                    return .mountRootParent
                } else {
                    current = current.parent ?? current
                    rp.advance(to: current)
                }
            } else {
                guard let child = current.children[try rp.componentName()] else {
                    throw .noSuchFileOrDirectory
                }
                rp.advance(to: child)
                if child.isMountPoint { return .mountPoint }
                current = child
            }
        }
        return .done
    }

    // MARK: Every change is refused, after the lookups Linux makes first

    private func refuseCreate(_ rp: ResolvingPath, _ name: Name) throws(Errno) {
        if try node(rp.current).children[name] != nil { throw .fileExists }
        throw .readOnlyFileSystem
    }
    func makeDirectory(_ rp: ResolvingPath, name: Name, mode: FileMode) throws(Errno) {
        try refuseCreate(rp, name)
    }
    func makeNode(_ rp: ResolvingPath, name: Name, mode: FileMode, device: UInt64) throws(Errno) {
        try refuseCreate(rp, name)
    }
    func makeSymlink(_ rp: ResolvingPath, name: Name, target: [UInt8]) throws(Errno) {
        try refuseCreate(rp, name)
    }
    func makeLink(_ rp: ResolvingPath, name: Name, existing: VirtualDentry) throws(Errno) {
        try refuseCreate(rp, name)
    }
    func unlink(_ rp: ResolvingPath, name: Name) throws(Errno) { throw .readOnlyFileSystem }
    func removeDirectory(_ rp: ResolvingPath, name: Name) throws(Errno) {
        throw .readOnlyFileSystem
    }
    func rename(
        from: ResolvingPath, name oldName: Name, to: ResolvingPath, name newName: Name,
        flags: RenameFlags
    ) throws(Errno) { throw .readOnlyFileSystem }
    func openOrCreate(_ rp: ResolvingPath, name: Name, options: OpenOptions, mode: FileMode)
        throws(Errno) -> CreateOutcome
    {
        if let existing = try node(rp.current).children[name] { return .existing(existing) }
        throw .readOnlyFileSystem
    }
    func makeTemporaryFile(_ rp: ResolvingPath, mode: FileMode, linkable: Bool) throws(Errno)
        -> Dentry
    { throw .readOnlyFileSystem }
    func setStat(_ dentry: Dentry, _ change: StatChange, credentials: Credentials) throws(Errno) {
        throw .readOnlyFileSystem
    }
    func setExtendedAttribute(
        _ dentry: Dentry, name: [UInt8], value: [UInt8], flags: Int32, credentials: Credentials
    ) throws(Errno) { throw .readOnlyFileSystem }
    func removeExtendedAttribute(_ dentry: Dentry, name: [UInt8], credentials: Credentials)
        throws(Errno)
    { throw .readOnlyFileSystem }

    // MARK: Reading

    func ownership(_ dentry: Dentry) throws(Errno) -> Ownership {
        let node = try node(dentry)
        return Ownership(
            mode: FileMode(node.fileType, permissions: node.isDirectory ? 0o555 : 0o444),
            uid: 0, gid: 0)
    }

    func stat(_ dentry: Dentry, mask: StatxMask) throws(Errno) -> FileStat {
        let node = try node(dentry)
        var stat = FileStat()
        stat.mode = try ownership(node).mode
        stat.inode = node.inode
        stat.nlink = node.isDirectory ? 2 + UInt32(node.children.values.filter(\.isDirectory).count) : 1
        stat.size = Int64(node.contents.count)
        stat.accessTime = created
        stat.modificationTime = created
        stat.changeTime = created
        return stat
    }

    func readSymlink(_ dentry: Dentry) throws(Errno) -> [UInt8] { throw .invalidArgument }
    func statFilesystem(_ dentry: Dentry) throws(Errno) -> FilesystemStat { FilesystemStat() }
    func parentAndName(of dentry: Dentry) -> (parent: Dentry, name: Name)? {
        guard let node = dentry as? Node, let parent = node.parent else { return nil }
        return (parent, node.name)
    }
    func getExtendedAttribute(_ dentry: Dentry, name: [UInt8], credentials: Credentials)
        throws(Errno) -> [UInt8]
    { throw .noData }
    func listExtendedAttributes(_ dentry: Dentry, credentials: Credentials) throws(Errno)
        -> [[UInt8]]
    { [] }

    func open(_ location: VirtualDentry, options: OpenOptions, credentials: Credentials)
        throws(Errno) -> any FileDescriptionImpl
    {
        let node = try node(location.dentry)
        return node.isDirectory ? DirectoryFile(node: node) : ContentsFile(contents: node.contents)
    }

    /// A file's bytes: positional reads; the VFS keeps the offset.
    final class ContentsFile: FileDescriptionImpl {
        let contents: [UInt8]
        init(contents: [UInt8]) { self.contents = contents }

        func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
            guard offset < contents.count else { return 0 }
            let slice = contents[Int(offset)..<min(contents.count, Int(offset) + buffer.count)]
            slice.withUnsafeBytes { buffer.copyMemory(from: $0) }
            return slice.count
        }
        func endOffset() throws(Errno) -> Int64 { Int64(contents.count) }
    }

    /// A directory listing: positions 0 and 1 are `.` and `..`, then the children sorted.
    final class DirectoryFile: FileDescriptionImpl {
        let node: Node
        init(node: Node) { self.node = node }

        func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
            throw .isDirectory
        }
        func readDirectory(from position: Int64, _ emit: (DirectoryEntry) -> Bool) throws(Errno)
            -> Int64
        {
            let children = node.children.values.sorted { $0.inode < $1.inode }
            var position = max(0, position)
            while position < Int64(children.count) + 2 {
                let entry: DirectoryEntry
                switch position {
                case 0:
                    entry = DirectoryEntry(name: try Name("."), type: .directory, inode: node.inode, nextOffset: 1)
                case 1:
                    entry = DirectoryEntry(
                        name: try Name(".."), type: .directory, inode: (node.parent ?? node).inode, nextOffset: 2)
                default:
                    let child = children[Int(position) - 2]
                    entry = DirectoryEntry(
                        name: child.name, type: child.fileType, inode: child.inode, nextOffset: position + 1)
                }
                guard emit(entry) else { return position }
                position += 1
            }
            return position
        }
    }
}

// MARK: - Using it

func show(_ title: String, _ body: () throws -> String) {
    do {
        print("\(title): \(try body())")
    } catch {
        print("\(title): error \(error)")
    }
}

do {
    let dictfs = try DictionaryFilesystem(files: [
        "README": "A file system made from a dictionary.\n",
        "docs/guide.txt": "Chapter 1: walking paths.\n",
        "docs/api/FilesystemImpl.txt": "walk, open, stat, and friends.\n",
    ])
    let vfs = VirtualFilesystem()
    let namespace = vfs.makeNamespace(root: dictfs, rootDentry: dictfs.root)
    let shell = FSContext(vfs: vfs, namespace: namespace)

    show("ls /") { try shell.listDirectory("/").joined(separator: " ") }
    show("ls /docs/api") { try shell.listDirectory("/docs/api").joined(separator: " ") }
    show("cat /docs/api/../guide.txt") {
        String(decoding: try shell.readFile("/docs/api/../guide.txt"), as: UTF8.self)
    }
    show("stat /docs") {
        let stat = try shell.stat("/docs")
        return "mode \(String(stat.mode.rawValue, radix: 8)), nlink \(stat.nlink), inode \(stat.inode)"
    }
    show("cd /docs/api; pwd") {
        try shell.changeDirectory("/docs/api")
        return try shell.currentDirectoryPath()
    }
    show("mkdir /docs (exists)") {
        try shell.makeDirectory("/docs")
        return "made"
    }
    show("mkdir /new (read-only file system)") {
        try shell.makeDirectory("/new")
        return "made"
    }
    show("cat /README/x (a file is not a directory)") {
        String(decoding: try shell.readFile("/README/x"), as: UTF8.self)
    }
}

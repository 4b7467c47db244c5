// A tour of VFSKit's core: build a tmpfs tree, mount a second file system inside it, walk
// across the mount both ways, and watch Linux's rules hold (read-only bind mounts, busy
// mounts, files that outlive their names). Run it with `swift run mount-tour`.

import TmpfsBackend
import VFSCore

/// Prints a step, runs it, and prints what Linux would print on failure.
func step(_ title: String, _ body: () throws -> String) {
    do {
        let result = try body()
        print("  \(title)\(result.isEmpty ? "" : ": \(result)")")
    } catch let error as Errno {
        print("  \(title): error \(error.rawValue) (\(error))")
    } catch {
        print("  \(title): \(error)")
    }
}

/// File contents as text, without the trailing newline.
func text(_ bytes: some Collection<UInt8>) -> String {
    var string = String(decoding: bytes, as: UTF8.self)
    if string.hasSuffix("\n") { string.removeLast() }
    return string
}

func describe(_ stat: FileStat) -> String {
    let kind = stat.mode.type.map { "\($0)" } ?? "?"
    return "\(kind), mode \(String(stat.mode.permissions, radix: 8)), nlink \(stat.nlink), "
        + "size \(stat.size), inode \(stat.inode), mount \(stat.mountID)"
}

let vfs = VirtualFilesystem()
let rootfs = TmpfsFilesystem()
let namespace = vfs.makeNamespace(root: rootfs, rootDentry: rootfs.root)
let shell = FSContext(vfs: vfs, namespace: namespace)

print("1. A tmpfs root with a small tree")
step("mkdir -p /srv/www /home") {
    try shell.makeDirectory("/srv")
    try shell.makeDirectory("/srv/www")
    try shell.makeDirectory("/home")
    return ""
}
step("echo hello > /srv/www/index.html") {
    try shell.writeFile("/srv/www/index.html", contents: Array("hello\n".utf8))
    return ""
}
step("ln -s www/index.html /srv/home-page") {
    try shell.makeSymlink(target: "www/index.html", at: "/srv/home-page")
    return ""
}
step("cat /srv/home-page (through the symlink)") {
    text(try shell.readFile("/srv/home-page"))
}

print("2. A second tmpfs (size=64k) mounted on /home")
let homefs = TmpfsFilesystem(options: TmpfsOptions(sizeLimit: 64 * 1024))
step("mount -t tmpfs -o size=64k none /home") {
    try shell.mount(homefs, root: homefs.root, at: "/home")
    return ""
}
step("mkdir /home/alice; echo notes > /home/alice/notes") {
    try shell.makeDirectory("/home/alice")
    try shell.writeFile("/home/alice/notes", contents: Array("notes\n".utf8))
    return ""
}
step("stat /home/alice/notes") { describe(try shell.stat("/home/alice/notes")) }
step("cd /home/alice; stat ../../srv/www/index.html (.. leaves the mount)") {
    try shell.changeDirectory("/home/alice")
    return describe(try shell.stat("../../srv/www/index.html"))
}
step("pwd") { try shell.currentDirectoryPath() }
step("mv /home/alice/notes /srv/ (across mounts)") {
    try shell.rename("/home/alice/notes", to: "/srv/notes")
    return "moved"
}
step("write 100 KiB into /home/alice/big (the mount holds 64 KiB)") {
    try shell.writeFile("/home/alice/big", contents: [UInt8](repeating: 7, count: 100 * 1024))
    return "written"
}

print("3. A read-only bind mount of /srv/www at /public")
step("mkdir /public; mount --bind -o ro /srv/www /public") {
    try shell.makeDirectory("/public")
    try shell.bindMount("/srv/www", at: "/public", readOnly: true)
    return ""
}
step("cat /public/index.html") {
    text(try shell.readFile("/public/index.html"))
}
step("touch /public/new") {
    _ = try shell.open("/public/new", flags: OpenOptions.writeOnly | OpenOptions.create)
    return "created"
}
step("touch /srv/www/new (same directory, writable mount)") {
    _ = try shell.open("/srv/www/new", flags: OpenOptions.writeOnly | OpenOptions.create)
    return "created"
}
step("ls /public") { try shell.listDirectory("/public").sorted().joined(separator: " ") }

print("4. Lifetimes")
step("umount /home while the cwd is inside it") {
    try shell.unmount("/home")
    return "unmounted"
}
step("cd /; umount /home") {
    try shell.changeDirectory("/")
    try shell.unmount("/home")
    return "unmounted"
}
step("ls /home (the covered directory is empty again)") {
    "[\(try shell.listDirectory("/home").joined(separator: " "))]"
}
step("echo draft > /srv/notes; open it, rm it, then read through the open file") {
    try shell.writeFile("/srv/notes", contents: Array("draft\n".utf8))
    let file = try shell.open("/srv/notes", flags: OpenOptions.readOnly)
    try shell.unlink("/srv/notes")
    var buffer = [UInt8](repeating: 0, count: 64)
    let count = buffer.withUnsafeMutableBytes { bytes in
        (try? file.read(into: bytes)) ?? -1
    }
    let nlink = (try? file.stat().nlink).map(String.init) ?? "?"
    return "read \(count) bytes \"\(text(buffer[0..<max(0, count)]))\", nlink now \(nlink)"
}
step("rmdir /srv (not empty)") {
    try shell.removeDirectory("/srv")
    return "removed"
}

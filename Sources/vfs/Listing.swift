#if canImport(Glibc)
    import Glibc
#endif
import VFSCore

/// How `ls -l` and `stat` print file attributes.
enum Listing {
    /// `drwxr-xr-x`, with s/S and t/T for the set-ID and sticky bits.
    static func modeString(_ mode: FileMode) -> String {
        let typeCharacter: Character =
            switch mode.type {
            case .directory: "d"
            case .symlink: "l"
            case .characterDevice: "c"
            case .blockDevice: "b"
            case .fifo: "p"
            case .socket: "s"
            default: "-"
            }
        let bits = mode.rawValue
        var text = [typeCharacter]
        let triples: [(UInt32, UInt32, Character, Character)] = [
            (6, FileMode.setUID, "s", "S"), (3, FileMode.setGID, "s", "S"),
            (0, FileMode.sticky, "t", "T"),
        ]
        for (shift, special, set, unset) in triples {
            text.append(bits >> (shift + 2) & 1 != 0 ? "r" : "-")
            text.append(bits >> (shift + 1) & 1 != 0 ? "w" : "-")
            let execute = bits >> shift & 1 != 0
            if bits & special != 0 {
                text.append(execute ? set : unset)
            } else {
                text.append(execute ? "x" : "-")
            }
        }
        return String(text)
    }

    static func major(_ device: UInt64) -> UInt64 { (device >> 8) & 0xfff }
    static func minor(_ device: UInt64) -> UInt64 { (device & 0xff) | ((device >> 12) & 0xfff00) }

    /// `Nov 27 01:30`, in UTC (the VFS's clock is CLOCK_REALTIME).
    static func date(_ time: Timespec) -> String {
        format(time, "%b %e %H:%M")
    }

    /// `2026-11-27 01:30:05.123456789 +0000`, as stat(1) prints times.
    static func fullDate(_ time: Timespec) -> String {
        let seconds = format(time, "%Y-%m-%d %H:%M:%S")
        let nanoseconds = String(time.nanoseconds)
        return seconds + "." + String(repeating: "0", count: max(0, 9 - nanoseconds.count))
            + nanoseconds + " +0000"
    }

    private static func format(_ time: Timespec, _ pattern: String) -> String {
        var seconds = time_t(time.seconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, pattern, &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func typeName(_ stat: FileStat) -> String {
        switch stat.mode.type {
        case .regular: stat.size == 0 ? "regular empty file" : "regular file"
        case .directory: "directory"
        case .symlink: "symbolic link"
        case .fifo: "fifo"
        case .socket: "socket"
        case .characterDevice: "character special file"
        case .blockDevice: "block special file"
        case nil: "weird file"
        }
    }

    /// stat(1)'s default output, with numeric owners (there is no user database in a VFS).
    static func statLines(_ path: String, _ stat: FileStat, readlink: () -> String?) -> [String] {
        var name = "'\(path)'"
        if stat.mode.isSymlink, let target = readlink() { name += " -> '\(target)'" }
        let permissions = String(stat.mode.permissions, radix: 8)
        return [
            "  File: \(name)",
            "  Size: \(stat.size)\tBlocks: \(stat.blocks)\tIO Block: \(stat.blockSize)\t\(typeName(stat))",
            "Device: \(major(stat.dev)),\(minor(stat.dev))\tInode: \(stat.inode)\tLinks: \(stat.nlink)",
            "Access: (\(String(repeating: "0", count: max(0, 4 - permissions.count)) + permissions)/\(modeString(stat.mode)))  Uid: (\(stat.uid))   Gid: (\(stat.gid))",
            "Access: \(fullDate(stat.accessTime))",
            "Modify: \(fullDate(stat.modificationTime))",
            "Change: \(fullDate(stat.changeTime))",
            " Birth: \(fullDate(stat.birthTime))",
        ]
    }
}

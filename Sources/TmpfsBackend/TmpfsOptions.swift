import VFSCore

/// tmpfs mount options: `size`, `nr_inodes`, `mode`, `uid`, `gid`, as tmpfs(5) describes.
public struct TmpfsOptions: Sendable, Hashable {
    /// The most bytes of file data (rounded up to pages); nil is unlimited (`size=0`).
    public var sizeLimit: Int64?
    /// The most inodes; nil is unlimited (`nr_inodes=0`).
    public var inodeLimit: Int?
    /// The root directory's permission bits (default 01777, as tmpfs).
    public var rootMode: UInt32 = 0o1777
    public var rootUID: UInt32 = 0
    public var rootGID: UInt32 = 0

    public init(
        sizeLimit: Int64? = nil, inodeLimit: Int? = nil, rootMode: UInt32 = 0o1777,
        rootUID: UInt32 = 0, rootGID: UInt32 = 0
    ) {
        self.sizeLimit = sizeLimit
        self.inodeLimit = inodeLimit
        self.rootMode = rootMode
        self.rootUID = rootUID
        self.rootGID = rootGID
    }

    /// Parses mount(2)'s data string, e.g. `size=64m,nr_inodes=1k,mode=0755,uid=1000`.
    /// Sizes take k, m, g, t suffixes (powers of 1024) and `size` also a percentage of memory.
    /// EINVAL for an unknown option or a malformed value, as tmpfs answers.
    public init(parsing data: String) throws(Errno) {
        self.init()
        for option in data.split(separator: ",") where !option.isEmpty {
            let parts = option.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw .invalidArgument }
            let value = String(parts[1])
            switch parts[0] {
            case "size":
                let bytes = try TmpfsOptions.parseSize(value, allowPercent: true)
                sizeLimit = bytes == 0 ? nil : bytes
            case "nr_inodes":
                let count = try TmpfsOptions.parseSize(value, allowPercent: false)
                guard count <= Int64(Int.max) else { throw .invalidArgument }
                inodeLimit = count == 0 ? nil : Int(count)
            case "mode":
                // Any 32-bit octal number, of which only the permission bits count (Linux 6.18:
                // mode=10000 mounts with a root of 040000; mode=999 is EINVAL).
                guard let mode = UInt32(value, radix: 8) else { throw .invalidArgument }
                rootMode = mode & 0o7777
            case "uid":
                // (uid_t)-1 is no user: EINVAL (Linux 6.18: uid=4294967295 is EINVAL).
                guard let uid = UInt32(value), uid != UInt32.max else { throw .invalidArgument }
                rootUID = uid
            case "gid":
                guard let gid = UInt32(value), gid != UInt32.max else { throw .invalidArgument }
                rootGID = gid
            default:
                throw .invalidArgument
            }
        }
    }

    static func parseSize(_ text: String, allowPercent: Bool) throws(Errno) -> Int64 {
        var digits = Substring(text)
        var multiplier: Int64 = 1
        if let last = digits.last, !last.isNumber {
            digits = digits.dropLast()
            switch last {
            case "k", "K": multiplier = 1 << 10
            case "m", "M": multiplier = 1 << 20
            case "g", "G": multiplier = 1 << 30
            case "t", "T": multiplier = 1 << 40
            case "%" where allowPercent:
                guard let percent = Int64(digits), percent > 0, percent <= 100 else {
                    throw .invalidArgument
                }
                return TmpfsOptions.physicalMemory / 100 * percent
            default: throw .invalidArgument
            }
        }
        guard let number = Int64(digits), number >= 0 else { throw .invalidArgument }
        let product = number.multipliedReportingOverflow(by: multiplier)
        guard !product.overflow else { throw .invalidArgument }
        return product.partialValue
    }

    static var physicalMemory: Int64 {
        let pages = Int64(sysconf(Int32(_SC_PHYS_PAGES)))
        let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))
        return max(0, pages) * max(0, pageSize)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

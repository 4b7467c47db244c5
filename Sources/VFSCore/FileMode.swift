/// A Linux `mode_t`: file type bits plus permission bits, kept as the raw number because the
/// ABI (stat, mknod, statx) speaks in it.
public struct FileMode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ type: FileType, permissions: UInt32) {
        self.rawValue = type.rawValue | (permissions & 0o7777)
    }

    public static let typeMask: UInt32 = 0o170000
    public static let setUID: UInt32 = 0o4000
    public static let setGID: UInt32 = 0o2000
    public static let sticky: UInt32 = 0o1000
    public static let groupExecute: UInt32 = 0o010

    public var type: FileType? { FileType(rawValue: rawValue & FileMode.typeMask) }
    /// The permission and set-id bits (07777).
    public var permissions: UInt32 {
        get { rawValue & 0o7777 }
        set { rawValue = (rawValue & FileMode.typeMask) | (newValue & 0o7777) }
    }
    public var isDirectory: Bool { type == .directory }
    public var isRegular: Bool { type == .regular }
    public var isSymlink: Bool { type == .symlink }

    public var description: String { String(rawValue, radix: 8) }
}

/// The file types of `S_IFMT`.
public enum FileType: UInt32, Sendable, CaseIterable {
    case fifo = 0o010000
    case characterDevice = 0o020000
    case directory = 0o040000
    case blockDevice = 0o060000
    case regular = 0o100000
    case symlink = 0o120000
    case socket = 0o140000

    /// The `d_type` value getdents64 reports (DT_*).
    public var directoryEntryType: UInt8 {
        UInt8(truncatingIfNeeded: rawValue >> 12)
    }
}

/// `struct timespec`: seconds and nanoseconds since the epoch.
public struct Timespec: Sendable, Hashable, Comparable {
    public var seconds: Int64
    public var nanoseconds: Int64

    public init(seconds: Int64, nanoseconds: Int64) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static let zero = Timespec(seconds: 0, nanoseconds: 0)

    public static func < (lhs: Timespec, rhs: Timespec) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }
}

/// The flags of open(2), as raw Linux x86-64 bits with named accessors.
public struct OpenOptions: Sendable, Hashable {
    public var flags: Int32
    public init(flags: Int32) { self.flags = flags }

    public static let readOnly: Int32 = 0
    public static let writeOnly: Int32 = 0o1
    public static let readWrite: Int32 = 0o2
    public static let accessModeMask: Int32 = 0o3
    public static let create: Int32 = 0o100
    public static let exclusive: Int32 = 0o200
    public static let noControllingTerminal: Int32 = 0o400
    public static let truncate: Int32 = 0o1000
    public static let append: Int32 = 0o2000
    public static let nonBlocking: Int32 = 0o4000
    public static let dataSync: Int32 = 0o10000
    public static let async: Int32 = 0o20000
    public static let direct: Int32 = 0o40000
    public static let largeFile: Int32 = 0o100000
    public static let directory: Int32 = 0o200000
    public static let noFollow: Int32 = 0o400000
    public static let noAccessTime: Int32 = 0o1000000
    public static let closeOnExec: Int32 = 0o2000000
    public static let sync: Int32 = 0o4010000
    public static let pathOnly: Int32 = 0o10000000
    /// O_TMPFILE includes O_DIRECTORY's bit, so that kernels without it fail safely.
    public static let temporaryFile: Int32 = 0o20200000

    /// The status flags F_SETFL may change.
    public static let settableStatusFlags: Int32 = append | nonBlocking | direct | noAccessTime | async

    func has(_ bit: Int32) -> Bool { flags & bit == bit }

    public var accessMode: Int32 { flags & OpenOptions.accessModeMask }
    public var isPathOnly: Bool { has(OpenOptions.pathOnly) }
    /// O_PATH descriptions can neither read nor write.
    public var isReadable: Bool {
        !isPathOnly && (accessMode == OpenOptions.readOnly || accessMode == OpenOptions.readWrite)
    }
    public var isWritable: Bool {
        !isPathOnly && (accessMode == OpenOptions.writeOnly || accessMode == OpenOptions.readWrite)
    }
    public var creates: Bool { has(OpenOptions.create) && !isTemporaryFile }
    public var isExclusive: Bool { has(OpenOptions.exclusive) }
    public var truncates: Bool { has(OpenOptions.truncate) }
    public var appends: Bool { has(OpenOptions.append) }
    public var requiresDirectory: Bool { has(OpenOptions.directory) }
    public var noFollow: Bool { has(OpenOptions.noFollow) }
    public var isTemporaryFile: Bool { has(OpenOptions.temporaryFile) }
    public var isNonBlocking: Bool { has(OpenOptions.nonBlocking) }

    /// What open needs permission for (`ACC_MODE` plus O_TRUNC's write).
    public var requiredAccess: AccessMask {
        var mask: AccessMask = []
        if isPathOnly { return mask }
        switch accessMode {
        case OpenOptions.readOnly: mask = .read
        case OpenOptions.writeOnly: mask = .write
        case OpenOptions.readWrite: mask = [.read, .write]
        default: mask = [.read, .write]  // 3: Linux asks for both and grants neither.
        }
        if truncates { mask.insert(.write) }
        return mask
    }
}

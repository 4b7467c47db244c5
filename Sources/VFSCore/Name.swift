/// One path component: 1 to 255 bytes, never `/` or NUL.
///
/// Linux names are bytes, not text, so a `Name` never goes through `String`: non-UTF-8 names
/// stay exact, and a component sliced out of a path buffer can be looked up in a directory
/// without copying it (the slice shares the path's storage). Call `owned()` before storing a
/// name that came from a path, so the directory does not keep the whole path alive.
public struct Name: Hashable, Sendable, CustomStringConvertible {
    /// Linux's NAME_MAX.
    public static let maxLength = 255

    public let bytes: ArraySlice<UInt8>

    /// Wraps bytes the caller has already validated: a path component cut at slashes, or a
    /// name a file system made itself. Anything that may come from outside goes through the
    /// throwing initializers.
    @inlinable
    public init(unchecked bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
    }

    /// A name from bytes, validated: ENOENT when empty, ENAMETOOLONG past 255 bytes,
    /// EINVAL when it holds `/` or NUL (which no path component can).
    public init(_ bytes: some Collection<UInt8>) throws(Errno) {
        let array = Array(bytes)
        guard !array.isEmpty else { throw .noSuchFileOrDirectory }
        guard array.count <= Name.maxLength else { throw .fileNameTooLong }
        guard !array.contains(0x2F), !array.contains(0) else { throw .invalidArgument }
        self.bytes = array[...]
    }

    public init(_ string: String) throws(Errno) {
        try self.init(Array(string.utf8))
    }

    /// ENAMETOOLONG past NAME_MAX. A name cut from a path is not checked when it is cut,
    /// because Linux reports an over-long component only when it looks it up.
    public func checkLength() throws(Errno) {
        guard bytes.count <= Name.maxLength else { throw .fileNameTooLong }
    }

    public var isDot: Bool { bytes.count == 1 && bytes.first == 0x2E }
    public var isDotDot: Bool {
        bytes.count == 2 && bytes.first == 0x2E && bytes.last == 0x2E
    }

    /// A copy with storage of its own, for keeping in a directory.
    public func owned() -> Name {
        Name(unchecked: ArraySlice(Array(bytes)))
    }

    public var description: String { String(decoding: bytes, as: UTF8.self) }

    public static func == (lhs: Name, rhs: Name) -> Bool {
        lhs.bytes.count == rhs.bytes.count && lhs.bytes.elementsEqual(rhs.bytes)
    }

    /// Hashes the bytes in one call rather than element by element: lookups hash every
    /// component of every path, so this is on the hot path.
    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

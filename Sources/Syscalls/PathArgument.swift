import VFSCore

/// A path as a syscall receives it: bytes, not text. A string literal works where a path is
/// expected (`task.mkdir("a/b/", 0o755)`); `PathArgument(bytes:)` takes any bytes. Unlike
/// `FilePath`, nothing is normalized: "dir/" keeps its trailing slash, which Linux gives meaning.
public struct PathArgument: ExpressibleByStringLiteral, Sendable, Hashable,
    CustomStringConvertible
{
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }
    public init(_ string: String) { self.bytes = Array(string.utf8) }
    public init(stringLiteral value: String) { self.init(value) }

    public var description: String { String(decoding: bytes, as: UTF8.self) }
}

import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A host file descriptor received over the socket (SCM_RIGHTS) that this object owns: it is
/// closed when the object is released unless ownership was moved out with `take()`. Receiving
/// code hands these out so that an FD nobody claims (an Error response, a decode failure, a
/// caller that ignores it) is never leaked.
///
/// Thread-safe: the descriptor is held in an atomic, so `take()` and `close()` race safely
/// (exactly one of them gets it).
public final class OwnedFileDescriptor: Sendable, CustomStringConvertible {
    private let raw: Atomic<Int32>

    /// Takes ownership of `descriptor`.
    public init(_ descriptor: FileDescriptor) {
        raw = Atomic(descriptor.rawValue)
    }

    /// The descriptor, still owned by this object (nil once taken or closed).
    public var descriptor: FileDescriptor? {
        let value = raw.load(ordering: .acquiring)
        return value >= 0 ? FileDescriptor(rawValue: value) : nil
    }

    /// Moves ownership to the caller, who must close it. Nil if already taken or closed.
    public func take() -> FileDescriptor? {
        let value = raw.exchange(-1, ordering: .acquiringAndReleasing)
        return value >= 0 ? FileDescriptor(rawValue: value) : nil
    }

    /// Closes the descriptor now (idempotent).
    public func close() {
        let value = raw.exchange(-1, ordering: .acquiringAndReleasing)
        if value >= 0 {
            _ = systemClose(value)
        }
    }

    deinit {
        close()
    }

    public var description: String {
        let value = raw.load(ordering: .relaxed)
        return value >= 0 ? "OwnedFileDescriptor(\(value))" : "OwnedFileDescriptor(closed)"
    }
}

/// close(2) without retrying on EINTR (on Linux the descriptor is released even then).
@inline(__always)
func systemClose(_ fd: Int32) -> Int32 {
    #if canImport(Glibc)
        return Glibc.close(fd)
    #elseif canImport(Musl)
        return Musl.close(fd)
    #else
        return Darwin.close(fd)
    #endif
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A reader-writer lock over `pthread_rwlock_t`, for state that many threads read at once and
/// few change (directory children, the mount table). `Synchronization.Mutex` has no shared mode.
///
/// The lock lives in its own heap allocation because a pthread lock must not move.
public final class ReadWriteLock: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    public init() {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deinitialize(count: 1)
        lock.deallocate()
    }

    @inlinable
    public func withReadLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lockShared()
        defer { unlock() }
        return try body()
    }

    @inlinable
    public func withWriteLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lockExclusive()
        defer { unlock() }
        return try body()
    }

    @usableFromInline func lockShared() { pthread_rwlock_rdlock(lock) }
    @usableFromInline func lockExclusive() { pthread_rwlock_wrlock(lock) }
    @usableFromInline func unlock() { pthread_rwlock_unlock(lock) }
}

/// A value guarded by a `ReadWriteLock`.
public final class ReadWriteProtected<Value>: @unchecked Sendable {
    @usableFromInline let lock = ReadWriteLock()
    @usableFromInline var value: Value

    public init(_ value: Value) { self.value = value }

    @inlinable
    public func read<T, E: Error>(_ body: (borrowing Value) throws(E) -> T) throws(E) -> T {
        try lock.withReadLock { () throws(E) -> T in try body(value) }
    }

    @inlinable
    public func write<T, E: Error>(_ body: (inout Value) throws(E) -> T) throws(E) -> T {
        try lock.withWriteLock { () throws(E) -> T in try body(&value) }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A mutex with a condition variable, for the few places that must block until another thread
/// acts (a pipe reader waiting for data, a FIFO open waiting for its other end).
/// `Synchronization.Mutex` cannot wait, so this wraps pthreads.
public final class ConditionLock<State>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var state: State

    public init(_ state: State) {
        self.state = state
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deinitialize(count: 1)
        condition.deallocate()
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with the state; `body` may call `wait()` on the handle to sleep until
    /// another thread calls `broadcast` (the lock is released while sleeping).
    public func withLock<T, E: Error>(_ body: (inout State, Waiter) throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state, Waiter(mutex: mutex, condition: condition))
    }

    public struct Waiter {
        let mutex: UnsafeMutablePointer<pthread_mutex_t>
        let condition: UnsafeMutablePointer<pthread_cond_t>

        /// Sleeps until woken. Callers re-check their predicate in a loop (spurious wake-ups).
        public func wait() { pthread_cond_wait(condition, mutex) }
        /// Wakes every waiter.
        public func broadcast() { pthread_cond_broadcast(condition) }
    }
}

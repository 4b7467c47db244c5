#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Where file timestamps come from. A protocol so tests can step time by hand and so a runtime
/// can supply the sandbox's own clock.
public protocol FileClock: Sendable {
    func now() -> Timespec
}

/// CLOCK_REALTIME, as Linux stamps inodes with (current_time()).
public struct RealtimeClock: FileClock {
    public init() {}
    public func now() -> Timespec {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timespec(seconds: Int64(ts.tv_sec), nanoseconds: Int64(ts.tv_nsec))
    }
}

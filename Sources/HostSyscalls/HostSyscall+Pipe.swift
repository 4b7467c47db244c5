import Glibc
import SystemPackage

extension HostSyscall {
    /// write(2) to a pipe, FIFO or socket that answers EPIPE instead of killing the process:
    /// SIGPIPE is blocked for the calling thread around the write, and the SIGPIPE the write
    /// raised, if any, is taken back (sigtimedwait with a zero timeout) before the mask is
    /// restored. The sandbox's own kernel turns EPIPE into a signal for the sandboxed task if
    /// it wants one; the host process must never get it.
    public static func writeWithoutSIGPIPE(_ fd: Int32, from buffer: UnsafeRawBufferPointer)
        throws(Errno) -> Int
    {
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        do {
            return try write(fd, from: buffer)
        } catch {
            if error == .brokenPipe {
                var zero = timespec(tv_sec: 0, tv_nsec: 0)
                _ = sigtimedwait(&pipeSignal, nil, &zero)
            }
            throw error
        }
    }
}

import GoferServer

#if canImport(Glibc)
    import Glibc
#endif

// One connection served for one input on a thread the fuzzer joins before the input returns,
// so everything the server allocated for the input is freed by then: libFuzzer's leak check
// (it runs LeakSanitizer when an input ends with more mallocs than frees) then never sees the
// server still tearing a connection down. `GoferServer.serveInBackground` detaches its thread,
// which is right for a server and wrong for a leak oracle.
// Lock order: none.

/// A server thread for one connection.
public final class ServedConnection: @unchecked Sendable {
    private var thread = pthread_t()
    private var started = false

    /// Serves `socket` (owned by the server from now on) on a new joinable thread.
    public init(_ server: GoferServer, socket: Int32) {
        let box = Unmanaged.passRetained(Job(server: server, socket: socket))
        let created = pthread_create(&thread, nil, { argument in
            guard let argument else { return nil }
            let job = Unmanaged<Job>.fromOpaque(argument).takeRetainedValue()
            job.server.serve(socket: job.socket)
            return nil
        }, box.toOpaque())
        if created == 0 {
            started = true
        } else {
            box.release()
            close(socket)
        }
    }

    /// Waits until the connection's thread has returned (the server closed its socket and
    /// freed the connection).
    public func join() {
        guard started else { return }
        started = false
        pthread_join(thread, nil)
    }

    private final class Job: @unchecked Sendable {
        let server: GoferServer
        let socket: Int32
        init(server: GoferServer, socket: Int32) {
            self.server = server
            self.socket = socket
        }
    }
}

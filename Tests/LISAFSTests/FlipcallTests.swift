import CLinuxSupport
import Foundation
import Glibc
import LISAFS
import Synchronization
import SystemPackage
import Testing

/// The flipcall endpoint on its own: two endpoints on one shared window, driven from two
/// threads as two processes would drive them, and a raw peer that writes the window by hand
/// (the layout gVisor's endpoints use: state u32 @0, datagram length u32 @4, datagram @16).
@Suite struct FlipcallTests {
    /// A sealed memfd window (as a server allocates it) and a raw view of it.
    final class Window: @unchecked Sendable {
        let allocator: PacketWindowAllocator
        let descriptor: PacketWindowDescriptor
        let raw: UnsafeMutableRawPointer

        init(length: Int = 8192) throws {
            allocator = try PacketWindowAllocator()
            descriptor = try allocator.allocate(length)
            guard let mapped = mmap(nil, descriptor.length, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor.fd.rawValue, 0),
                mapped != MAP_FAILED
            else { throw Errno(rawValue: errno) }
            raw = mapped
        }

        deinit { munmap(raw, descriptor.length) }

        var state: UInt32 {
            get { raw.load(as: UInt32.self) }
            set { raw.storeBytes(of: newValue, as: UInt32.self) }
        }
        var length: UInt32 {
            get { raw.load(fromByteOffset: 4, as: UInt32.self) }
            set { raw.storeBytes(of: newValue, toByteOffset: 4, as: UInt32.self) }
        }
        func datagram(_ count: Int) -> [UInt8] {
            Array(UnsafeRawBufferPointer(start: raw + 16, count: count))
        }
        func write(_ bytes: [UInt8]) {
            for (index, byte) in bytes.enumerated() { raw.storeBytes(of: byte, toByteOffset: 16 + index, as: UInt8.self) }
        }
    }

    /// Runs `body` on a new thread; `join` waits for it.
    final class Background: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        init(_ body: @escaping @Sendable () -> Void) {
            let done = self.done
            Thread.detachNewThread {
                body()
                done.signal()
            }
        }
        func join() { done.wait() }
    }

    @Test func clientAndServerConnectAndExchangeDatagrams() throws {
        let window = try Window()
        let client = try FlipcallEndpoint(side: .client, window: window.descriptor)
        let server = try FlipcallEndpoint(side: .server, window: window.descriptor)
        let received = Mutex<[[UInt8]]>([])
        let serving = Background {
            guard var length = try? server.receiveFirst() else { return }
            while length > 0 {
                let bytes = Array(UnsafeRawBufferPointer(rebasing: server.data[0..<Int(length)]))
                received.withLock { $0.append(bytes) }
                // Answer with the bytes reversed.
                for (index, byte) in bytes.reversed().enumerated() { server.data[index] = byte }
                guard let next = try? server.sendReceive(length) else { return }
                length = next
            }
        }
        try client.connect()
        for message in [[1, 2, 3], [4], Array(repeating: 7, count: 5000)] as [[UInt8]] {
            for (index, byte) in message.enumerated() { client.data[index] = byte }
            let length = try client.sendReceive(UInt32(message.count))
            #expect(Int(length) == message.count)
            #expect(Array(UnsafeRawBufferPointer(rebasing: client.data[0..<Int(length)])) == message.reversed())
        }
        try client.sendLast(0)
        serving.join()
        #expect(received.withLock { $0.count } == 3)
    }

    @Test func theConnectionRequestIsAnEmptyJSONObjectAsGVisorSendsIt() throws {
        let window = try Window()
        let client = try FlipcallEndpoint(side: .client, window: window.descriptor, pollInterval: .milliseconds(5))
        let connecting = Background { _ = try? client.connect() }
        // The raw peer plays a gVisor server: wait for the request, check it, answer.
        while window.state != 1 { usleep(100) }
        #expect(window.length == 3)
        #expect(window.datagram(3) == Array("{}\n".utf8))
        window.write(Array("{}\n".utf8))
        window.state = 0
        _ = syscall_futexWake(window.raw)
        connecting.join()
        #expect(window.state == 0)
    }

    @Test func aServerAcceptsAnyJSONObjectAndRefusesAnythingElse() throws {
        for (request, accepted) in [(" { }\n", true), ("{\"a\":1}", true), ("[]", false), ("", false)] {
            let window = try Window()
            let server = try FlipcallEndpoint(side: .server, window: window.descriptor, pollInterval: .milliseconds(5))
            window.write(Array(request.utf8))
            window.length = UInt32(request.utf8.count)
            window.state = 1
            let outcome = Mutex<Errno?>(nil)
            let serving = Background {
                do throws(Errno) {
                    _ = try server.receiveFirst()
                } catch {
                    outcome.withLock { $0 = error }
                }
            }
            if accepted {
                // The answer comes back to the client's side with the same text as gVisor's.
                while window.state != 0 { usleep(100) }
                #expect(window.datagram(Int(window.length)) == Array("{}\n".utf8))
                server.shutdown()
            }
            serving.join()
            #expect(outcome.withLock { $0 } == (accepted ? .connectionReset : .ioError), "\(request)")
        }
    }

    @Test func aLengthBeyondTheCapacityIsEIO() throws {
        let window = try Window()
        let server = try FlipcallEndpoint(side: .server, window: window.descriptor, pollInterval: .milliseconds(5))
        window.write(Array("{}".utf8))
        window.length = 2
        window.state = 1
        let outcome = Mutex<Result<UInt32, Errno>?>(nil)
        let serving = Background {
            let result = Result { () throws(Errno) -> UInt32 in try server.receiveFirst() }
            outcome.withLock { $0 = result }
        }
        while window.state != 0 { usleep(100) }
        window.length = UInt32(window.descriptor.length)  // more than the datagram holds
        window.state = 1
        _ = syscall_futexWake(window.raw)
        serving.join()
        #expect(outcome.withLock { $0 }.map { (try? $0.get()) == nil } == true)
        if case .failure(let error) = outcome.withLock({ $0 }) { #expect(error == .ioError) }
        #expect(throws: Errno.messageTooLong) { try server.sendLast(server.dataCapacity + 1) }
    }

    @Test func aStateThatIsNeitherSidesIsEIO() throws {
        let window = try Window()
        let client = try FlipcallEndpoint(side: .client, window: window.descriptor, pollInterval: .milliseconds(5))
        let outcome = Mutex<Errno?>(nil)
        let connecting = Background {
            do throws(Errno) { try client.connect() } catch { outcome.withLock { $0 = error } }
        }
        while window.state != 1 { usleep(100) }
        window.state = 77
        _ = syscall_futexWake(window.raw)
        connecting.join()
        #expect(outcome.withLock { $0 } == .ioError)
    }

    @Test func shutdownWakesAWaitingPeer() throws {
        let window = try Window()
        let client = try FlipcallEndpoint(side: .client, window: window.descriptor, pollInterval: .seconds(60))
        let server = try FlipcallEndpoint(side: .server, window: window.descriptor, pollInterval: .seconds(60))
        let outcome = Mutex<Errno?>(nil)
        let serving = Background {
            do throws(Errno) { _ = try server.receiveFirst() } catch { outcome.withLock { $0 = error } }
        }
        usleep(20_000)
        // The client's shutdown reaches the server's FUTEX_WAIT (its interval is a minute).
        client.shutdown()
        serving.join()
        #expect(outcome.withLock { $0 } == .connectionReset)
        #expect(server.isShutDown)
        #expect(throws: Errno.connectionReset) { try client.connect() }
    }

    @Test func aPeerThatIsGoneIsNoticedAtThePollInterval() throws {
        let window = try Window()
        let alive = Atomic<Bool>(true)
        let client = try FlipcallEndpoint(
            side: .client, window: window.descriptor, pollInterval: .milliseconds(5),
            peerIsAlive: { alive.load(ordering: .relaxed) })
        let outcome = Mutex<Errno?>(nil)
        // No server ever answers: the wait only ends when the peer is declared gone.
        let connecting = Background {
            do throws(Errno) { try client.connect() } catch { outcome.withLock { $0 = error } }
        }
        usleep(30_000)
        #expect(outcome.withLock { $0 } == nil)
        alive.store(false, ordering: .relaxed)
        connecting.join()
        #expect(outcome.withLock { $0 } == .connectionReset)
    }

    @Test func windowsAreCheckedBeforeMapping() throws {
        let allocator = try PacketWindowAllocator()
        let small = PacketWindowDescriptor(fd: try #require(allocator.file.descriptor), offset: 0, length: 4095)
        #expect(throws: Errno.invalidArgument) { try FlipcallEndpoint(side: .client, window: small) }
        let unaligned = PacketWindowDescriptor(fd: try #require(allocator.file.descriptor), offset: 100, length: 8192)
        #expect(throws: Errno.invalidArgument) { try FlipcallEndpoint(side: .client, window: unaligned) }
    }

    @Test func theAllocatorHandsOutPageAlignedWindowsFromASealedFile() throws {
        let allocator = try PacketWindowAllocator()
        let first = try allocator.allocate(2_093_076)
        let second = try allocator.allocate(10)
        #expect(first.offset == 0)
        #expect(first.length == 2_097_152)
        #expect(second.offset == 2_097_152)
        #expect(second.length == 4096)
        let fd = try #require(allocator.file.descriptor).rawValue
        // F_GET_SEALS (1034): F_SEAL_SEAL | F_SEAL_SHRINK.
        #expect(fcntl(fd, 1034) == 0x3)
        #expect(ftruncate(fd, 0) == -1 && errno == EPERM)
        var info = stat()
        #expect(fstat(fd, &info) == 0 && info.st_size >= 2_101_248)
    }
}

/// FUTEX_WAKE on the raw window's state word (for the hand-driven peer).
func syscall_futexWake(_ word: UnsafeMutableRawPointer) -> Int {
    Int(vfs_futex_wake(word.assumingMemoryBound(to: UInt32.self), 1))
}

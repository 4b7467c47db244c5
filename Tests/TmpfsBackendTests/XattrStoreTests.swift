import SystemPackage
import Testing

@testable import TmpfsBackend

/// Expected errnos come from os.setxattr/getxattr/listxattr/removexattr on a
/// /dev/shm file under Linux 6.18, run as root.
@Suite struct XattrStoreTests {
    private func n(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func setThenGetReturnsValue() throws {
        var store = XattrStore()
        try store.set(n("user.a"), [1, 2], flags: 0)
        try store.set(n("user.empty"), [], flags: 0)
        #expect(try store.get(n("user.a")) == [1, 2])
        #expect(try store.get(n("user.empty")) == [])
    }

    @Test func getAbsentIsENODATA() {
        let store = XattrStore()
        #expect(throws: Errno.noData) { try store.get(self.n("user.nope")) }
    }

    @Test func createWhenPresentIsEEXIST() throws {
        var store = XattrStore()
        try store.set(n("user.a"), [1], flags: XattrStore.xattrCreate)
        #expect(throws: Errno.fileExists) { try store.set(self.n("user.a"), [2], flags: XattrStore.xattrCreate) }
        #expect(try store.get(n("user.a")) == [1])
    }

    @Test func replaceWhenAbsentIsENODATA() throws {
        var store = XattrStore()
        #expect(throws: Errno.noData) { try store.set(self.n("user.a"), [1], flags: XattrStore.xattrReplace) }
        try store.set(n("user.a"), [1], flags: 0)
        try store.set(n("user.a"), [2], flags: XattrStore.xattrReplace)
        #expect(try store.get(n("user.a")) == [2])
    }

    @Test func createAndReplaceTogetherAlwaysFail() throws {
        // Kernel, flags 3: EEXIST when present, ENODATA when absent.
        var store = XattrStore()
        #expect(throws: Errno.noData) { try store.set(self.n("user.a"), [1], flags: 3) }
        try store.set(n("user.a"), [1], flags: 0)
        #expect(throws: Errno.fileExists) { try store.set(self.n("user.a"), [1], flags: 3) }
    }

    @Test func unknownFlagBitsAreEINVALBeforeOtherChecks() {
        var store = XattrStore()
        #expect(throws: Errno.invalidArgument) { try store.set(self.n("user.a"), [], flags: 4) }
        #expect(throws: Errno.invalidArgument) { try store.set([], [], flags: 4) }
        #expect(throws: Errno.invalidArgument) { try store.set(self.n("bogus.x"), [], flags: 4) }
    }

    @Test func removeDeletesAndAbsentIsENODATA() throws {
        var store = XattrStore()
        try store.set(n("user.a"), [1], flags: 0)
        try store.remove(n("user.a"))
        #expect(throws: Errno.noData) { try store.get(self.n("user.a")) }
        #expect(throws: Errno.noData) { try store.remove(self.n("user.a")) }
    }

    @Test func emptyOrOverlongNameIsERANGE() throws {
        var store = XattrStore()
        let longest = n("user." + String(repeating: "n", count: 250))
        try store.set(longest, [], flags: 0)
        #expect(throws: Errno.outOfRange) { try store.set(longest + [0x6E], [], flags: 0) }
        #expect(throws: Errno.outOfRange) { try store.get([]) }
        #expect(throws: Errno.outOfRange) { try store.remove([]) }
        // Name length is checked before the namespace and the value size.
        #expect(throws: Errno.outOfRange) { try store.set([UInt8](repeating: 0x78, count: 300), [], flags: 0) }
        #expect(throws: Errno.outOfRange) { try store.set([], [UInt8](repeating: 0, count: 65537), flags: 0) }
    }

    @Test func oversizedValueIsE2BIG() throws {
        var store = XattrStore()
        try store.set(n("user.big"), [UInt8](repeating: 1, count: 65536), flags: 0)
        #expect(throws: Errno.argListTooLong) { try store.set(self.n("user.big2"), [UInt8](repeating: 1, count: 65537), flags: 0) }
        // Value size is checked before namespace and presence.
        #expect(throws: Errno.argListTooLong) { try store.set(self.n("bogus.x"), [UInt8](repeating: 1, count: 65537), flags: 0) }
        #expect(throws: Errno.argListTooLong) { try store.set(self.n("user."), [UInt8](repeating: 1, count: 70000), flags: 0) }
        #expect(throws: Errno.argListTooLong) {
            try store.set(self.n("user.absent"), [UInt8](repeating: 1, count: 70000), flags: XattrStore.xattrReplace)
        }
    }

    @Test func unknownNamespaceIsEOPNOTSUPP() {
        var store = XattrStore()
        for name in ["foo", "bogus.x", "user", "USER.x", "system.", "system.foo"] {
            #expect(throws: Errno.notSupported, "\(name)") { try store.set(self.n(name), [], flags: 0) }
            #expect(throws: Errno.notSupported, "\(name)") { try store.get(self.n(name)) }
            #expect(throws: Errno.notSupported, "\(name)") { try store.remove(self.n(name)) }
        }
    }

    @Test func bareNamespacePrefixIsEINVAL() {
        var store = XattrStore()
        for name in ["user.", "trusted.", "security."] {
            #expect(throws: Errno.invalidArgument, "\(name)") { try store.set(self.n(name), [], flags: 0) }
            #expect(throws: Errno.invalidArgument, "\(name)") { try store.get(self.n(name)) }
            #expect(throws: Errno.invalidArgument, "\(name)") { try store.remove(self.n(name)) }
        }
    }

    @Test func listIsNULSeparatedInDescendingNameOrder() throws {
        // Kernel order after setting b, a, c, trusted.z, security.q, aa (then
        // removing and re-adding user.b): c, b, aa, a, trusted.z, security.q.
        var store = XattrStore()
        for name in ["user.b", "user.a", "user.c", "trusted.z", "security.q", "user.aa"] {
            try store.set(n(name), [1], flags: 0)
        }
        try store.remove(n("user.b"))
        try store.set(n("user.b"), [1], flags: 0)
        let expected = ["user.c", "user.b", "user.aa", "user.a", "trusted.z", "security.q"]
        #expect(store.list() == expected.flatMap { n($0) + [0] })
    }

    @Test func listOrdersByUnsignedBytes() throws {
        // Kernel: user.\xff, user.~, user.b0, user.b, user.ab, user.a, user.Z9, user.A.
        var store = XattrStore()
        let names: [[UInt8]] = [n("user.b0"), n("user.A"), n("user.ab"), n("user.") + [0xFF], n("user.a"), n("user.Z9"), n("user.b"), n("user.~")]
        for name in names { try store.set(name, [], flags: 0) }
        let expected: [[UInt8]] = [n("user.") + [0xFF], n("user.~"), n("user.b0"), n("user.b"), n("user.ab"), n("user.a"), n("user.Z9"), n("user.A")]
        #expect(store.list() == expected.flatMap { $0 + [0] })
    }

    @Test func listCanHideTrusted() throws {
        var store = XattrStore()
        try store.set(n("trusted.t"), [], flags: 0)
        try store.set(n("user.u"), [], flags: 0)
        #expect(store.list(includeTrusted: false) == n("user.u") + [0])
        #expect(XattrStore().list() == [])
    }

    @Test func zeroSizedBufferQueriesLength() throws {
        #expect(try XattrStore.replyLength(ofReply: 2, bufferSize: 0) == 2)
        #expect(try XattrStore.replyLength(ofReply: 0, bufferSize: 0) == 0)
        // Kernel: listxattr(size 0) reported 76500, beyond the 64 KiB cap.
        #expect(try XattrStore.replyLength(ofReply: 76500, bufferSize: 0) == 76500)
    }

    @Test func tooSmallBufferIsERANGE() throws {
        #expect(throws: Errno.outOfRange) { try XattrStore.replyLength(ofReply: 2, bufferSize: 1) }
        #expect(try XattrStore.replyLength(ofReply: 2, bufferSize: 2) == 2)
        #expect(try XattrStore.replyLength(ofReply: 2, bufferSize: 1 << 40) == 2)
        #expect(throws: Errno.outOfRange) { try XattrStore.replyLength(ofReply: 76500, bufferSize: 65535) }
    }

    @Test func replyLargerThanCapIsE2BIGForFullSizedBuffer() {
        // Kernel: a 76500-byte list with size 65536 or 200000 → E2BIG.
        #expect(throws: Errno.argListTooLong) { try XattrStore.replyLength(ofReply: 76500, bufferSize: 65536) }
        #expect(throws: Errno.argListTooLong) { try XattrStore.replyLength(ofReply: 76500, bufferSize: 200_000) }
        #expect(throws: Errno.argListTooLong) { try XattrStore.replyLength(ofReply: 76500, bufferSize: -1) }
    }

    @Test func checkedCopyFillsBuffer() throws {
        var buffer = [UInt8](repeating: 0xEE, count: 4)
        var result: Result<Int, Errno> = .success(-1)
        buffer.withUnsafeMutableBytes { raw in
            result = Result { () throws(Errno) in try XattrStore.checkedCopy([1, 2], into: raw) }
        }
        #expect(try result.get() == 2)
        #expect(buffer == [1, 2, 0xEE, 0xEE])
    }
}

import LISAFS
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

// libFuzzer entry point for the LISAFS decoders, built with `-sanitize=fuzzer,address` (main.swift
// starts libFuzzer's driver). An input is one frame: an 8-byte header, then the payload.
//
// For every input:
// 1. the header is decoded, and the payload is decoded as a request AND as a response, under the
//    header's raw MID and under that MID folded into 0–33 (so every decoder is reached whatever
//    the mutator does to the MID bytes);
// 2. whatever decodes must survive encode → decode unchanged, and encode again to the same bytes
//    (a decoder/encoder disagreement traps: that is a finding);
// 3. the raw input is written into a socketpair and read back by `Communicator.receiveFrame` with
//    a small size limit, exercising the framing checks (size limit, torn frames, EOF).
// Malformed input must only ever produce thrown `Errno`s; any trap, sanitizer report or leak is a
// bug in LISAFS.

@_cdecl("LLVMFuzzerTestOneInput")
public func lisafsFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let header = try? FrameHeader.decode(bytes) else { return 0 }
    let payload = Array(bytes.dropFirst(FrameHeader.size))
    let folded = header.rawMessageID % UInt16(MessageID.allCases.count)
    for mid in Set([header.rawMessageID, folded]) {
        checkRequest(mid: mid, payload: payload)
        checkResponse(mid: mid, payload: payload)
    }
    checkCommunicator(bytes)
    return 0
}

func checkRequest(mid: UInt16, payload: [UInt8]) {
    guard let message = try? AnyRequest.decode(rawMessageID: mid, payload: payload) else { return }
    guard let encoded = try? message.encoded(),
        let again = try? AnyRequest.decode(rawMessageID: mid, payload: encoded),
        again == message, (try? again.encoded()) == encoded, encoded.count == payload.count
    else { fatalError("request MID \(mid): decode/encode disagree") }
}

func checkResponse(mid: UInt16, payload: [UInt8]) {
    guard let message = try? AnyResponse.decode(rawMessageID: mid, payload: payload) else { return }
    guard let encoded = try? message.encoded(),
        let again = try? AnyResponse.decode(rawMessageID: mid, payload: encoded),
        again == message, (try? again.encoded()) == encoded, encoded.count == payload.count
    else { fatalError("response MID \(mid): decode/encode disagree") }
}

func checkCommunicator(_ bytes: [UInt8]) {
    var pair: [Int32] = [-1, -1]
    guard bytes.count <= 65536,
        socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair)
            == 0
    else { return }
    let reader = Communicator(socket: FileDescriptor(rawValue: pair[0]), maxMessageSize: 1024)
    let writer = FileDescriptor(rawValue: pair[1])
    _ = try? bytes.withUnsafeBytes { try writer.writeAll($0) }
    _ = try? writer.close()
    // Read frames until the stream ends or breaks; each must be within the limit.
    var frames = 0
    while frames < 64, let frame = try? reader.receiveFrame(maxFDs: 2) {
        guard frame.payload.count + FrameHeader.size <= 1024, frame.fds.isEmpty else {
            fatalError("communicator accepted an oversized frame or phantom FDs")
        }
        frames += 1
    }
}

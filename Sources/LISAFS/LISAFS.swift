// LISAFS: gVisor's gofer protocol, byte-compatible with gVisor's `pkg/lisafs`, in our own code.
//
// Layout of this module
// ---------------------
// * `WireCoding.swift`   `WireReader` / `WireWriter`: bounded little-endian, packed (no alignment).
//                        Malformed input throws `Errno.invalidArgument`; a value too big for its
//                        wire field throws `Errno.messageTooLong` on encode. No traps, no force
//                        unwraps, and no allocation sized by a wire count before that count has
//                        been checked against the bytes actually left (`checkCount`).
// * `Primitives.swift`   `MessageID` (0–33, gVisor's names), `FrameHeader` (8 bytes), `FDID` (u64),
//                        `SizedString` (u16 length + bytes), StringArray / FD array codings,
//                        `LISAFSStatx` (144 bytes), `StatxTimestamp`, `LISAFSTimespec`, `Inode`
//                        (FDID + Statx, 152 bytes), `Dirent64`, `WalkStatus`, `SetStatMask`.
// * `Message.swift`      the `LISAFSMessage` / `RequestMessage` / `ResponseMessage` protocols
//                        (`decode(_:)`, `encoded()`, `encodedFrame()`), `maxResponseFDs`.
// * `Messages+*.swift`   one request and one response struct per MID 1–33 (`WalkRequest`,
//                        `WalkResponse`, ...), and `ErrorResponse` for MID 0 (errno u32; MID 0 has no
//                        request form).
// * `AnyMessage.swift`   `AnyRequest` / `AnyResponse`: decode a payload by MID (server dispatch,
//                        the fuzz target), encode back.
// * `Communicator.swift` the socket transport; `OwnedFileDescriptor.swift` received FDs;
//                        `RPCClient.swift` a locked client wrapper with the Mount handshake.
//
// Thread safety: messages and the coding types are values (Sendable). A `Communicator` is used by
// one thread at a time with one RPC in flight (the protocol has no request IDs); `RPCClient`
// serializes whole RPCs behind one mutex (its only lock). Received FDs are `OwnedFileDescriptor`s.
//
// Where each fact was checked
// ---------------------------
// Every layout here is tested against Tests/LISAFSTests/Vectors/vectors.json: 98 frames recorded
// between gVisor's own client and its fsgofer server (gVisor `go` branch d53e01b4), covering every
// request MID 1–33 and every response except Flush (fsgofer answers Flush with Error EOPNOTSUPP).
// For each frame the test decodes it by MID and direction, compares every non-padding field with
// the recorded decode, and re-encodes it byte for byte (GoldenVectorTests). Specific facts the
// vectors pin down:
// * header = payload_len u32 (bytes AFTER the header), mid u16, 2 padding bytes (seq 1: Mount
//   request is `00000000 0100 0000`);
// * strings and arrays use u16 lengths/counts (older gVisor versions used u32: not compatible);
// * Walk response: status u8 then count u16, so Inodes start at payload offset 3 (seq 10);
// * the create prefix is dir_fd, uid, gid, mode u16, 6 padding bytes, and OpenCreateAt puts flags
//   BEFORE the name (seq 35); MknodAt puts minor before major (seq 43);
// * Dirent64 carries dev_minor before dev_major, the reverse of Statx (seq 72);
// * SetStat request has no padding after the FD (64 bytes, seq 31);
// * padding is not always zero on the wire: seq 83 (Listen) carries stale bytes, so decoders skip
//   padding and encoders write zeros;
// * Mount response: max_message_size 2093056 and 32 supported MIDs (1–19, 21–33).
// Transport facts (one sendmsg per frame with MSG_NOSIGNAL and a single SCM_RIGHTS cmsg; header
// read first with the only control buffer; SOCK_STREAM) come from the vectors' README, which
// records them from strace of gVisor's processes; `Communicator` follows them.
//
// Deliberate differences from gVisor
// ----------------------------------
// * A payload with bytes left over after the message is rejected (EINVAL); gVisor's decoders
//   ignore the excess. gVisor's own encoders never produce excess, so this only affects
//   malformed peers. `AnyRequest.decode(..., ignoringTrailingBytes: true)` (and
//   `decodeIgnoringTrailingBytes`) accept the excess as gVisor does; GoferServer uses it.
// * Malformed payloads throw EINVAL here; fsgofer answers an undecodable request with EIO. A
//   server built on this module chooses what errno to reply with.
// * `Communicator` works on blocking sockets (MSG_NOSIGNAL only; gVisor also sets MSG_DONTWAIT
//   and polls). A non-blocking socket still works: EAGAIN waits in poll(2).
// * Channels (MID 2; Flipcall.swift, FDChannel.swift, Channel.swift) follow pkg/flipcall and
//   pkg/fdchannel as read in gVisor's source: the same window layout, state values, JSON
//   handshake and one-FD zero-length datagrams (FlipcallTests drive our endpoints with a raw
//   peer written from that reading; no recording of gVisor's channel traffic exists: the
//   vectors never used one). Beyond gVisor, a client maps only a memory file sealed against
//   shrinking, checks the FD channel is a SOCK_SEQPACKET socket, and bounds every wait (it
//   polls the LISAFS socket at an interval, and before each channel RPC, so a dead server is
//   noticed rather than waited for).

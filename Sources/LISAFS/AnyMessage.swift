import SystemPackage

// Generated-style dispatch enums over every message type (kept by hand in this file).

/// Any LISAFS request, decoded by MID: what a server's receive loop switches over.
/// MID 0 (Error) has no request form and decodes to EINVAL; an unknown MID to EOPNOTSUPP.
public enum AnyRequest: Hashable, Sendable {
    case mount(MountRequest)
    case channel(ChannelRequest)
    case fStat(FStatRequest)
    case setStat(SetStatRequest)
    case walk(WalkRequest)
    case walkStat(WalkStatRequest)
    case openAt(OpenAtRequest)
    case openCreateAt(OpenCreateAtRequest)
    case close(CloseRequest)
    case fSync(FSyncRequest)
    case pWrite(PWriteRequest)
    case pRead(PReadRequest)
    case mkdirAt(MkdirAtRequest)
    case mknodAt(MknodAtRequest)
    case symlinkAt(SymlinkAtRequest)
    case linkAt(LinkAtRequest)
    case fStatFS(FStatFSRequest)
    case fAllocate(FAllocateRequest)
    case readLinkAt(ReadLinkAtRequest)
    case flush(FlushRequest)
    case connect(ConnectRequest)
    case unlinkAt(UnlinkAtRequest)
    case renameAt(RenameAtRequest)
    case getdents64(Getdents64Request)
    case fGetXattr(FGetXattrRequest)
    case fSetXattr(FSetXattrRequest)
    case fListXattr(FListXattrRequest)
    case fRemoveXattr(FRemoveXattrRequest)
    case bindAt(BindAtRequest)
    case listen(ListenRequest)
    case accept(AcceptRequest)
    case connectWithCreds(ConnectWithCredsRequest)
    case renameAt2(RenameAt2Request)

    /// The MID this message travels under.
    public var messageID: MessageID {
        switch self {
        case .mount: .mount
        case .channel: .channel
        case .fStat: .fStat
        case .setStat: .setStat
        case .walk: .walk
        case .walkStat: .walkStat
        case .openAt: .openAt
        case .openCreateAt: .openCreateAt
        case .close: .close
        case .fSync: .fSync
        case .pWrite: .pWrite
        case .pRead: .pRead
        case .mkdirAt: .mkdirAt
        case .mknodAt: .mknodAt
        case .symlinkAt: .symlinkAt
        case .linkAt: .linkAt
        case .fStatFS: .fStatFS
        case .fAllocate: .fAllocate
        case .readLinkAt: .readLinkAt
        case .flush: .flush
        case .connect: .connect
        case .unlinkAt: .unlinkAt
        case .renameAt: .renameAt
        case .getdents64: .getdents64
        case .fGetXattr: .fGetXattr
        case .fSetXattr: .fSetXattr
        case .fListXattr: .fListXattr
        case .fRemoveXattr: .fRemoveXattr
        case .bindAt: .bindAt
        case .listen: .listen
        case .accept: .accept
        case .connectWithCreds: .connectWithCreds
        case .renameAt2: .renameAt2
        }
    }

    /// The message as its concrete type.
    public var message: any LISAFSMessage {
        switch self {
        case .mount(let message): message
        case .channel(let message): message
        case .fStat(let message): message
        case .setStat(let message): message
        case .walk(let message): message
        case .walkStat(let message): message
        case .openAt(let message): message
        case .openCreateAt(let message): message
        case .close(let message): message
        case .fSync(let message): message
        case .pWrite(let message): message
        case .pRead(let message): message
        case .mkdirAt(let message): message
        case .mknodAt(let message): message
        case .symlinkAt(let message): message
        case .linkAt(let message): message
        case .fStatFS(let message): message
        case .fAllocate(let message): message
        case .readLinkAt(let message): message
        case .flush(let message): message
        case .connect(let message): message
        case .unlinkAt(let message): message
        case .renameAt(let message): message
        case .getdents64(let message): message
        case .fGetXattr(let message): message
        case .fSetXattr(let message): message
        case .fListXattr(let message): message
        case .fRemoveXattr(let message): message
        case .bindAt(let message): message
        case .listen(let message): message
        case .accept(let message): message
        case .connectWithCreds(let message): message
        case .renameAt2(let message): message
        }
    }

    /// Decodes a payload received under `rawMessageID` (the whole payload must be consumed
    /// unless `ignoringTrailingBytes`).
    public static func decode(
        rawMessageID: UInt16, payload: [UInt8], ignoringTrailingBytes: Bool = false
    ) throws(Errno) -> AnyRequest {
        guard let mid = MessageID(rawValue: rawMessageID) else { throw Errno.notSupported }
        return try decode(
            messageID: mid, payload: payload, ignoringTrailingBytes: ignoringTrailingBytes)
    }

    /// With `ignoringTrailingBytes`, bytes after the message are accepted and ignored, as
    /// gVisor's decoders (and so fsgofer) accept them; otherwise they are EINVAL.
    public static func decode(
        messageID: MessageID, payload: [UInt8], ignoringTrailingBytes: Bool = false
    ) throws(Errno) -> AnyRequest {
        func decoded<M: LISAFSMessage>() throws(Errno) -> M {
            if ignoringTrailingBytes { return try M.decodeIgnoringTrailingBytes(payload) }
            return try M.decode(payload)
        }
        return switch messageID {
        case .error: throw Errno.invalidArgument
        case .mount: .mount(try decoded())
        case .channel: .channel(try decoded())
        case .fStat: .fStat(try decoded())
        case .setStat: .setStat(try decoded())
        case .walk: .walk(try decoded())
        case .walkStat: .walkStat(try decoded())
        case .openAt: .openAt(try decoded())
        case .openCreateAt: .openCreateAt(try decoded())
        case .close: .close(try decoded())
        case .fSync: .fSync(try decoded())
        case .pWrite: .pWrite(try decoded())
        case .pRead: .pRead(try decoded())
        case .mkdirAt: .mkdirAt(try decoded())
        case .mknodAt: .mknodAt(try decoded())
        case .symlinkAt: .symlinkAt(try decoded())
        case .linkAt: .linkAt(try decoded())
        case .fStatFS: .fStatFS(try decoded())
        case .fAllocate: .fAllocate(try decoded())
        case .readLinkAt: .readLinkAt(try decoded())
        case .flush: .flush(try decoded())
        case .connect: .connect(try decoded())
        case .unlinkAt: .unlinkAt(try decoded())
        case .renameAt: .renameAt(try decoded())
        case .getdents64: .getdents64(try decoded())
        case .fGetXattr: .fGetXattr(try decoded())
        case .fSetXattr: .fSetXattr(try decoded())
        case .fListXattr: .fListXattr(try decoded())
        case .fRemoveXattr: .fRemoveXattr(try decoded())
        case .bindAt: .bindAt(try decoded())
        case .listen: .listen(try decoded())
        case .accept: .accept(try decoded())
        case .connectWithCreds: .connectWithCreds(try decoded())
        case .renameAt2: .renameAt2(try decoded())
        }
    }

    /// The encoded payload (without the header).
    public func encoded() throws(Errno) -> [UInt8] {
        switch self {
        case .mount(let message): try message.encoded()
        case .channel(let message): try message.encoded()
        case .fStat(let message): try message.encoded()
        case .setStat(let message): try message.encoded()
        case .walk(let message): try message.encoded()
        case .walkStat(let message): try message.encoded()
        case .openAt(let message): try message.encoded()
        case .openCreateAt(let message): try message.encoded()
        case .close(let message): try message.encoded()
        case .fSync(let message): try message.encoded()
        case .pWrite(let message): try message.encoded()
        case .pRead(let message): try message.encoded()
        case .mkdirAt(let message): try message.encoded()
        case .mknodAt(let message): try message.encoded()
        case .symlinkAt(let message): try message.encoded()
        case .linkAt(let message): try message.encoded()
        case .fStatFS(let message): try message.encoded()
        case .fAllocate(let message): try message.encoded()
        case .readLinkAt(let message): try message.encoded()
        case .flush(let message): try message.encoded()
        case .connect(let message): try message.encoded()
        case .unlinkAt(let message): try message.encoded()
        case .renameAt(let message): try message.encoded()
        case .getdents64(let message): try message.encoded()
        case .fGetXattr(let message): try message.encoded()
        case .fSetXattr(let message): try message.encoded()
        case .fListXattr(let message): try message.encoded()
        case .fRemoveXattr(let message): try message.encoded()
        case .bindAt(let message): try message.encoded()
        case .listen(let message): try message.encoded()
        case .accept(let message): try message.encoded()
        case .connectWithCreds(let message): try message.encoded()
        case .renameAt2(let message): try message.encoded()
        }
    }

    /// The whole frame (header then payload).
    public func encodedFrame() throws(Errno) -> [UInt8] {
        switch self {
        case .mount(let message): try message.encodedFrame()
        case .channel(let message): try message.encodedFrame()
        case .fStat(let message): try message.encodedFrame()
        case .setStat(let message): try message.encodedFrame()
        case .walk(let message): try message.encodedFrame()
        case .walkStat(let message): try message.encodedFrame()
        case .openAt(let message): try message.encodedFrame()
        case .openCreateAt(let message): try message.encodedFrame()
        case .close(let message): try message.encodedFrame()
        case .fSync(let message): try message.encodedFrame()
        case .pWrite(let message): try message.encodedFrame()
        case .pRead(let message): try message.encodedFrame()
        case .mkdirAt(let message): try message.encodedFrame()
        case .mknodAt(let message): try message.encodedFrame()
        case .symlinkAt(let message): try message.encodedFrame()
        case .linkAt(let message): try message.encodedFrame()
        case .fStatFS(let message): try message.encodedFrame()
        case .fAllocate(let message): try message.encodedFrame()
        case .readLinkAt(let message): try message.encodedFrame()
        case .flush(let message): try message.encodedFrame()
        case .connect(let message): try message.encodedFrame()
        case .unlinkAt(let message): try message.encodedFrame()
        case .renameAt(let message): try message.encodedFrame()
        case .getdents64(let message): try message.encodedFrame()
        case .fGetXattr(let message): try message.encodedFrame()
        case .fSetXattr(let message): try message.encodedFrame()
        case .fListXattr(let message): try message.encodedFrame()
        case .fRemoveXattr(let message): try message.encodedFrame()
        case .bindAt(let message): try message.encodedFrame()
        case .listen(let message): try message.encodedFrame()
        case .accept(let message): try message.encodedFrame()
        case .connectWithCreds(let message): try message.encodedFrame()
        case .renameAt2(let message): try message.encodedFrame()
        }
    }
}

/// Any LISAFS response, decoded by MID: MID 0 is `.error`, any other MID the response of the
/// request with that MID. An unknown MID decodes to EOPNOTSUPP.
public enum AnyResponse: Hashable, Sendable {
    case error(ErrorResponse)
    case mount(MountResponse)
    case channel(ChannelResponse)
    case fStat(FStatResponse)
    case setStat(SetStatResponse)
    case walk(WalkResponse)
    case walkStat(WalkStatResponse)
    case openAt(OpenAtResponse)
    case openCreateAt(OpenCreateAtResponse)
    case close(CloseResponse)
    case fSync(FSyncResponse)
    case pWrite(PWriteResponse)
    case pRead(PReadResponse)
    case mkdirAt(MkdirAtResponse)
    case mknodAt(MknodAtResponse)
    case symlinkAt(SymlinkAtResponse)
    case linkAt(LinkAtResponse)
    case fStatFS(FStatFSResponse)
    case fAllocate(FAllocateResponse)
    case readLinkAt(ReadLinkAtResponse)
    case flush(FlushResponse)
    case connect(ConnectResponse)
    case unlinkAt(UnlinkAtResponse)
    case renameAt(RenameAtResponse)
    case getdents64(Getdents64Response)
    case fGetXattr(FGetXattrResponse)
    case fSetXattr(FSetXattrResponse)
    case fListXattr(FListXattrResponse)
    case fRemoveXattr(FRemoveXattrResponse)
    case bindAt(BindAtResponse)
    case listen(ListenResponse)
    case accept(AcceptResponse)
    case connectWithCreds(ConnectWithCredsResponse)
    case renameAt2(RenameAt2Response)

    /// The MID this message travels under.
    public var messageID: MessageID {
        switch self {
        case .error: .error
        case .mount: .mount
        case .channel: .channel
        case .fStat: .fStat
        case .setStat: .setStat
        case .walk: .walk
        case .walkStat: .walkStat
        case .openAt: .openAt
        case .openCreateAt: .openCreateAt
        case .close: .close
        case .fSync: .fSync
        case .pWrite: .pWrite
        case .pRead: .pRead
        case .mkdirAt: .mkdirAt
        case .mknodAt: .mknodAt
        case .symlinkAt: .symlinkAt
        case .linkAt: .linkAt
        case .fStatFS: .fStatFS
        case .fAllocate: .fAllocate
        case .readLinkAt: .readLinkAt
        case .flush: .flush
        case .connect: .connect
        case .unlinkAt: .unlinkAt
        case .renameAt: .renameAt
        case .getdents64: .getdents64
        case .fGetXattr: .fGetXattr
        case .fSetXattr: .fSetXattr
        case .fListXattr: .fListXattr
        case .fRemoveXattr: .fRemoveXattr
        case .bindAt: .bindAt
        case .listen: .listen
        case .accept: .accept
        case .connectWithCreds: .connectWithCreds
        case .renameAt2: .renameAt2
        }
    }

    /// The message as its concrete type.
    public var message: any LISAFSMessage {
        switch self {
        case .error(let message): message
        case .mount(let message): message
        case .channel(let message): message
        case .fStat(let message): message
        case .setStat(let message): message
        case .walk(let message): message
        case .walkStat(let message): message
        case .openAt(let message): message
        case .openCreateAt(let message): message
        case .close(let message): message
        case .fSync(let message): message
        case .pWrite(let message): message
        case .pRead(let message): message
        case .mkdirAt(let message): message
        case .mknodAt(let message): message
        case .symlinkAt(let message): message
        case .linkAt(let message): message
        case .fStatFS(let message): message
        case .fAllocate(let message): message
        case .readLinkAt(let message): message
        case .flush(let message): message
        case .connect(let message): message
        case .unlinkAt(let message): message
        case .renameAt(let message): message
        case .getdents64(let message): message
        case .fGetXattr(let message): message
        case .fSetXattr(let message): message
        case .fListXattr(let message): message
        case .fRemoveXattr(let message): message
        case .bindAt(let message): message
        case .listen(let message): message
        case .accept(let message): message
        case .connectWithCreds(let message): message
        case .renameAt2(let message): message
        }
    }

    /// Decodes a payload received under `rawMessageID` (the whole payload must be consumed).
    public static func decode(rawMessageID: UInt16, payload: [UInt8]) throws(Errno) -> AnyResponse {
        guard let mid = MessageID(rawValue: rawMessageID) else { throw Errno.notSupported }
        return try decode(messageID: mid, payload: payload)
    }

    public static func decode(messageID: MessageID, payload: [UInt8]) throws(Errno) -> AnyResponse {
        switch messageID {
        case .error: .error(try .decode(payload))
        case .mount: .mount(try .decode(payload))
        case .channel: .channel(try .decode(payload))
        case .fStat: .fStat(try .decode(payload))
        case .setStat: .setStat(try .decode(payload))
        case .walk: .walk(try .decode(payload))
        case .walkStat: .walkStat(try .decode(payload))
        case .openAt: .openAt(try .decode(payload))
        case .openCreateAt: .openCreateAt(try .decode(payload))
        case .close: .close(try .decode(payload))
        case .fSync: .fSync(try .decode(payload))
        case .pWrite: .pWrite(try .decode(payload))
        case .pRead: .pRead(try .decode(payload))
        case .mkdirAt: .mkdirAt(try .decode(payload))
        case .mknodAt: .mknodAt(try .decode(payload))
        case .symlinkAt: .symlinkAt(try .decode(payload))
        case .linkAt: .linkAt(try .decode(payload))
        case .fStatFS: .fStatFS(try .decode(payload))
        case .fAllocate: .fAllocate(try .decode(payload))
        case .readLinkAt: .readLinkAt(try .decode(payload))
        case .flush: .flush(try .decode(payload))
        case .connect: .connect(try .decode(payload))
        case .unlinkAt: .unlinkAt(try .decode(payload))
        case .renameAt: .renameAt(try .decode(payload))
        case .getdents64: .getdents64(try .decode(payload))
        case .fGetXattr: .fGetXattr(try .decode(payload))
        case .fSetXattr: .fSetXattr(try .decode(payload))
        case .fListXattr: .fListXattr(try .decode(payload))
        case .fRemoveXattr: .fRemoveXattr(try .decode(payload))
        case .bindAt: .bindAt(try .decode(payload))
        case .listen: .listen(try .decode(payload))
        case .accept: .accept(try .decode(payload))
        case .connectWithCreds: .connectWithCreds(try .decode(payload))
        case .renameAt2: .renameAt2(try .decode(payload))
        }
    }

    /// The encoded payload (without the header).
    public func encoded() throws(Errno) -> [UInt8] {
        switch self {
        case .error(let message): try message.encoded()
        case .mount(let message): try message.encoded()
        case .channel(let message): try message.encoded()
        case .fStat(let message): try message.encoded()
        case .setStat(let message): try message.encoded()
        case .walk(let message): try message.encoded()
        case .walkStat(let message): try message.encoded()
        case .openAt(let message): try message.encoded()
        case .openCreateAt(let message): try message.encoded()
        case .close(let message): try message.encoded()
        case .fSync(let message): try message.encoded()
        case .pWrite(let message): try message.encoded()
        case .pRead(let message): try message.encoded()
        case .mkdirAt(let message): try message.encoded()
        case .mknodAt(let message): try message.encoded()
        case .symlinkAt(let message): try message.encoded()
        case .linkAt(let message): try message.encoded()
        case .fStatFS(let message): try message.encoded()
        case .fAllocate(let message): try message.encoded()
        case .readLinkAt(let message): try message.encoded()
        case .flush(let message): try message.encoded()
        case .connect(let message): try message.encoded()
        case .unlinkAt(let message): try message.encoded()
        case .renameAt(let message): try message.encoded()
        case .getdents64(let message): try message.encoded()
        case .fGetXattr(let message): try message.encoded()
        case .fSetXattr(let message): try message.encoded()
        case .fListXattr(let message): try message.encoded()
        case .fRemoveXattr(let message): try message.encoded()
        case .bindAt(let message): try message.encoded()
        case .listen(let message): try message.encoded()
        case .accept(let message): try message.encoded()
        case .connectWithCreds(let message): try message.encoded()
        case .renameAt2(let message): try message.encoded()
        }
    }

    /// The whole frame (header then payload).
    public func encodedFrame() throws(Errno) -> [UInt8] {
        switch self {
        case .error(let message): try message.encodedFrame()
        case .mount(let message): try message.encodedFrame()
        case .channel(let message): try message.encodedFrame()
        case .fStat(let message): try message.encodedFrame()
        case .setStat(let message): try message.encodedFrame()
        case .walk(let message): try message.encodedFrame()
        case .walkStat(let message): try message.encodedFrame()
        case .openAt(let message): try message.encodedFrame()
        case .openCreateAt(let message): try message.encodedFrame()
        case .close(let message): try message.encodedFrame()
        case .fSync(let message): try message.encodedFrame()
        case .pWrite(let message): try message.encodedFrame()
        case .pRead(let message): try message.encodedFrame()
        case .mkdirAt(let message): try message.encodedFrame()
        case .mknodAt(let message): try message.encodedFrame()
        case .symlinkAt(let message): try message.encodedFrame()
        case .linkAt(let message): try message.encodedFrame()
        case .fStatFS(let message): try message.encodedFrame()
        case .fAllocate(let message): try message.encodedFrame()
        case .readLinkAt(let message): try message.encodedFrame()
        case .flush(let message): try message.encodedFrame()
        case .connect(let message): try message.encodedFrame()
        case .unlinkAt(let message): try message.encodedFrame()
        case .renameAt(let message): try message.encodedFrame()
        case .getdents64(let message): try message.encodedFrame()
        case .fGetXattr(let message): try message.encodedFrame()
        case .fSetXattr(let message): try message.encodedFrame()
        case .fListXattr(let message): try message.encodedFrame()
        case .fRemoveXattr(let message): try message.encodedFrame()
        case .bindAt(let message): try message.encodedFrame()
        case .listen(let message): try message.encodedFrame()
        case .accept(let message): try message.encodedFrame()
        case .connectWithCreds(let message): try message.encodedFrame()
        case .renameAt2(let message): try message.encodedFrame()
        }
    }
}

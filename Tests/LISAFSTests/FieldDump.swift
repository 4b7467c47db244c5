import LISAFS

/// Renders decoded messages as the vectors name their fields ("root.stat.mode",
/// "path[1].bytes", ...), so decoded values can be compared with the recorded `fields` list.
struct FieldDump {
    private(set) var values: [String: FieldValue] = [:]

    mutating func int<T: BinaryInteger>(_ name: String, _ value: T) {
        values[name] = .int(Int64(truncatingIfNeeded: value))
    }

    mutating func fd(_ name: String, _ value: FDID) { int(name, value.rawValue) }

    mutating func string(_ name: String, _ value: SizedString) {
        int(name + ".len", value.bytes.count)
        values[name + ".bytes"] = .string(value.string)
    }

    mutating func strings(_ name: String, _ value: [SizedString]) {
        int(name + ".count", value.count)
        for (index, element) in value.enumerated() { string("\(name)[\(index)]", element) }
    }

    mutating func fds(_ name: String, _ value: [FDID]) {
        int(name + ".count", value.count)
        for (index, element) in value.enumerated() { fd("\(name)[\(index)]", element) }
    }

    mutating func timestamp(_ name: String, _ value: StatxTimestamp) {
        int(name + ".sec", value.sec)
        int(name + ".nsec", value.nsec)
    }

    mutating func timespec(_ name: String, _ value: LISAFSTimespec) {
        int(name + ".sec", value.sec)
        int(name + ".nsec", value.nsec)
    }

    mutating func statx(_ prefix: String, _ s: LISAFSStatx) {
        int(prefix + "mask", s.mask)
        int(prefix + "blksize", s.blksize)
        int(prefix + "attributes", s.attributes)
        int(prefix + "nlink", s.nlink)
        int(prefix + "uid", s.uid)
        int(prefix + "gid", s.gid)
        int(prefix + "mode", s.mode)
        int(prefix + "ino", s.ino)
        int(prefix + "size", s.size)
        int(prefix + "blocks", s.blocks)
        int(prefix + "attributes_mask", s.attributesMask)
        timestamp(prefix + "atime", s.atime)
        timestamp(prefix + "btime", s.btime)
        timestamp(prefix + "ctime", s.ctime)
        timestamp(prefix + "mtime", s.mtime)
        int(prefix + "rdev_major", s.rdevMajor)
        int(prefix + "rdev_minor", s.rdevMinor)
        int(prefix + "dev_major", s.devMajor)
        int(prefix + "dev_minor", s.devMinor)
    }

    mutating func inode(_ prefix: String, _ inode: Inode) {
        fd(prefix + "control_fd", inode.controlFD)
        statx(prefix + "stat.", inode.stat)
    }

    mutating func header(_ header: FrameHeader) {
        int("header.payload_len", header.payloadLength)
        int("header.mid", header.rawMessageID)
    }

    mutating func create(_ dirFD: FDID, _ uid: UInt32, _ gid: UInt32, _ mode: UInt16) {
        fd("dir_fd", dirFD)
        int("uid", uid)
        int("gid", gid)
        int("mode", mode)
    }

    mutating func request(_ request: AnyRequest) {
        switch request {
        case .mount, .channel: break
        case .fStat(let m): fd("fd", m.fd)
        case .setStat(let m):
            fd("fd", m.fd)
            int("mask", m.mask)
            int("mode", m.mode)
            int("uid", m.uid)
            int("gid", m.gid)
            int("size", m.size)
            timespec("atime", m.atime)
            timespec("mtime", m.mtime)
        case .walk(let m):
            fd("dir_fd", m.dirFD)
            strings("path", m.path)
        case .walkStat(let m):
            fd("dir_fd", m.dirFD)
            strings("path", m.path)
        case .openAt(let m):
            fd("fd", m.fd)
            int("flags", m.flags)
        case .openCreateAt(let m):
            create(m.dirFD, m.uid, m.gid, m.mode)
            int("flags", m.flags)
            string("name", m.name)
        case .close(let m): fds("fds", m.fds)
        case .fSync(let m): fds("fds", m.fds)
        case .pWrite(let m):
            int("offset", m.offset)
            fd("fd", m.fd)
            int("num_bytes", m.data.count)
            values["data"] = .string(String(decoding: m.data, as: UTF8.self))
        case .pRead(let m):
            int("offset", m.offset)
            fd("fd", m.fd)
            int("count", m.count)
        case .mkdirAt(let m):
            create(m.dirFD, m.uid, m.gid, m.mode)
            string("name", m.name)
        case .mknodAt(let m):
            create(m.dirFD, m.uid, m.gid, m.mode)
            int("minor", m.minor)
            int("major", m.major)
            string("name", m.name)
        case .symlinkAt(let m):
            fd("dir_fd", m.dirFD)
            int("uid", m.uid)
            int("gid", m.gid)
            string("name", m.name)
            string("target", m.target)
        case .linkAt(let m):
            fd("dir_fd", m.dirFD)
            fd("target", m.target)
            string("name", m.name)
        case .fStatFS(let m): fd("fd", m.fd)
        case .fAllocate(let m):
            fd("fd", m.fd)
            int("mode", m.mode)
            int("offset", m.offset)
            int("length", m.length)
        case .readLinkAt(let m): fd("fd", m.fd)
        case .flush(let m): fd("fd", m.fd)
        case .connect(let m):
            fd("fd", m.fd)
            int("sock_type", m.sockType)
        case .unlinkAt(let m):
            fd("dir_fd", m.dirFD)
            int("flags", m.flags)
            string("name", m.name)
        case .renameAt(let m):
            fd("old_dir", m.oldDir)
            fd("new_dir", m.newDir)
            string("old_name", m.oldName)
            string("new_name", m.newName)
        case .renameAt2(let m):
            fd("old_dir", m.oldDir)
            fd("new_dir", m.newDir)
            string("old_name", m.oldName)
            string("new_name", m.newName)
            int("flags", m.flags)
        case .getdents64(let m):
            fd("dir_fd", m.dirFD)
            int("count", m.count)
        case .fGetXattr(let m):
            fd("fd", m.fd)
            int("buf_size", m.bufSize)
            string("name", m.name)
        case .fSetXattr(let m):
            fd("fd", m.fd)
            int("flags", m.flags)
            string("name", m.name)
            string("value", m.value)
        case .fListXattr(let m):
            fd("fd", m.fd)
            int("size", m.size)
        case .fRemoveXattr(let m):
            fd("fd", m.fd)
            string("name", m.name)
        case .bindAt(let m):
            create(m.dirFD, m.uid, m.gid, m.mode)
            int("sock_type", m.sockType)
            string("name", m.name)
        case .listen(let m):
            fd("fd", m.fd)
            int("backlog", m.backlog)
        case .accept(let m): fd("fd", m.fd)
        case .connectWithCreds(let m):
            fd("fd", m.fd)
            int("sock_type", m.sockType)
            int("uid", m.uid)
            int("gid", m.gid)
        }
    }

    mutating func response(_ response: AnyResponse) {
        switch response {
        case .error(let m): int("errno", m.errno)
        case .mount(let m):
            inode("root.", m.root)
            int("max_message_size", m.maxMessageSize)
            int("supported.count", m.supportedMessages.count)
            for (index, mid) in m.supportedMessages.enumerated() { int("supported[\(index)]", mid) }
        case .channel(let m):
            int("data_offset", m.dataOffset)
            int("data_length", m.dataLength)
        case .fStat(let m): statx("", m.stat)
        case .setStat(let m):
            int("failure_mask", m.failureMask)
            int("failure_errno", m.failureErrno)
        case .walk(let m):
            int("status", m.status.rawValue)
            int("inodes.count", m.inodes.count)
            for (index, element) in m.inodes.enumerated() { inode("inodes[\(index)].", element) }
        case .walkStat(let m):
            int("stats.count", m.stats.count)
            for (index, element) in m.stats.enumerated() { statx("stats[\(index)].", element) }
        case .openAt(let m): fd("open_fd", m.openFD)
        case .openCreateAt(let m):
            inode("child.", m.child)
            fd("new_open_fd", m.newOpenFD)
        case .close, .fSync, .fAllocate, .flush, .connect, .unlinkAt, .renameAt, .renameAt2,
            .fSetXattr, .fRemoveXattr, .listen, .connectWithCreds:
            break
        case .pWrite(let m): int("count", m.count)
        case .pRead(let m):
            int("num_bytes", m.data.count)
            values["data"] = .string(String(decoding: m.data, as: UTF8.self))
        case .mkdirAt(let m): inode("child.", m.child)
        case .mknodAt(let m): inode("child.", m.child)
        case .symlinkAt(let m): inode("child.", m.symlink)
        case .linkAt(let m): inode("child.", m.link)
        case .fStatFS(let m):
            int("type", m.type)
            int("block_size", m.blockSize)
            int("blocks", m.blocks)
            int("blocks_free", m.blocksFree)
            int("blocks_available", m.blocksAvailable)
            int("files", m.files)
            int("files_free", m.filesFree)
            int("name_length", m.nameLength)
        case .readLinkAt(let m): string("target", m.target)
        case .getdents64(let m):
            int("dirents.count", m.dirents.count)
            for (index, d) in m.dirents.enumerated() {
                let p = "dirents[\(index)]."
                int(p + "ino", d.ino)
                int(p + "dev_minor", d.devMinor)
                int(p + "dev_major", d.devMajor)
                int(p + "off", d.off)
                int(p + "type", d.type)
                string(p + "name", d.name)
            }
        case .fGetXattr(let m): string("value", m.value)
        case .fListXattr(let m): strings("xattrs", m.xattrs)
        case .bindAt(let m):
            inode("child.", m.child)
            fd("bound_socket_fd", m.boundSocketFD)
        case .accept(let m): string("peer_addr", m.peerAddress)
        }
    }
}

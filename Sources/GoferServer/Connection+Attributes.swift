// FStat, SetStat, FStatFS, ReadLinkAt and the xattr messages. SetStat applies mode, size,
// times, then owner (fsgofer's order) and reports per-attribute failures in the response
// (failure mask + errno) instead of failing the RPC. Xattrs go through the *xattrat
// syscalls on the control FD's /proc/self/fd link (O_PATH fds refuse f*xattr); the link
// resolves to the file itself, or to a symlink itself, never further.
import CGoferSupport
import Glibc
import LISAFS
import SystemPackage

extension Connection {
    static let statxMode: UInt32 = 0x2, statxUID: UInt32 = 0x8, statxGID: UInt32 = 0x10
    static let statxATime: UInt32 = 0x20, statxMTime: UInt32 = 0x40, statxSize: UInt32 = 0x200
    static let setStatSupportedMask = statxMode | statxUID | statxGID | statxATime | statxMTime | statxSize
    /// XATTR_SIZE_MAX and XATTR_LIST_MAX (include/uapi/linux/limits.h).
    static let xattrSizeMax = 65536
    static let xattrNameMax = 255

    func fstat(_ request: FStatRequest) throws(Errno) -> Reply {
        let fd = try lookupAny(request.fd)
        return Reply(FStatResponse(stat: try Host.statx(fd.raw)))
    }

    /// Called after the read-only check (see `Connection.mutatingMessages`).
    func setStat(_ request: SetStatRequest) throws(Errno) -> Reply {
        let mask = request.mask, mode = request.mode, uid = request.uid, gid = request.gid
        let size = request.size
        let atime = timespec(tv_sec: Int(request.atime.sec), tv_nsec: Int(request.atime.nsec))
        let mtime = timespec(tv_sec: Int(request.mtime.sec), tv_nsec: Int(request.mtime.nsec))
        let control = try lookupControl(request.fd)
        if mask & ~Self.setStatSupportedMask != 0 { throw Errno.notPermitted }

        var failureMask: UInt32 = 0
        var failureErrno: Int32 = 0
        func fail(_ bits: UInt32, _ error: Int32) {
            failureMask |= bits
            failureErrno = error
        }
        if mask & Self.statxMode != 0 {
            // fchmodat2(AT_EMPTY_PATH) works on O_PATH fds; on a symlink Linux says EOPNOTSUPP.
            let result = gofer_fchmod_path_fd(control.fd.raw, mode & 0o7777)
            if result != 0 { fail(Self.statxMode, -result) }
        }
        if mask & Self.statxSize != 0 {
            do throws(Errno) {
                let writable = try Host.reopen(control.fd, procSelfFD: server.procSelfFD.raw, flags: O_WRONLY)
                _ = try Host.check(Glibc.ftruncate(writable.raw, off_t(Int64(bitPattern: size))))
            } catch {
                fail(Self.statxSize, error.rawValue)
            }
        }
        let timeBits = mask & (Self.statxATime | Self.statxMTime)
        if timeBits != 0 {
            let omit = timespec(tv_sec: 0, tv_nsec: Int(UTIME_OMIT))
            let times = [mask & Self.statxATime != 0 ? atime : omit, mask & Self.statxMTime != 0 ? mtime : omit]
            let result = times.withUnsafeBufferPointer {
                Glibc.utimensat(control.fd.raw, "", $0.baseAddress, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)
            }
            if result != 0 { fail(timeBits, errno) }
        }
        let ownerBits = mask & (Self.statxUID | Self.statxGID)
        if ownerBits != 0 {
            let newUID = mask & Self.statxUID != 0 ? uid : UInt32.max
            let newGID = mask & Self.statxGID != 0 ? gid : UInt32.max
            if Glibc.fchownat(control.fd.raw, "", newUID, newGID, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0 {
                fail(ownerBits, errno)
            }
        }
        return Reply(SetStatResponse(failureMask: failureMask, failureErrno: UInt32(bitPattern: failureErrno)))
    }

    func fstatfs(_ request: FStatFSRequest) throws(Errno) -> Reply {
        let control = try lookupControl(request.fd)
        // The C side writes fstatfs(2)'s eight fields as 8-byte values in StatFS order.
        var out = [UInt8](repeating: 0, count: 64)
        _ = try Host.checkNegated(Int(out.withUnsafeMutableBufferPointer { gofer_fstatfs_wire(control.fd.raw, $0.baseAddress) }))
        return Reply(try FStatFSResponse.decode(out))
    }

    func readLinkAt(_ request: ReadLinkAtRequest) throws(Errno) -> Reply {
        let control = try lookupControl(request.fd)
        guard control.isSymlink else { throw Errno.invalidArgument }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let capacity = buffer.count
        let length = try Host.checkNegated(buffer.withUnsafeMutableBufferPointer {
            gofer_readlink_fd(control.fd.raw, $0.baseAddress, capacity)
        })
        return Reply(ReadLinkAtResponse(target: SizedString(bytes: buffer.prefix(length).map { UInt8(bitPattern: $0) })))
    }

    // MARK: Extended attributes

    /// An xattr name from the wire: non-empty, at most XATTR_NAME_MAX, no NUL (ERANGE as
    /// Linux answers an over-long name; EINVAL for NUL, which a C string cannot carry).
    func xattrName(_ bytes: [UInt8]) throws(Errno) -> HostName {
        guard bytes.count <= Self.xattrNameMax else { throw Errno.outOfRange }
        guard !bytes.contains(0) else { throw Errno.invalidArgument }
        return HostName(bytes: bytes)
    }

    func fgetXattr(_ request: FGetXattrRequest) throws(Errno) -> Reply {
        let bufferSize = Int(min(request.bufSize, UInt32(Self.xattrSizeMax - 1)))
        let name = try xattrName(request.name.bytes)
        let control = try lookupControl(request.fd)
        var value = [UInt8](repeating: 0, count: bufferSize)
        let link = HostName(bytes: Array(control.fd.procName.utf8))
        let length = try Host.checkNegated(value.withUnsafeMutableBytes { buffer in
            link.withCString { path in
                name.withCString {
                    gofer_getxattrat(server.procSelfFD.raw, path, 0, $0, buffer.baseAddress, bufferSize)
                }
            }
        })
        // With a zero-size buffer Linux reports the size only; the value bytes are zeros.
        let bytes = length <= value.count
            ? Array(value.prefix(length)) : [UInt8](repeating: 0, count: min(length, Int(UInt16.max)))
        return Reply(FGetXattrResponse(value: SizedString(bytes: bytes)))
    }

    /// Called after the read-only check (see `Connection.mutatingMessages`).
    func fsetXattr(_ request: FSetXattrRequest) throws(Errno) -> Reply {
        let flags = Int32(bitPattern: request.flags)
        let name = try xattrName(request.name.bytes)
        let value = request.value.bytes
        let control = try lookupControl(request.fd)
        let link = HostName(bytes: Array(control.fd.procName.utf8))
        _ = try Host.checkNegated(value.withUnsafeBytes { buffer in
            link.withCString { path in
                name.withCString {
                    gofer_setxattrat(server.procSelfFD.raw, path, 0, $0, buffer.baseAddress, buffer.count, flags)
                }
            }
        })
        return Reply(FSetXattrResponse())
    }

    func flistXattr(_ request: FListXattrRequest) throws(Errno) -> Reply {
        let size = Int(min(request.size, UInt64(Self.xattrSizeMax)))
        let control = try lookupControl(request.fd)
        var list = [CChar](repeating: 0, count: size)
        let link = HostName(bytes: Array(control.fd.procName.utf8))
        let length = try Host.checkNegated(list.withUnsafeMutableBufferPointer { buffer in
            link.withCString { gofer_listxattrat(server.procSelfFD.raw, $0, 0, buffer.baseAddress, size) }
        })
        var names: [[UInt8]] = []
        if length <= list.count {
            names = list.prefix(length).split(separator: 0).map { $0.map { UInt8(bitPattern: $0) } }
        }
        return Reply(FListXattrResponse(xattrs: names.prefix(Int(UInt16.max)).map { SizedString(bytes: $0) }))
    }

    /// Called after the read-only check (see `Connection.mutatingMessages`).
    func fremoveXattr(_ request: FRemoveXattrRequest) throws(Errno) -> Reply {
        let name = try xattrName(request.name.bytes)
        let control = try lookupControl(request.fd)
        let link = HostName(bytes: Array(control.fd.procName.utf8))
        _ = try Host.checkNegated(link.withCString { path in
            name.withCString { gofer_removexattrat(server.procSelfFD.raw, path, 0, $0) }
        })
        return Reply(FRemoveXattrResponse())
    }
}

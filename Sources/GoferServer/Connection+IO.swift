// Close, FSync, PRead, PWrite, FAllocate, Getdents64: the open-FD messages. Reads and
// writes loop until done or EOF (fsgofer uses ReadAt/WriteAt semantics). Sizes are bounded
// by the frame: a PRead whose answer would not fit gets ENOBUFS (as pkg/lisafs), a PWrite
// cannot claim more bytes than it carries (EIO), and a Getdents64 count is clamped so the
// answer fits.
import CGoferSupport
import Glibc
import LISAFS
import SystemPackage

extension Connection {
    func close(_ request: CloseRequest) -> Reply {
        for id in request.fds { remove(id) }
        return Reply(CloseResponse())
    }

    func fsync(_ request: FSyncRequest) throws(Errno) -> Reply {
        // The first error wins, but every FD is synced (fsgofer).
        var firstError: Errno?
        for id in request.fds {
            do throws(Errno) {
                let file = try lookupOpen(id)
                _ = try Host.check(Glibc.fsync(file.fd.raw))
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
        return Reply(FSyncResponse())
    }

    /// Called after the read-only check (see `Connection.mutatingMessages`). A count larger
    /// than the bytes carried does not decode (EIO).
    func pwrite(_ request: PWriteRequest) throws(Errno) -> Reply {
        let offset = request.offset
        let data = request.data
        let count = data.count
        let file = try lookupOpen(request.fd)
        guard file.writable else { throw Errno.badFileDescriptor }
        var written = 0
        let failure: Int32 = data.withUnsafeBytes { buffer in
            while written < count {
                let position = off_t(Int64(bitPattern: offset &+ UInt64(written)))
                let n = Glibc.pwrite(file.fd.raw, buffer.baseAddress?.advanced(by: written), count - written, position)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                if n == 0 { break }
                written += n
            }
            return 0
        }
        if failure != 0 { throw Errno(rawValue: failure) }
        return Reply(PWriteResponse(count: UInt64(written)))
    }

    func pread(_ request: PReadRequest) throws(Errno) -> Reply {
        let offset = request.offset
        let count = request.count
        let file = try lookupOpen(request.fd)
        guard file.readable else { throw Errno.badFileDescriptor }
        // The answer (header, count, data) must fit a frame: ENOBUFS as pkg/lisafs.
        guard UInt64(count) + 16 <= UInt64(options.maxMessageSize) else { throw Errno.noBufferSpace }
        var data = [UInt8](repeating: 0, count: Int(count))
        var got = 0
        let total = Int(count)
        let failure: Int32 = data.withUnsafeMutableBytes { buffer in
            while got < total {
                let position = off_t(Int64(bitPattern: offset &+ UInt64(got)))
                let n = Glibc.pread(file.fd.raw, buffer.baseAddress?.advanced(by: got), total - got, position)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                if n == 0 { break }
                got += n
            }
            return 0
        }
        if failure != 0 { throw Errno(rawValue: failure) }
        data.removeLast(total - got)
        return Reply(PReadResponse(data: data))
    }

    /// Called after the read-only check (see `Connection.mutatingMessages`).
    func fallocate(_ request: FAllocateRequest) throws(Errno) -> Reply {
        let mode = request.mode, offset = request.offset, length = request.length
        let file = try lookupOpen(request.fd)
        guard file.writable else { throw Errno.badFileDescriptor }
        _ = try Host.check(gofer_fallocate(
            file.fd.raw, Int32(truncatingIfNeeded: mode), Int64(bitPattern: offset), Int64(bitPattern: length)))
        return Reply(FAllocateResponse())
    }

    func getdents64(_ request: Getdents64Request) throws(Errno) -> Reply {
        let requested = request.count
        let file = try lookupOpen(request.dirFD)
        guard file.control.isDirectory else { throw Errno.notDirectory }
        // A negative count means "seek to 0 first"; magnitude avoids overflow at Int32.min.
        if requested < 0 {
            _ = try Host.check(Int32(truncatingIfNeeded: Glibc.lseek(file.fd.raw, 0, SEEK_SET)))
        }
        // Each wire dirent is at most 8 bytes longer than the host record it came from, so half
        // the frame of host bytes always fits in one response.
        let limit = min(Int(requested.magnitude), Int(options.maxMessageSize) / 2)

        var dirents: [Dirent64] = []
        var count: UInt16 = 0
        var consumed = 0
        var buffer = [UInt8](repeating: 0, count: 8192)
        reading: while consumed < limit && count < UInt16.max {
            let chunk = min(buffer.count, limit - consumed)
            let n = buffer.withUnsafeMutableBytes { gofer_getdents64(file.fd.raw, $0.baseAddress, chunk) }
            if n < 0 {
                // getdents64 says EINVAL when even one record does not fit the buffer.
                if n == -Int(EINVAL) && chunk < 280 { break }
                throw Errno(rawValue: Int32(truncatingIfNeeded: -n))
            }
            if n == 0 { break }
            var position = 0
            while position + 19 <= n {
                // A host linux_dirent64 record: d_ino u64, d_off i64, d_reclen u16, d_type u8, name.
                var record = WireReader(Array(buffer[position..<(position + 19)]))
                let inode = try record.readUInt64()
                let offset = try record.readUInt64()
                let recordLength = Int(try record.readUInt16())
                let type = try record.readUInt8()
                guard recordLength >= 19, position + recordLength <= n else { break reading }
                let nameBytes = buffer[(position + 19)..<(position + recordLength)].prefix { $0 != 0 }
                position += recordLength
                let name = Array(nameBytes)
                if name == [0x2E] || name == [0x2E, 0x2E] { continue }
                // The device needs a stat per entry (fsgofer does the same); an entry that
                // vanished in between is skipped.
                guard let stat = try? Host.statx(file.fd.raw, HostName(bytes: name), AT_SYMLINK_NOFOLLOW)
                else { continue }
                dirents.append(
                    Dirent64(
                        ino: inode, devMinor: stat.devMinor, devMajor: stat.devMajor, off: offset,
                        type: type, name: SizedString(bytes: name)))
                count += 1
                consumed += recordLength
                if count == UInt16.max { break reading }
            }
        }
        return Reply(Getdents64Response(dirents: dirents))
    }
}

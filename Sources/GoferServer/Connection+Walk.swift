// Walk and WalkStat: one RPC resolves many components. Each step is
// openat(dir, name, O_PATH|O_NOFOLLOW) on the previous step's fd, so a host symlink is
// never followed and no step can leave the tree (names are single components, checked
// before use). A walk stops at the first missing component (status 1) or after a symlink
// (status 2; the symlink's own inode is included). On any other error the FDs this walk
// created are dropped again: an Error response has no side effects.
import Glibc
import LISAFS
import SystemPackage

extension Connection {
    /// Upper bound on components per Walk/WalkStat so the response fits a frame
    /// (3 + 152 per inode for Walk); larger requests get EIO, fsgofer's "too much to walk".
    var maxWalkComponents: Int { (Int(options.maxMessageSize) - 3) / 152 }

    /// One step: open `name` under `dir` without following it, stat it, and refuse file
    /// types fsgofer does not serve (block devices: EPERM).
    func step(from dir: HostFD, _ name: HostName) throws(Errno) -> (HostFD, LISAFSStatx, FileType) {
        let child = try Host.openAt(dir.raw, name, O_PATH)
        let stat = try Host.statx(child.raw)
        guard let type = FileType.of(mode: stat.mode), type != .blockDevice else { throw Errno.notPermitted }
        return (child, stat, type)
    }

    func walk(_ request: WalkRequest) throws(Errno) -> Reply {
        let path = request.path
        guard path.count <= maxWalkComponents else { throw Errno.ioError }
        let start = try lookupControl(request.dirFD)
        guard start.isDirectory else { throw Errno.notDirectory }

        var status = WalkStatus.success
        var created: [FDID] = []
        var inodes: [LISAFS.Inode] = []
        var current = start
        do throws(Errno) {
            for component in path {
                let name = try validatedName(component.bytes)
                if current.isSymlink {
                    status = .componentSymlink
                    break
                }
                let child: HostFD, stat: LISAFSStatx, type: FileType
                do throws(Errno) {
                    (child, stat, type) = try step(from: current.fd, name)
                } catch where error == .noSuchFileOrDirectory {
                    status = .componentDoesNotExist
                    break
                }
                let file = ControlFile(fd: child, type: type)
                let id = try insert(.control(file))
                created.append(id)
                inodes.append(LISAFS.Inode(controlFD: id, stat: stat))
                current = file
            }
        } catch {
            for id in created { remove(id) }
            throw error
        }
        return Reply(WalkResponse(status: status, inodes: inodes))
    }

    func walkStat(_ request: WalkStatRequest) throws(Errno) -> Reply {
        let path = request.path
        guard path.count <= (Int(options.maxMessageSize) - 2) / 144 else { throw Errno.ioError }
        let start = try lookupControl(request.dirFD)
        // A non-directory start is fine when the only component is "" (stat self).
        if !start.isDirectory && (path.count > 1 || (path.count == 1 && !path[0].isEmpty)) {
            throw Errno.notDirectory
        }
        var names: [HostName] = []
        for (index, component) in path.enumerated() {
            if index == 0 && component.isEmpty { continue }
            names.append(try validatedName(component.bytes))
        }

        var stats: [LISAFSStatx] = []
        if let first = path.first, first.isEmpty {
            stats.append(try Host.statx(start.fd.raw))
        }
        if !start.isSymlink {
            var current = start.fd
            for name in names {
                let child: HostFD, stat: LISAFSStatx, type: FileType
                do throws(Errno) {
                    (child, stat, type) = try step(from: current, name)
                } catch where error == .noSuchFileOrDirectory {
                    break
                }
                stats.append(stat)
                current = child
                if type == .symlink { break }
            }
        }
        return Reply(WalkStatResponse(stats: stats))
    }
}

// UnlinkAt, RenameAt and RenameAt2: directory-entry changes, each one *at syscall on two
// validated names relative to control FDs (never a path).
import CGoferSupport
import Glibc
import LISAFS
import SystemPackage

extension Connection {
    /// Called after the read-only check (see `Connection.mutatingMessages`).
    func unlinkAt(_ request: UnlinkAtRequest) throws(Errno) -> Reply {
        let flags = Int32(bitPattern: request.flags)
        let name = try validatedName(request.name.bytes)
        let dir = try createParent(request.dirFD)
        _ = try Host.check(name.withCString { Glibc.unlinkat(dir.fd.raw, $0, flags) })
        return Reply(UnlinkAtResponse())
    }

    /// RenameAt and RenameAt2 (flags 0 for RenameAt); `response` is the message's empty answer.
    /// Called after the read-only check (see `Connection.mutatingMessages`).
    func renameAt(
        _ oldDirID: FDID, _ oldNameBytes: SizedString, _ newDirID: FDID, _ newNameBytes: SizedString,
        flags: UInt32, response: any ResponseMessage
    ) throws(Errno) -> Reply {
        let oldName = try validatedName(oldNameBytes.bytes)
        let newName = try validatedName(newNameBytes.bytes)
        let oldDir = try lookupControl(oldDirID)
        let newDir = try lookupControl(newDirID)
        guard oldDir.isDirectory && newDir.isDirectory else { throw Errno.notDirectory }
        // Same directory and same name: nothing to do (fsgofer answers before the kernel).
        if oldName.bytes == newName.bytes, try sameFile(oldDir.fd, newDir.fd) { return Reply(response) }
        _ = try Host.check(oldName.withCString { oldPointer in
            newName.withCString { gofer_renameat2(oldDir.fd.raw, oldPointer, newDir.fd.raw, $0, flags) }
        })
        return Reply(response)
    }

    private func sameFile(_ a: HostFD, _ b: HostFD) throws(Errno) -> Bool {
        if a.raw == b.raw { return true }
        let first = try Host.statx(a.raw), second = try Host.statx(b.raw)
        return first.ino == second.ino && first.devMajor == second.devMajor && first.devMinor == second.devMinor
    }
}

import TmpfsBackend
import Testing
import VFSCore

/// Who may change what: sticky and set-group-ID directories, chmod/chown by owners and
/// strangers, set-ID bits cleared by chown and by writes, utimes, CAP_FOWNER/CAP_FSETID. The
/// values were observed on Linux 6.18 tmpfs as uid 1000, gid 1000, groups [2000] (see
/// `PermissionTree`).
@Suite struct OwnershipPermissionTests {
    let tree = PermissionTree()
    var ctx: FSContext { tree.ctx }

    init() throws {
        try tree.directory("/sticky", mode: 0o1777)
        try tree.file("/sticky/theirs", mode: 0o644, uid: 1001, gid: 1001)
        try tree.file("/sticky/theirs2", mode: 0o644, uid: 1001, gid: 1001)
        try tree.file("/sticky/mine", mode: 0o644, uid: 1000, gid: 1000)
        try tree.directory("/mysticky", mode: 0o1777, uid: 1000, gid: 1000)
        try tree.file("/mysticky/theirs", mode: 0o644, uid: 1001, gid: 1001)
        try tree.directory("/sgid", mode: 0o2777, gid: 2000)
        try tree.file("/rootfile", mode: 0o644)
        try tree.file("/world", mode: 0o666)
        try tree.file("/own", mode: 0o644, uid: 1000, gid: 1000)
        try tree.file("/own3000", mode: 0o755, uid: 1000, gid: 3000)
        try tree.file("/suid", mode: 0o6755, uid: 1000, gid: 1000)
        try tree.file("/sgidnox", mode: 0o2745, uid: 1000, gid: 1000)
        try tree.file("/sgidnox3000", mode: 0o2745, uid: 1000, gid: 3000)
        try tree.file("/wsuid", mode: 0o6777)
        try tree.file("/wsgidnox", mode: 0o2666)
        try tree.file("/wsgidnoxgrp", mode: 0o2666, gid: 2000)
        try tree.file("/wsgidx", mode: 0o2676)
        try tree.file("/rootsuid", mode: 0o4755)
        try tree.file("/suidsgidnox", mode: 0o6745, uid: 1000, gid: 1000)
    }

    private func becomeUser(_ capabilities: Capabilities = []) {
        ctx.credentials = CoreTestWorld.user(with: capabilities)
    }

    /// Opens `path` for writing and writes one byte as the current credentials.
    private func writeOneByte(_ path: String) throws {
        let file = try ctx.open(path, flags: OpenOptions.writeOnly)
        try CoreTestWorld.write(file, [0x78], as: ctx.credentials)
    }

    // MARK: - Sticky directories

    @Test func stickyDirectoryRefusesUnlinkingAnotherUsersFile() {
        becomeUser()
        #expect(throws: Errno.notPermitted) { try ctx.unlink("/sticky/theirs") }
    }

    @Test func stickyDirectoryRefusesRenamingAnotherUsersFile() {
        becomeUser()
        #expect(throws: Errno.notPermitted) { try ctx.rename("/sticky/theirs", to: "/sticky/x") }
    }

    @Test func stickyDirectoryRefusesRenamingOverAnotherUsersFile() {
        becomeUser()
        #expect(throws: Errno.notPermitted) { try ctx.rename("/sticky/mine", to: "/sticky/theirs2") }
    }

    @Test func stickyDirectoryLetsTheFileOwnerUnlink() throws {
        becomeUser()
        try ctx.unlink("/sticky/mine")
    }

    @Test func stickyDirectoryLetsTheDirectoryOwnerUnlink() throws {
        becomeUser()
        try ctx.unlink("/mysticky/theirs")
    }

    @Test func fownerOverridesTheStickyRule() throws {
        becomeUser(.fowner)
        try ctx.unlink("/sticky/theirs")
    }

    // MARK: - Set-group-ID directories

    @Test func newFileInASetGroupIDDirectoryTakesItsGroup() throws {
        becomeUser()
        try ctx.writeFile("/sgid/nf", contents: [])
        let stat = try ctx.stat("/sgid/nf")
        #expect(stat.gid == 2000)
        #expect(stat.mode.permissions == 0o644)
    }

    @Test func newDirectoryInASetGroupIDDirectoryInheritsTheBit() throws {
        becomeUser()
        try ctx.makeDirectory("/sgid/nd")
        let stat = try ctx.stat("/sgid/nd")
        #expect(stat.gid == 2000)
        #expect(stat.mode.permissions == 0o2755)
    }

    // MARK: - chmod

    @Test func chmodByANonOwnerIsEPERM() {
        becomeUser()
        #expect(throws: Errno.notPermitted) { try ctx.changeMode("/rootfile", 0o777) }
    }

    @Test func chmodSetGroupIDByANonMemberDropsTheBit() throws {
        becomeUser()
        try ctx.changeMode("/own3000", 0o2755)
        #expect(try tree.mode("/own3000") == 0o755)
    }

    @Test func chmodSetGroupIDByAMemberKeepsTheBit() throws {
        becomeUser()
        try ctx.changeMode("/own", 0o2644)
        #expect(try tree.mode("/own") == 0o2644)
    }

    @Test func fsetidKeepsSetGroupIDOnChmodByANonMember() throws {
        becomeUser(.fsetid)
        try ctx.changeMode("/own3000", 0o2755)
        #expect(try tree.mode("/own3000") == 0o2755)
    }

    // MARK: - chown

    @Test func chownToAnotherUIDWithoutCapabilityIsEPERM() {
        becomeUser()
        #expect(throws: Errno.notPermitted) { try ctx.changeOwner("/own", uid: 1001, gid: nil) }
    }

    @Test func chownToYourOwnUIDWorks() throws {
        becomeUser()
        try ctx.changeOwner("/own", uid: 1000, gid: nil)
    }

    @Test func chgrpToAGroupYouAreInWorks() throws {
        becomeUser()
        try ctx.changeOwner("/own", uid: nil, gid: 2000)
        #expect(try ctx.stat("/own").gid == 2000)
    }

    @Test func chgrpToAGroupYouAreNotInIsEPERM() {
        becomeUser()
        #expect(throws: Errno.notPermitted) { try ctx.changeOwner("/own", uid: nil, gid: 3000) }
    }

    @Test func chownWithNoChangeClearsSetUserID() throws {
        becomeUser()
        try ctx.changeOwner("/suid", uid: nil, gid: nil)
        #expect(try tree.mode("/suid") == 0o755)
    }

    @Test func chownWithNoChangeKeepsNonExecutableSetGroupIDForAMember() throws {
        becomeUser()
        try ctx.changeOwner("/sgidnox", uid: nil, gid: nil)
        #expect(try tree.mode("/sgidnox") == 0o2745)
    }

    @Test func chownWithNoChangeClearsNonExecutableSetGroupIDForANonMember() throws {
        becomeUser()
        try ctx.changeOwner("/sgidnox3000", uid: nil, gid: nil)
        // Linux 6.18 (setattr_should_drop_sgid): the caller is not in group 3000.
        #expect(try tree.mode("/sgidnox3000") == 0o745)
    }

    @Test func chgrpAwayFromANonMemberGroupClearsNonExecutableSetGroupID() throws {
        becomeUser()
        try ctx.changeOwner("/sgidnox3000", uid: nil, gid: 2000)
        // Linux 6.18: 02745 1000:3000 chgrp'd to 2000 by uid 1000 becomes 0745.
        #expect(try tree.mode("/sgidnox3000") == 0o745)
    }

    @Test func chgrpWithChownCapabilityKeepsNonExecutableSetGroupIDOfAMember() throws {
        becomeUser(.chown)
        try ctx.changeOwner("/sgidnox", uid: nil, gid: 3000)
        #expect(try tree.mode("/sgidnox") == 0o2745)
    }

    @Test func chgrpThatClearsSetUserIDAlsoChecksTheNewGroupForSetGroupID() throws {
        becomeUser(.chown)
        try ctx.changeOwner("/suidsgidnox", uid: nil, gid: 3000)
        // Linux 6.18: 06745 chgrp'd to 3000 (not a member) with CAP_CHOWN becomes 0745.
        #expect(try tree.mode("/suidsgidnox") == 0o745)
    }

    @Test func chownOfAnotherUsersSetUserIDFileNeedsOwnershipEvenWithChownCapability() throws {
        becomeUser(.chown)
        // Linux 6.18: clearing S_ISUID is a mode change, which only the owner or CAP_FOWNER
        // may make: EPERM, and nothing changes.
        #expect(throws: Errno.notPermitted) { try ctx.changeOwner("/rootsuid", uid: 1000, gid: nil) }
        #expect(try ctx.stat("/rootsuid").uid == 0)
        #expect(try tree.mode("/rootsuid") == 0o4755)
    }

    @Test func chownOfAnotherUsersPlainFileWithChownCapabilityWorks() throws {
        becomeUser(.chown)
        try ctx.changeOwner("/rootfile", uid: 1000, gid: nil)
        #expect(try ctx.stat("/rootfile").uid == 1000)
    }

    // MARK: - Writes clear set-ID bits

    @Test func writeClearsSetUserIDAndExecutableSetGroupID() throws {
        becomeUser()
        try writeOneByte("/wsuid")
        #expect(try tree.mode("/wsuid") == 0o777)
        try writeOneByte("/wsgidx")
        #expect(try tree.mode("/wsgidx") == 0o676)
    }

    @Test func writeByANonMemberClearsNonExecutableSetGroupID() throws {
        becomeUser()
        try writeOneByte("/wsgidnox")
        // Linux 6.18: 02666 root:root written by uid 1000 becomes 0666.
        #expect(try tree.mode("/wsgidnox") == 0o666)
    }

    @Test func writeByAMemberKeepsNonExecutableSetGroupID() throws {
        becomeUser()
        try writeOneByte("/wsgidnoxgrp")
        #expect(try tree.mode("/wsgidnoxgrp") == 0o2666)
    }

    @Test func fsetidKeepsSetIDBitsOnWrite() throws {
        becomeUser(.fsetid)
        try writeOneByte("/wsuid")
        #expect(try tree.mode("/wsuid") == 0o6777)
    }

    @Test func truncateClearsSetIDBits() throws {
        becomeUser()
        try ctx.truncate("/wsuid", size: 0)
        try ctx.truncate("/wsgidnox", size: 0)
        // Linux 6.18: truncate(2) by uid 1000 of 06777 and 02666 root files: 0777 and 0666.
        #expect(try tree.mode("/wsuid") == 0o777)
        #expect(try tree.mode("/wsgidnox") == 0o666)
    }

    // MARK: - utimes

    @Test func touchingWithWritePermissionWorks() throws {
        becomeUser()
        try ctx.setTimes("/world", access: .now, modification: .now)
    }

    @Test func explicitTimesNeedOwnership() {
        becomeUser()
        let t = Timespec(seconds: 1, nanoseconds: 0)
        #expect(throws: Errno.notPermitted) {
            try ctx.setTimes("/world", access: .set(t), modification: .set(t))
        }
    }

    @Test func touchingWithoutWritePermissionIsEACCES() {
        becomeUser()
        #expect(throws: Errno.permissionDenied) {
            try ctx.setTimes("/rootfile", access: .now, modification: .now)
        }
    }

    @Test func ownerMaySetExplicitTimes() throws {
        becomeUser()
        let t = Timespec(seconds: 1, nanoseconds: 0)
        try ctx.setTimes("/own", access: .set(t), modification: .set(t))
        #expect(try ctx.stat("/own").modificationTime == t)
    }
}

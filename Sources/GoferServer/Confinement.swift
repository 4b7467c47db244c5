// The gofer's self-confinement, applied once before serving (see ConfinementPolicy.swift for
// what is kept and why). Order matters:
//   1. open /proc/self/fd (the server reopens O_PATH fds through it) while /proc is reachable;
//   2. enterRoot: own mount namespace, every mount private, the served directory bind-mounted
//      onto itself (read-only when serving read-only) and pivot_root'ed into, the old root
//      detached — afterwards no host path outside the served tree names anything;
//   3. capabilities cut to the serving set (libcap), bounding set too;
//   4. PR_SET_NO_NEW_PRIVS (required to load seccomp without CAP_SYS_ADMIN, and no exec can
//      regain privileges);
//   5. the libseccomp allow-list; any other syscall kills the process.
import CGoferSupport
import Glibc
import SystemPackage

/// Why confinement stopped.
public struct ConfinementError: Error, CustomStringConvertible, Sendable {
    public var step: String
    public var errno: Errno
    public var description: String { "gofer confinement failed at \(step): \(errno)" }
}

/// What confinement did.
public struct ConfinementReport: Sendable {
    /// True when pivot_root was impossible and chroot was used instead.
    public var usedChroot: Bool
    /// The /proc/self/fd directory fd opened before the pivot (hand it to GoferServer).
    public var procSelfFD: Int32
    /// The served root as an O_PATH fd, opened after the pivot ("/").
    public var rootPath: String
}

public enum Confinement {
    /// Confines the calling process to `root` (see the file comment). Call it while the
    /// process has one thread; the served root becomes "/".
    public static func confine(
        root: String, readOnly: Bool, allowChroot: Bool = true,
        seccompDenial: SeccompDenial = .killProcess
    ) throws(ConfinementError) -> ConfinementReport {
        let procSelfFD = Glibc.open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if procSelfFD < 0 { throw ConfinementError(step: "open /proc/self/fd", errno: Errno(rawValue: errno)) }
        var usedChroot: Int32 = 0
        var failedStep: Int32 = 0
        let entered = gofer_enter_root(root, allowChroot ? 1 : 0, &usedChroot, &failedStep)
        if entered != 0 {
            throw ConfinementError(step: stepName(failedStep), errno: Errno(rawValue: -entered))
        }
        if readOnly {
            // Defence in depth: the kernel refuses writes even if a handler forgot EROFS.
            let flags = UInt(MS_BIND | MS_REMOUNT | MS_RDONLY)
            if Glibc.mount(nil, "/", nil, flags, nil) != 0 {
                throw ConfinementError(step: "remount read-only", errno: Errno(rawValue: errno))
            }
        }
        try restrict(seccompDenial: seccompDenial)
        return ConfinementReport(usedChroot: usedChroot != 0, procSelfFD: procSelfFD, rootPath: "/")
    }

    /// Steps 3–5 alone (capabilities, no_new_privs, seccomp), for a process already rooted.
    public static func restrict(seccompDenial: SeccompDenial = .killProcess) throws(ConfinementError) {
        let caps = ConfinementPolicy.capabilities.map { Int32($0.number) }
        let limited = caps.withUnsafeBufferPointer { gofer_limit_capabilities($0.baseAddress, Int32($0.count)) }
        if limited != 0 { throw ConfinementError(step: "capabilities", errno: Errno(rawValue: -limited)) }
        let noNewPrivs = gofer_set_no_new_privs()
        if noNewPrivs != 0 { throw ConfinementError(step: "no_new_privs", errno: Errno(rawValue: -noNewPrivs)) }
        let names = ConfinementPolicy.syscalls.map { strdup($0.name) }
        defer { names.forEach { free($0) } }
        let pointers = names.map { UnsafePointer($0) }
        let denyErrno: Int32
        switch seccompDenial {
        case .killProcess: denyErrno = 0
        case .errno(let error): denyErrno = error.rawValue
        }
        let loaded = pointers.withUnsafeBufferPointer {
            gofer_install_seccomp($0.baseAddress, Int32($0.count), denyErrno)
        }
        if loaded != 0 { throw ConfinementError(step: "seccomp", errno: Errno(rawValue: -loaded)) }
    }

    /// The effective capability set now, as a bit mask (bit n = CAP number n).
    public static func effectiveCapabilities() -> UInt64? {
        var mask: UInt64 = 0
        return gofer_effective_capabilities(&mask) == 0 ? mask : nil
    }

    private static func stepName(_ step: Int32) -> String {
        switch UInt32(step) {
        case GOFER_STEP_UNSHARE.rawValue: "unshare(CLONE_NEWNS)"
        case GOFER_STEP_PRIVATE.rawValue: "make mounts private"
        case GOFER_STEP_BIND.rawValue: "bind-mount the root onto itself"
        case GOFER_STEP_CHDIR.rawValue: "chdir"
        case GOFER_STEP_PIVOT.rawValue: "pivot_root"
        case GOFER_STEP_DETACH.rawValue: "detach the old root"
        case GOFER_STEP_CHROOT.rawValue: "chroot"
        default: "step \(step)"
        }
    }
}

/// What a syscall outside the allow-list gets.
public enum SeccompDenial: Sendable {
    /// SECCOMP_RET_KILL_PROCESS: the whole gofer dies with SIGSYS (the default).
    case killProcess
    /// The call fails with this errno (for diagnosis).
    case errno(Errno)
}

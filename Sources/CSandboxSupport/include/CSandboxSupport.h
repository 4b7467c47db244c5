// The post-fork side of `vfs run` and the seccomp user-notification calls, in C because
// Swift cannot run safely between fork and execve (no allocation, no locks, no runtime) and
// cannot express the seccomp ioctls' structs and request numbers.
#ifndef VFSKIT_CSANDBOXSUPPORT_H
#define VFSKIT_CSANDBOXSUPPORT_H

#include <stdint.h>
#include <sys/types.h>

/// A seccomp notification, flattened: the request id, the calling thread's id (in the
/// supervisor's pid namespace), the syscall number and its six raw arguments.
struct vfs_notification {
    uint64_t id;
    int32_t pid;
    int32_t nr;
    uint32_t arch;
    uint64_t args[6];
};

/// Builds, in the calling (parent) process, the BPF program that sends `count` syscall numbers
/// to the listener (SECCOMP_RET_USER_NOTIF) and allows every other syscall, using libseccomp.
/// `trap_file_mmap` also sends mmap when its flags lack MAP_ANONYMOUS (an argument comparison
/// in the filter, so anonymous mappings never stop).
/// Returns an opaque filter (free with `vfs_sandbox_filter_free`) or NULL with errno set.
void *vfs_sandbox_filter_create(const int32_t *syscalls, int count, int trap_file_mmap);
void vfs_sandbox_filter_free(void *filter);

/// fork + (child: CPU pin, setgroups/setresgid/setresuid when uid/gid >= 0, default signal
/// dispositions, PR_SET_NO_NEW_PRIVS, the filter loaded with SECCOMP_FILTER_FLAG_NEW_LISTENER,
/// the listener sent to the parent over a socketpair with SCM_RIGHTS, execvp). Only
/// async-signal-safe calls run in the child. `cpu` < 0 leaves the affinity alone.
/// Returns the child's pid and stores the listener fd in `*listener`; -1 with errno on failure.
/// If the child cannot start the program it prints `vfs run: PROGRAM: reason` and exits
/// 127 (not found) or 126 (other exec failures), as shells do; 125 for a setup failure.
pid_t vfs_sandbox_spawn(const char *program, char *const argv[], const void *filter, int uid,
                        int gid, int cpu, int *listener);

/// posix_spawn of `path` (a helper such as `vfs gofer`) with `source` duplicated onto `target`
/// and every descriptor above `target` closed (the child keeps 0–2 and `target` only; dup2 of a
/// different number clears close-on-exec, so `source` must differ from `target`). Returns the
/// child's pid, or -1 with errno.
pid_t vfs_spawn_with_fd(const char *path, char *const argv[], int source, int target);

/// Pins the calling thread to `cpu` (sched_setaffinity). 0 or -1 with errno.
int vfs_pin_to_cpu(int cpu);
/// The first CPU in the calling thread's affinity mask, or -1.
int vfs_first_allowed_cpu(void);

/// SECCOMP_IOCTL_NOTIF_RECV. 0, or -errno.
int vfs_notif_receive(int listener, struct vfs_notification *out);
/// SECCOMP_IOCTL_NOTIF_SEND: `error` is 0 (then `value` is the result) or a negative errno;
/// `continue_call` sends SECCOMP_USER_NOTIF_FLAG_CONTINUE instead. 0, or -errno.
int vfs_notif_respond(int listener, uint64_t id, int64_t value, int32_t error, int continue_call);
/// SECCOMP_IOCTL_NOTIF_ID_VALID: 1 when the request is still pending (the process has not
/// died or been interrupted), else 0.
int vfs_notif_id_valid(int listener, uint64_t id);
/// SECCOMP_IOCTL_NOTIF_ADDFD: installs a copy of our `source` fd in the target, at `target`
/// (SECCOMP_ADDFD_FLAG_SETFD, replacing what is there) or at the lowest free number when
/// `target` < 0, close-on-exec when `cloexec`. Returns the number, or -errno.
int vfs_notif_add_fd(int listener, uint64_t id, int source, int target, int cloexec);

/// memfd_create(2) with close-on-exec, sealing allowed and (where the kernel knows it)
/// MFD_EXEC. The fd, or -errno.
int vfs_memfd_create(const char *name);
/// Seals a memfd against every change (F_SEAL_SHRINK|GROW|WRITE|SEAL). 0, or -errno.
int vfs_memfd_seal(int fd);

/// pidfd_open(2); `thread` adds PIDFD_THREAD. The fd, or -errno.
int vfs_pidfd_open(pid_t pid, int thread);
/// pidfd_getfd(2): a copy (close-on-exec) of the process's descriptor `fd`, sharing its open
/// file description. The fd, or -errno (EBADF: no such descriptor; EPERM: no ptrace access).
int vfs_pidfd_getfd(int pidfd, int fd);
/// waitpid(2) for `pid`: the exit code as a shell reports it (the status, or 128+signal).
/// Returns -1 (errno set) on failure, -2 when `nohang` and the child has not exited.
int vfs_wait_exit_code(pid_t pid, int nohang);

#endif

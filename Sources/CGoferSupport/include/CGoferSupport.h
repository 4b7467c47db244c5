// The gofer server's C side: the confinement steps (mount namespace + pivot_root, libcap,
// no_new_privs, a libseccomp allow-list) and the host calls Swift cannot express (raw
// syscalls newer than Glibc 2.36, calls Glibc declares only under _GNU_SOURCE). Frames go
// through LISAFS's Communicator, in Swift.
// Every function returns 0 (or a count) on success and -errno on failure: no errno global
// crosses into Swift.
#ifndef VFSKIT_CGOFERSUPPORT_H
#define VFSKIT_CGOFERSUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// Confinement step reached when `gofer_enter_root` failed (for the error message).
enum gofer_root_step {
    GOFER_STEP_UNSHARE = 1,
    GOFER_STEP_PRIVATE = 2,
    GOFER_STEP_BIND = 3,
    GOFER_STEP_CHDIR = 4,
    GOFER_STEP_PIVOT = 5,
    GOFER_STEP_DETACH = 6,
    GOFER_STEP_CHROOT = 7,
};

/// Unshares a mount namespace, makes every mount in it private, bind-mounts `root` onto
/// itself and pivots into it (the old root is detached, so nothing of the host tree stays
/// reachable by path). When pivot_root fails and `allow_chroot` is set, chroots instead and
/// sets `*used_chroot`. On failure `*failed_step` names the step.
int gofer_enter_root(const char *root, int allow_chroot, int *used_chroot, int *failed_step);

/// Reduces the calling process's capabilities (permitted, effective; inheritable and ambient
/// cleared; bounding set reduced) to exactly `caps[0..<count]` (CAP_* numbers).
int gofer_limit_capabilities(const int *caps, int count);

/// Reads back the effective capability set as a bit mask (bit n = capability n).
int gofer_effective_capabilities(uint64_t *mask);

/// unshare(CLONE_NEWNS): a syscall the confined gofer must not be able to make (the
/// confinement test's probe). Returns 0 or -errno — if the filter works it never returns.
int gofer_probe_forbidden_syscall(void);

/// unshare(CLONE_FS) then umask(0): the calling thread gets its own umask (and working
/// directory), so files it creates get exactly the mode asked for. Returns 0 or -errno.
int gofer_private_fs_with_zero_umask(void);

/// prctl(PR_SET_NO_NEW_PRIVS, 1).
int gofer_set_no_new_privs(void);

/// Loads a seccomp filter allowing exactly the named syscalls; everything else gets
/// `deny_errno` (if > 0) or kills the process (if 0). Unknown names give -EINVAL; a name of the
/// form "name#N" is taken as x86-64 syscall number N (for calls libseccomp does not know).
int gofer_install_seccomp(const char *const *names, int count, int deny_errno);

/// fchmodat2(fd, "", mode, AT_EMPTY_PATH): chmod through an O_PATH fd (Linux >= 6.6).
int gofer_fchmod_path_fd(int fd, unsigned int mode);

/// getdents64(2) into `buffer`; returns the byte count or -errno.
long gofer_getdents64(int fd, void *buffer, size_t length);

/// statx(dirfd, path, flags, BASIC_STATS|BTIME) written in LISAFS's 144-byte Statx layout
/// (the first 144 bytes of struct statx, little-endian) with `attributes`,
/// `attributes_mask` and every padding byte zeroed, as fsgofer sends them.
int gofer_statx_wire(int dirfd, const char *path, int flags, unsigned char out[144]);

/// fstatfs(fd) written as LISAFS's 64-byte StatFS: type, bsize, blocks, bfree, bavail, files,
/// ffree, namelen (all 8 bytes, little-endian).
int gofer_fstatfs_wire(int fd, unsigned char out[64]);

/// readlinkat(fd, "", buffer, size): the target of the symlink an O_PATH fd holds.
long gofer_readlink_fd(int fd, char *buffer, size_t size);

/// fallocate(2) and renameat2(2), which Glibc declares only under _GNU_SOURCE; -1/errno
/// convention like the libc calls.
int gofer_accept4(int sock, int flags);
int gofer_fallocate(int fd, int mode, int64_t offset, int64_t length);
int gofer_renameat2(int olddir, const char *oldname, int newdir, const char *newname, unsigned int flags);

/// The *xattrat family (Linux >= 6.13) relative to `dirfd` (flags as for the syscalls).
/// Return the byte count (get/list) or 0, or -errno.
long gofer_getxattrat(int dirfd, const char *path, int flags, const char *name, void *value, size_t size);
long gofer_setxattrat(int dirfd, const char *path, int flags, const char *name, const void *value, size_t size, int xflags);
long gofer_listxattrat(int dirfd, const char *path, int flags, char *list, size_t size);
long gofer_removexattrat(int dirfd, const char *path, int flags, const char *name);

#endif

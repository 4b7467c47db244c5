#define _GNU_SOURCE
#include "CGoferSupport.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int gofer_enter_root(const char *root, int allow_chroot, int *used_chroot, int *failed_step) {
    *used_chroot = 0;
    if (unshare(CLONE_NEWNS) != 0) { *failed_step = GOFER_STEP_UNSHARE; return -errno; }
    // Nothing done below may propagate back to the host's mount namespace.
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        *failed_step = GOFER_STEP_PRIVATE; return -errno;
    }
    // pivot_root needs the new root to be a mount point.
    if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) != 0) {
        *failed_step = GOFER_STEP_BIND; return -errno;
    }
    if (chdir(root) != 0) { *failed_step = GOFER_STEP_CHDIR; return -errno; }
    // pivot_root(".", "."): the old root is stacked under the new one at "/", then detached.
    if (syscall(SYS_pivot_root, ".", ".") == 0) {
        if (umount2(".", MNT_DETACH) != 0) { *failed_step = GOFER_STEP_DETACH; return -errno; }
        if (chdir("/") != 0) { *failed_step = GOFER_STEP_CHDIR; return -errno; }
        return 0;
    }
    int pivot_errno = errno;
    if (!allow_chroot) { *failed_step = GOFER_STEP_PIVOT; return -pivot_errno; }
    if (chroot(".") != 0) { *failed_step = GOFER_STEP_CHROOT; return -errno; }
    if (chdir("/") != 0) { *failed_step = GOFER_STEP_CHDIR; return -errno; }
    *used_chroot = 1;
    return 0;
}

int gofer_limit_capabilities(const int *caps, int count) {
    // Bounding set first (needs CAP_SETPCAP, which is dropped by cap_set_proc below).
    for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
        int keep = 0;
        for (int i = 0; i < count; i++) if (caps[i] == cap) keep = 1;
        if (!keep && CAP_IS_SUPPORTED(cap) && cap_drop_bound((cap_value_t)cap) != 0) return -errno;
    }
    if (cap_reset_ambient() != 0 && errno != EINVAL) return -errno;
    cap_t state = cap_init(); // all three sets empty
    if (state == NULL) return -errno;
    cap_value_t values[64];
    if (count < 0 || count > 64) { cap_free(state); return -EINVAL; }
    for (int i = 0; i < count; i++) values[i] = (cap_value_t)caps[i];
    int result = 0;
    if (count > 0 && (cap_set_flag(state, CAP_PERMITTED, count, values, CAP_SET) != 0 ||
                      cap_set_flag(state, CAP_EFFECTIVE, count, values, CAP_SET) != 0)) {
        result = -errno;
    } else if (cap_set_proc(state) != 0) {
        result = -errno;
    }
    cap_free(state);
    return result;
}

int gofer_effective_capabilities(uint64_t *mask) {
    cap_t state = cap_get_proc();
    if (state == NULL) return -errno;
    uint64_t bits = 0;
    for (int cap = 0; cap <= CAP_LAST_CAP && cap < 64; cap++) {
        cap_flag_value_t value = CAP_CLEAR;
        if (cap_get_flag(state, (cap_value_t)cap, CAP_EFFECTIVE, &value) == 0 && value == CAP_SET)
            bits |= (uint64_t)1 << cap;
    }
    cap_free(state);
    *mask = bits;
    return 0;
}

int gofer_probe_forbidden_syscall(void) {
    return unshare(CLONE_NEWNS) == 0 ? 0 : -errno;
}

int gofer_private_fs_with_zero_umask(void) {
    if (unshare(CLONE_FS) != 0) return -errno;
    umask(0);
    return 0;
}

int gofer_set_no_new_privs(void) {
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 ? 0 : -errno;
}

int gofer_install_seccomp(const char *const *names, int count, int deny_errno) {
    uint32_t deny = deny_errno > 0 ? SCMP_ACT_ERRNO((uint16_t)deny_errno) : SCMP_ACT_KILL_PROCESS;
    scmp_filter_ctx ctx = seccomp_init(deny);
    if (ctx == NULL) return -ENOMEM;
    int result = 0;
    for (int i = 0; i < count && result == 0; i++) {
        // "name" resolves through libseccomp; "name#N" gives the x86-64 number for syscalls
        // newer than this libseccomp (fchmodat2, the *xattrat family).
        const char *hash = strchr(names[i], '#');
        int number = hash != NULL ? atoi(hash + 1) : seccomp_syscall_resolve_name(names[i]);
        if (number == __NR_SCMP_ERROR || number < 0) { result = -EINVAL; break; }
        result = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, number, 0);
    }
    if (result == 0) result = seccomp_load(ctx);
    seccomp_release(ctx);
    return result;
}

int gofer_fchmod_path_fd(int fd, unsigned int mode) {
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
    return syscall(SYS_fchmodat2, fd, "", mode, AT_EMPTY_PATH) == 0 ? 0 : -errno;
}

long gofer_getdents64(int fd, void *buffer, size_t length) {
    long n = syscall(SYS_getdents64, fd, buffer, length);
    return n < 0 ? -errno : n;
}

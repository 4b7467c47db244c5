#define _GNU_SOURCE
#include "CSandboxSupport.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

struct vfs_filter {
    struct sock_fprog program;
};

void *vfs_sandbox_filter_create(const int32_t *syscalls, int count, int trap_file_mmap) {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == NULL) { errno = ENOMEM; return NULL; }
    for (int i = 0; i < count; i++) {
        int rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, syscalls[i], 0);
        if (rc != 0) { seccomp_release(ctx); errno = -rc; return NULL; }
    }
    if (trap_file_mmap) {
        // Only file mappings: (flags & MAP_ANONYMOUS) == 0. Anonymous mmaps (malloc, stacks,
        // thread creation) never stop.
        int rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(mmap), 1,
                                  SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, 0));
        if (rc != 0) { seccomp_release(ctx); errno = -rc; return NULL; }
    }
    // libseccomp 2.5 exports to an fd only: a memfd, read back into memory.
    int fd = memfd_create("vfs-seccomp-bpf", MFD_CLOEXEC);
    if (fd < 0) { seccomp_release(ctx); return NULL; }
    int rc = seccomp_export_bpf(ctx, fd);
    seccomp_release(ctx);
    if (rc != 0) { close(fd); errno = -rc; return NULL; }
    off_t size = lseek(fd, 0, SEEK_END);
    if (size <= 0 || size % sizeof(struct sock_filter) != 0) { close(fd); errno = EINVAL; return NULL; }
    struct vfs_filter *filter = calloc(1, sizeof *filter);
    struct sock_filter *code = malloc((size_t)size);
    if (filter == NULL || code == NULL) { free(filter); free(code); close(fd); errno = ENOMEM; return NULL; }
    if (pread(fd, code, (size_t)size, 0) != size) { free(filter); free(code); close(fd); errno = EIO; return NULL; }
    close(fd);
    filter->program.len = (unsigned short)(size / sizeof(struct sock_filter));
    filter->program.filter = code;
    return filter;
}

void vfs_sandbox_filter_free(void *opaque) {
    struct vfs_filter *filter = opaque;
    if (filter == NULL) return;
    free(filter->program.filter);
    free(filter);
}

static void write_all(int fd, const char *text) {
    size_t length = strlen(text);
    while (length > 0) {
        ssize_t n = write(fd, text, length);
        if (n <= 0) return;
        text += n;
        length -= (size_t)n;
    }
}

static void child_fail(const char *program, const char *what, int error, int code) {
    write_all(2, "vfs run: ");
    write_all(2, program);
    write_all(2, ": ");
    if (what != NULL) { write_all(2, what); write_all(2, ": "); }
    write_all(2, strerror(error));  // glibc's strerror reads a static table for known errnos
    write_all(2, "\n");
    _exit(code);
}

pid_t vfs_sandbox_spawn(const char *program, char *const argv[], const void *opaque, int uid,
                        int gid, int cpu, int *listener) {
    const struct vfs_filter *filter = opaque;
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) { int e = errno; close(pair[0]); close(pair[1]); errno = e; return -1; }
    if (pid == 0) {
        // Child: async-signal-safe calls only.
        close(pair[0]);
        if (cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            sched_setaffinity(0, sizeof set, &set);
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        int signals[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD, SIGTSTP, SIGTTIN, SIGTTOU};
        for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) sigaction(signals[i], &dfl, NULL);
        if (gid >= 0) {
            if (setgroups(0, NULL) != 0) child_fail(program, "setgroups", errno, 125);
            if (setresgid(gid, gid, gid) != 0) child_fail(program, "setresgid", errno, 125);
        }
        if (uid >= 0 && setresuid(uid, uid, uid) != 0) child_fail(program, "setresuid", errno, 125);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child_fail(program, "no_new_privs", errno, 125);
        // WAIT_KILLABLE_RECV (Linux 5.19): once the supervisor has received a notification,
        // only a fatal signal can end the wait. Without it a signal arriving while the
        // supervisor works (a shell's SIGCHLD) aborts the call in the program after the VFS
        // may already have done it: an O_EXCL create would then run twice and fail EEXIST.
        long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                          SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
                          &filter->program);
        if (fd < 0 && errno == EINVAL)  // a kernel before 5.19: the flag is unknown
            fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                         &filter->program);
        if (fd < 0) child_fail(program, "seccomp", errno, 125);
        char byte = 0;
        struct iovec io = {&byte, 1};
        union {
            char buffer[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } control;
        memset(&control, 0, sizeof control);
        struct msghdr message;
        memset(&message, 0, sizeof message);
        message.msg_iov = &io;
        message.msg_iovlen = 1;
        message.msg_control = control.buffer;
        message.msg_controllen = sizeof control.buffer;
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int));
        int listenerfd = (int)fd;
        memcpy(CMSG_DATA(header), &listenerfd, sizeof listenerfd);
        if (sendmsg(pair[1], &message, MSG_NOSIGNAL) != 1) child_fail(program, "sendmsg", errno, 125);
        close(listenerfd);  // the program must not hold its own supervisor's listener
        close(pair[1]);
        execvp(program, argv);
        child_fail(program, NULL, errno, errno == ENOENT ? 127 : 126);
    }
    close(pair[1]);
    char byte;
    struct iovec io = {&byte, 1};
    union {
        char buffer[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    message.msg_control = control.buffer;
    message.msg_controllen = sizeof control.buffer;
    ssize_t n;
    do { n = recvmsg(pair[0], &message, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    close(pair[0]);
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    if (n != 1 || header == NULL || header->cmsg_type != SCM_RIGHTS) {
        // The child failed before handing over the listener: it has printed why.
        *listener = -1;
        return pid;
    }
    memcpy(listener, CMSG_DATA(header), sizeof(int));
    return pid;
}

int vfs_pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

int vfs_first_allowed_cpu(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &set)) return cpu;
    return -1;
}

int vfs_notif_receive(int listener, struct vfs_notification *out) {
    struct seccomp_notif request;
    memset(&request, 0, sizeof request);
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &request) != 0) return -errno;
    out->id = request.id;
    out->pid = (int32_t)request.pid;
    out->nr = request.data.nr;
    out->arch = request.data.arch;
    for (int i = 0; i < 6; i++) out->args[i] = request.data.args[i];
    return 0;
}

int vfs_notif_respond(int listener, uint64_t id, int64_t value, int32_t error, int continue_call) {
    struct seccomp_notif_resp response;
    memset(&response, 0, sizeof response);
    response.id = id;
    if (continue_call) {
        response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    } else {
        response.val = value;
        response.error = error;
    }
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &response) != 0) return -errno;
    return 0;
}

int vfs_notif_id_valid(int listener, uint64_t id) {
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0 ? 1 : 0;
}

int vfs_notif_add_fd(int listener, uint64_t id, int source, int target, int cloexec) {
    struct seccomp_notif_addfd add;
    memset(&add, 0, sizeof add);
    add.id = id;
    add.srcfd = (uint32_t)source;
    if (target >= 0) {
        add.flags = SECCOMP_ADDFD_FLAG_SETFD;
        add.newfd = (uint32_t)target;
    }
    add.newfd_flags = cloexec ? O_CLOEXEC : 0;
    int rc = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
    return rc < 0 ? -errno : rc;
}

int vfs_memfd_create(const char *name) {
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
    // MFD_EXEC: the copy may be mapped PROT_EXEC (a shared object) whatever
    // vm.memfd_noexec says; kernels before 6.3 do not know the flag (EINVAL) and allow it.
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL) fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    return fd < 0 ? -errno : fd;
}

int vfs_memfd_seal(int fd) {
    int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL;
    return fcntl(fd, F_ADD_SEALS, seals) == 0 ? 0 : -errno;
}

int vfs_pidfd_open(pid_t pid, int thread) {
    long fd = syscall(SYS_pidfd_open, pid, thread ? PIDFD_THREAD : 0);
    return fd < 0 ? -errno : (int)fd;
}

int vfs_pidfd_getfd(int pidfd, int fd) {
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
    long copy = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    return copy < 0 ? -errno : (int)copy;
}

int vfs_wait_exit_code(pid_t pid, int nohang) {
    int status = 0;
    pid_t r;
    do { r = waitpid(pid, &status, nohang ? WNOHANG : 0); } while (r < 0 && errno == EINTR);
    if (r < 0) return -1;
    if (r == 0) return -2;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

extern char **environ;

pid_t vfs_spawn_with_fd(const char *path, char *const argv[], int source, int target) {
    if (source == target) { errno = EINVAL; return -1; }
    posix_spawn_file_actions_t actions;
    int rc = posix_spawn_file_actions_init(&actions);
    if (rc != 0) { errno = rc; return -1; }
    rc = posix_spawn_file_actions_adddup2(&actions, source, target);
    if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&actions, target + 1);
    pid_t pid = -1;
    if (rc == 0) rc = posix_spawn(&pid, path, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) { errno = rc; return -1; }
    return pid;
}

#define _GNU_SOURCE
#include "CGoferSupport.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <unistd.h>

int gofer_statx_wire(int dirfd, const char *path, int flags, unsigned char out[144]) {
    struct statx sx;
    memset(&sx, 0, sizeof sx);
    if (statx(dirfd, path, flags, STATX_BASIC_STATS | STATX_BTIME, &sx) != 0) return -errno;
    _Static_assert(sizeof(struct statx) >= 144, "struct statx layout");
    sx.stx_attributes = 0;
    sx.stx_attributes_mask = 0;
    sx.__spare0[0] = 0;
    sx.stx_atime.__reserved = 0;
    sx.stx_btime.__reserved = 0;
    sx.stx_ctime.__reserved = 0;
    sx.stx_mtime.__reserved = 0;
    memcpy(out, &sx, 144);
    return 0;
}

struct gofer_xattr_args { uint64_t value; uint32_t size; uint32_t flags; };
#define GOFER_SYS_setxattrat 463
#define GOFER_SYS_getxattrat 464
#define GOFER_SYS_listxattrat 465
#define GOFER_SYS_removexattrat 466

long gofer_getxattrat(int dirfd, const char *path, int flags, const char *name, void *value, size_t size) {
    struct gofer_xattr_args args = {(uint64_t)(uintptr_t)value, (uint32_t)size, 0};
    long n = syscall(GOFER_SYS_getxattrat, dirfd, path, flags, name, &args, sizeof args);
    return n < 0 ? -errno : n;
}

long gofer_setxattrat(int dirfd, const char *path, int flags, const char *name, const void *value, size_t size, int xflags) {
    struct gofer_xattr_args args = {(uint64_t)(uintptr_t)value, (uint32_t)size, (uint32_t)xflags};
    long n = syscall(GOFER_SYS_setxattrat, dirfd, path, flags, name, &args, sizeof args);
    return n < 0 ? -errno : n;
}

long gofer_listxattrat(int dirfd, const char *path, int flags, char *list, size_t size) {
    long n = syscall(GOFER_SYS_listxattrat, dirfd, path, flags, list, size);
    return n < 0 ? -errno : n;
}

long gofer_removexattrat(int dirfd, const char *path, int flags, const char *name) {
    long n = syscall(GOFER_SYS_removexattrat, dirfd, path, flags, name);
    return n < 0 ? -errno : n;
}

int gofer_fstatfs_wire(int fd, unsigned char out[64]) {
    struct statfs st;
    if (fstatfs(fd, &st) != 0) return -errno;
    int64_t fields[8] = {(int64_t)st.f_type, (int64_t)st.f_bsize, (int64_t)st.f_blocks, (int64_t)st.f_bfree,
                         (int64_t)st.f_bavail, (int64_t)st.f_files, (int64_t)st.f_ffree, (int64_t)st.f_namelen};
    memcpy(out, fields, sizeof fields);
    return 0;
}

long gofer_readlink_fd(int fd, char *buffer, size_t size) {
    ssize_t n = readlinkat(fd, "", buffer, size);
    return n < 0 ? -errno : (long)n;
}

int gofer_fallocate(int fd, int mode, int64_t offset, int64_t length) {
    return fallocate(fd, mode, (off_t)offset, (off_t)length);
}

int gofer_renameat2(int olddir, const char *oldname, int newdir, const char *newname, unsigned int flags) {
    return renameat2(olddir, oldname, newdir, newname, flags);
}

int gofer_accept4(int sock, int flags) {
    return accept4(sock, NULL, NULL, flags);
}

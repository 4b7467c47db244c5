#define _GNU_SOURCE
#include "CLinuxSupport.h"

#include <errno.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

ssize_t vfs_process_vm_read(pid_t pid, void *local, size_t length, uint64_t remote) {
    struct iovec here = {local, length};
    struct iovec there = {(void *)(uintptr_t)remote, length};
    return process_vm_readv(pid, &here, 1, &there, 1, 0);
}

ssize_t vfs_process_vm_write(pid_t pid, const void *local, size_t length, uint64_t remote) {
    struct iovec here = {(void *)local, length};
    struct iovec there = {(void *)(uintptr_t)remote, length};
    return process_vm_writev(pid, &here, 1, &there, 1, 0);
}

long vfs_raw_syscall6(long number, long a0, long a1, long a2, long a3, long a4, long a5) {
    long result = syscall(number, a0, a1, a2, a3, a4, a5);
    return result == -1 ? -errno : result;
}

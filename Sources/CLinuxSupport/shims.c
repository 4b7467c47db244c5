#define _GNU_SOURCE
#include "CLinuxSupport.h"

#include <errno.h>
#include <linux/futex.h>
#include <time.h>
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

uint32_t vfs_shared_load32(const uint32_t *word) { return __atomic_load_n(word, __ATOMIC_SEQ_CST); }

void vfs_shared_store32(uint32_t *word, uint32_t value) { __atomic_store_n(word, value, __ATOMIC_SEQ_CST); }

int vfs_shared_cas32(uint32_t *word, uint32_t expected, uint32_t desired) {
    return __atomic_compare_exchange_n(word, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

uint32_t vfs_shared_swap32(uint32_t *word, uint32_t value) {
    return __atomic_exchange_n(word, value, __ATOMIC_SEQ_CST);
}

int vfs_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns) {
    struct timespec timeout;
    struct timespec *limit = NULL;
    if (timeout_ns >= 0) {
        timeout.tv_sec = (time_t)(timeout_ns / 1000000000);
        timeout.tv_nsec = (long)(timeout_ns % 1000000000);
        limit = &timeout;
    }
    long result = syscall(SYS_futex, word, FUTEX_WAIT, expected, limit, NULL, 0);
    return result == -1 ? -errno : 0;
}

int vfs_futex_wake(uint32_t *word, int count) {
    long result = syscall(SYS_futex, word, FUTEX_WAKE, count, NULL, NULL, 0);
    return result == -1 ? -errno : (int)result;
}

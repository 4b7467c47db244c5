// The few Linux interfaces Swift cannot reach through Glibc's module map: functions declared
// only under _GNU_SOURCE, and raw syscalls (Swift cannot call the variadic syscall(2)).
#ifndef VFSKIT_CLINUXSUPPORT_H
#define VFSKIT_CLINUXSUPPORT_H

#include <stdint.h>
#include <sys/types.h>

/// process_vm_readv(2) for one local and one remote buffer.
ssize_t vfs_process_vm_read(pid_t pid, void *local, size_t length, uint64_t remote);
/// process_vm_writev(2) for one local and one remote buffer.
ssize_t vfs_process_vm_write(pid_t pid, const void *local, size_t length, uint64_t remote);
/// A raw syscall with up to six arguments; returns the raw result (-errno on failure).
long vfs_raw_syscall6(long number, long a0, long a1, long a2, long a3, long a4, long a5);

// A 32-bit word in memory shared with another process (a flipcall packet window): atomic,
// sequentially consistent accesses and futex waits on it. The futex calls are the shared
// (not FUTEX_PRIVATE) forms, since the waker is another process.

uint32_t vfs_shared_load32(const uint32_t *word);
void vfs_shared_store32(uint32_t *word, uint32_t value);
/// Compare-and-swap: 1 when *word was `expected` (and is now `desired`), else 0.
int vfs_shared_cas32(uint32_t *word, uint32_t expected, uint32_t desired);
/// Stores `value` and returns the previous one.
uint32_t vfs_shared_swap32(uint32_t *word, uint32_t value);
/// FUTEX_WAIT while *word == expected, for at most `timeout_ns` (< 0: no limit). Returns 0 when
/// woken, or -errno: -EAGAIN (the word had changed), -EINTR and -ETIMEDOUT are normal outcomes.
int vfs_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns);
/// FUTEX_WAKE of up to `count` waiters; returns how many were woken, or -errno.
int vfs_futex_wake(uint32_t *word, int count);

#endif

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

#endif

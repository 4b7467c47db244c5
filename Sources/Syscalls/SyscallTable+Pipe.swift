import VFSCore

extension SyscallTable {
    /// pipe, pipe2, memfd_create.
    static let pipeEntries: [SyscallEntry] = [
        SyscallEntry(.pipe) { (task, memory, a) throws(Errno) -> Int64 in
            try pipe(task, memory, a[0], flags: 0)
        },
        SyscallEntry(.pipe2) { (task, memory, a) throws(Errno) -> Int64 in
            try pipe(task, memory, a[0], flags: a.int32(1))
        },
        SyscallEntry(.memfdCreate) { (task, memory, a) throws(Errno) -> Int64 in
            let flags = a.uint32(1)
            try Task.checkMemfdFlags(flags)
            // strncpy_from_user of at most 250 bytes: no NUL among them is EINVAL.
            let name: [UInt8]
            do throws(Errno) {
                name = try memory.readCString(a[0], limit: Linux.MFD_NAME_MAX + 1)
            } catch {
                throw error == .fileNameTooLong ? .invalidArgument : error
            }
            return Int64(try task.memfd_create(name, flags))
        },
    ]

    /// `do_pipe2`: the two numbers are taken first (EMFILE before EFAULT); if they cannot be
    /// written to `int fildes[2]`, both close again and the call is EFAULT.
    static func pipe(_ task: Task, _ memory: any TaskMemory, _ address: UInt64, flags: Int32)
        throws(Errno) -> Int64
    {
        let (readFD, writeFD) = try task.pipe2(flags)
        var bytes: [UInt8] = []
        for fd in [readFD, writeFD] {
            withUnsafeBytes(of: fd.littleEndian) { bytes.append(contentsOf: $0) }
        }
        do throws(Errno) {
            try memory.writeBytes(address, bytes)
        } catch {
            try? task.files.close(readFD)
            try? task.files.close(writeFD)
            throw error
        }
        return 0
    }
}

import SystemPackage

extension HostSyscall {
    /// CAP_FSETID.
    public static let capabilityFsetid = 4

    /// Runs `body` with capability `capability` out of the calling thread's effective set, then
    /// puts it back. Capabilities are per thread on Linux (capset with pid 0 changes only the
    /// caller), so other threads keep theirs. Used to let the host kernel apply a rule that
    /// depends on the *sandbox caller* lacking a capability the host process has — a write or
    /// truncate by a caller without CAP_FSETID clears set-ID bits exactly as Linux would,
    /// timestamps included.
    public static func withoutEffectiveCapability<R>(
        _ capability: Int, _ body: () throws(Errno) -> R
    ) throws(Errno) -> R {
        // struct __user_cap_header_struct { u32 version = _LINUX_CAPABILITY_VERSION_3; int pid; }
        var header: (UInt32, Int32) = (0x2008_0522, 0)
        // Two struct __user_cap_data_struct { u32 effective, permitted, inheritable; }.
        var data: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0, 0, 0)
        try withUnsafeMutableBytes(of: &header) { (h) throws(Errno) in
            try withUnsafeMutableBytes(of: &data) { (d) throws(Errno) in
                _ = try call(125, Int(bitPattern: h.baseAddress), Int(bitPattern: d.baseAddress))
            }
        }
        let saved = data
        let word = capability / 32
        let bit = UInt32(1) << UInt32(capability % 32)
        let had = (word == 0 ? data.0 : data.3) & bit != 0
        guard had else { return try body() }
        if word == 0 { data.0 &= ~bit } else { data.3 &= ~bit }
        func set(_ value: inout (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)) throws(Errno) {
            header = (0x2008_0522, 0)
            try withUnsafeMutableBytes(of: &header) { (h) throws(Errno) in
                try withUnsafeMutableBytes(of: &value) { (d) throws(Errno) in
                    _ = try call(
                        126, Int(bitPattern: h.baseAddress), Int(bitPattern: d.baseAddress))
                }
            }
        }
        try set(&data)
        var restore = saved
        defer { try? set(&restore) }
        return try body()
    }
}

extension HostSyscall {
    /// Runs `body` with the calling thread's fsgid and supplementary groups set to `fsgid` and
    /// `groups`, then puts the thread's own back. Like capabilities, these are per thread in
    /// the kernel (the raw setfsgid and setgroups calls change only the caller; glibc's
    /// wrappers would change every thread). Used so that a rule the host kernel decides from
    /// group membership — `setattr_should_drop_sgid` keeping a group-executable-less set-group-ID
    /// bit for a writer in the file's group — is decided for the sandbox caller.
    public static func withGroups<R>(
        fsgid: UInt32, groups: [UInt32], _ body: () throws(Errno) -> R
    ) throws(Errno) -> R {
        // getgroups (115): the count first, then the list.
        let total = try call(115, 0, 0)
        var saved = [UInt32](repeating: 0, count: total)
        let count = try saved.withUnsafeMutableBytes { b in
            Result { () throws(Errno) -> Int in
                try call(115, b.count / 4, Int(bitPattern: b.baseAddress))
            }
        }.get()
        saved.removeSubrange(min(count, saved.count)...)
        func setGroups(_ list: [UInt32]) throws(Errno) {
            _ = try list.withUnsafeBytes { b in
                Result { () throws(Errno) -> Int in
                    try call(116, list.count, Int(bitPattern: b.baseAddress))  // setgroups
                }
            }.get()
        }
        try setGroups(groups)
        // setfsgid (123) returns the previous fsgid and never fails outright.
        let previous = (try? call(123, Int(fsgid))) ?? 0
        defer {
            _ = try? call(123, previous)
            try? setGroups(saved)
        }
        return try body()
    }
}

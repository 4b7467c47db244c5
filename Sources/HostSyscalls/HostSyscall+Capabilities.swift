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

// What every fuzz target here shares: handing control to libFuzzer's driver. SwiftPM gives
// every executable its own entry point (it renames `main`), so libFuzzer's `main` is not used;
// each target's top-level code calls `runLibFuzzer` with its callback instead.

@_silgen_name("LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// Runs libFuzzer's driver on the process's arguments with `callback` as the
/// `LLVMFuzzerTestOneInput`; returns its exit status.
public func runLibFuzzer(_ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32 {
    var argumentCount = CommandLine.argc
    var argumentVector = CommandLine.unsafeArgv
    return llvmFuzzerRunDriver(&argumentCount, &argumentVector, callback)
}

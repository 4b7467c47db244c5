// SwiftPM gives every executable its own entry point (it renames `main`), so libFuzzer's `main`
// is not used: this top-level code hands control to libFuzzer's driver with our callback.

#if canImport(Glibc)
    import Glibc
#endif

@_silgen_name("LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

// The scratch tree goes when libFuzzer exits (it calls exit(), which runs atexit handlers).
atexit { removeTree(fuzzRoot) }
var argumentCount = CommandLine.argc
var argumentVector = CommandLine.unsafeArgv
exit(llvmFuzzerRunDriver(&argumentCount, &argumentVector, goferServerFuzzOneInput))

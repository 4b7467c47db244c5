// SwiftPM gives every executable its own entry point (it renames `main`), so libFuzzer's `main`
// is not used: this top-level code hands control to libFuzzer's driver with our callback, or,
// given `--write-seeds DIR`, writes the seed inputs there and exits (run-gofer-channel-fuzz
// does that before fuzzing).

#if canImport(Glibc)
    import Glibc
#endif

@_silgen_name("LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

// The scratch tree goes when the process exits (libFuzzer calls exit(), which runs atexit
// handlers).
atexit { removeTree(fuzzRoot) }
let arguments = CommandLine.arguments
if arguments.count == 3, arguments[1] == "--write-seeds" {
    exit(writeSeeds(into: arguments[2]) ? 0 : 1)
}
var argumentCount = CommandLine.argc
var argumentVector = CommandLine.unsafeArgv
exit(llvmFuzzerRunDriver(&argumentCount, &argumentVector, goferChannelFuzzOneInput))

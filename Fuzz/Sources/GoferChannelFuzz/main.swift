// Hands control to libFuzzer's driver with our callback (FuzzSupport's `runLibFuzzer`), or,
// given `--write-seeds DIR`, writes the seed inputs there and exits (run-gofer-channel-fuzz
// does that before fuzzing).

#if canImport(Glibc)
    import Glibc
#endif
import FuzzSupport

// The scratch tree goes when the process exits (libFuzzer calls exit(), which runs atexit
// handlers).
atexit { servedTree.remove() }
let arguments = CommandLine.arguments
if arguments.count == 3, arguments[1] == "--write-seeds" {
    exit(writeSeeds(into: arguments[2]) ? 0 : 1)
}
exit(runLibFuzzer(goferChannelFuzzOneInput))

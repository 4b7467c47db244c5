// Hands control to libFuzzer's driver with our callback (FuzzSupport's `runLibFuzzer`).

#if canImport(Glibc)
    import Glibc
#endif
import FuzzSupport

// The scratch tree goes when libFuzzer exits (it calls exit(), which runs atexit handlers).
atexit { servedTree.remove() }
exit(runLibFuzzer(goferServerFuzzOneInput))

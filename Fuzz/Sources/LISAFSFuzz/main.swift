// Hands control to libFuzzer's driver with our callback (FuzzSupport's `runLibFuzzer`).
import FuzzSupport

#if canImport(Glibc)
    import Glibc
#endif

exit(runLibFuzzer(lisafsFuzzOneInput))

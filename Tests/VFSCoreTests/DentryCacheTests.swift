import Testing
import VFSCore

/// VFSCore's LRU of unreferenced dentries (used by the host and gofer backends).
@Suite struct DentryCacheTests {
    final class TestDentry: Dentry, @unchecked Sendable {
        let ino: UInt64
        let parent: TestDentry?
        init(ino: UInt64, parent: TestDentry? = nil, type: FileType = .regular) {
            self.ino = ino
            self.parent = parent
            super.init(fileType: type)
        }
    }

    static func cache(limit: Int) -> DentryCache<TestDentry> {
        DentryCache(limit: limit) { $0.ino == $1.ino && $0.fileType == $1.fileType }
    }

    static func name(_ text: String) -> Name { Name(unchecked: ArraySlice(text.utf8)) }

    @Test func theLeastRecentlyUsedUnreferencedDentryIsEvicted() {
        let root = TestDentry(ino: 1, type: .directory)
        let cache = Self.cache(limit: 2)
        _ = cache.insert(TestDentry(ino: 2, parent: root), parent: root, name: Self.name("a"))
        _ = cache.insert(TestDentry(ino: 3, parent: root), parent: root, name: Self.name("b"))
        _ = cache.lookup(parent: root, name: Self.name("a"))  // "b" is now the oldest
        _ = cache.insert(TestDentry(ino: 4, parent: root), parent: root, name: Self.name("c"))
        #expect(cache.count == 2)
        #expect(cache.lookup(parent: root, name: Self.name("b")) == nil)
        #expect(cache.lookup(parent: root, name: Self.name("a"))?.ino == 2)
    }

    @Test func aDentryInUseIsNeverEvicted() {
        let root = TestDentry(ino: 1, type: .directory)
        let cache = Self.cache(limit: 1)
        let held = cache.insert(TestDentry(ino: 2, parent: root), parent: root, name: Self.name("a"))
        _ = cache.insert(TestDentry(ino: 3, parent: root), parent: root, name: Self.name("b"))
        _ = cache.insert(TestDentry(ino: 4, parent: root), parent: root, name: Self.name("c"))
        // "a" is the oldest but held by this test: "b", the oldest unreferenced one, goes.
        #expect(cache.lookup(parent: root, name: Self.name("a")) === held)
        #expect(cache.lookup(parent: root, name: Self.name("b")) == nil)
    }

    @Test func insertingTheSameFileAgainKeepsTheFirstDentry() {
        let root = TestDentry(ino: 1, type: .directory)
        let cache = Self.cache(limit: 4)
        let first = cache.insert(TestDentry(ino: 2, parent: root), parent: root, name: Self.name("a"))
        let second = cache.insert(TestDentry(ino: 2, parent: root), parent: root, name: Self.name("a"))
        #expect(second === first)
        let replaced = cache.insert(TestDentry(ino: 9, parent: root), parent: root, name: Self.name("a"))
        #expect(replaced !== first)
        #expect(cache.lookup(parent: root, name: Self.name("a")) === replaced)
    }

    @Test func removeWithIfSameLeavesAnotherDentryAlone() {
        let root = TestDentry(ino: 1, type: .directory)
        let cache = Self.cache(limit: 4)
        let cached = cache.insert(TestDentry(ino: 2, parent: root), parent: root, name: Self.name("a"))
        #expect(cache.remove(parent: root, name: Self.name("a"), ifSame: TestDentry(ino: 2)) == nil)
        #expect(cache.remove(parent: root, name: Self.name("a"), ifSame: cached) === cached)
        #expect(cache.count == 0)
    }

    @Test func trimFreesChainsWhoseChildrenPinnedTheirParents() {
        let root = TestDentry(ino: 1, type: .directory)
        let cache = Self.cache(limit: 100)
        var parent = root
        for ino in 2...6 {
            let child = cache.insert(
                TestDentry(ino: UInt64(ino), parent: parent, type: .directory), parent: parent,
                name: Self.name("d"))
            parent = child
        }
        #expect(cache.count == 5)
        parent = root  // drop the test's reference to the deepest dentry
        cache.trim()
        #expect(cache.count == 0)
    }
}

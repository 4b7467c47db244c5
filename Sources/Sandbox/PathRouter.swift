/// Decides, for a path a sandboxed program passes to a syscall, whether it names something in
/// a VFS mount (and which VFS path) or on the host.
///
/// The part of the path before a mount point is normalized lexically (empty and `.`
/// components dropped, `..` pops one component), so "/tmp/../sandbox/f" reaches /sandbox as
/// the kernel would unless /tmp were a symlink. Once a mount point is reached the rest of the
/// path is handed to the VFS unchanged, so symlinks and `..` inside the VFS resolve there:
/// `..` above a mount's root lands in the sandbox's synthetic root, which holds only the
/// directories leading to mount points (host files are not reachable through the VFS).
public struct PathRouter: Sendable {
    /// The mount points, as component lists.
    let mountPoints: [[ArraySlice<UInt8>]]
    /// Every component name of every mount point: a relative path whose first component is
    /// none of these, and that has no `..`, cannot reach a mount from a host directory.
    let componentNames: Set<ArraySlice<UInt8>>

    public init(mountPoints: [String]) {
        let lists = mountPoints.map { Array($0.utf8).split(separator: 0x2F) }
        self.mountPoints = lists
        self.componentNames = Set(lists.flatMap { $0 })
    }

    /// The VFS path for an absolute `path`, or nil when it stays on the host.
    public func route(absolute path: [UInt8]) -> [UInt8]? {
        guard path.first == 0x2F, !mountPoints.isEmpty else { return nil }
        var stack: [ArraySlice<UInt8>] = []
        var index = 0
        while index < path.count {
            while index < path.count && path[index] == 0x2F { index += 1 }
            guard index < path.count else { break }
            var end = index
            while end < path.count && path[end] != 0x2F { end += 1 }
            let component = path[index..<end]
            index = end
            if component.elementsEqual([0x2E]) { continue }
            if component.elementsEqual([0x2E, 0x2E]) {
                if !stack.isEmpty { stack.removeLast() }
                continue
            }
            stack.append(component)
            if mountPoints.contains(where: { $0.elementsEqual(stack, by: { $0.elementsEqual($1) }) }) {
                var result: [UInt8] = []
                for part in stack {
                    result.append(0x2F)
                    result.append(contentsOf: part)
                }
                result.append(contentsOf: path[index...])
                return result
            }
        }
        return nil
    }

    /// The VFS path for `path` relative to the host directory `base` (absolute), or nil.
    public func route(relative path: [UInt8], base: [UInt8]) -> [UInt8]? {
        route(absolute: base + [0x2F] + path)
    }

    /// A cheap test before looking up a base directory: false when a relative `path` cannot
    /// reach any mount point from a host directory (its first component names no mount-point
    /// component and it has no `..`). The host cwd is never inside a mount (chdir into one is
    /// served by the VFS), so only a path that climbs or steps into a mount-point name can.
    public func mayReach(relative path: [UInt8]) -> Bool {
        guard !mountPoints.isEmpty else { return false }
        let components = path.split(separator: 0x2F)
        if components.contains(where: { $0.elementsEqual([0x2E, 0x2E]) }) { return true }
        guard let first = components.first(where: { !$0.elementsEqual([0x2E]) }) else {
            return false
        }
        return componentNames.contains(first)
    }
}

import Glibc

/// A documented way one backend's answer differs from Linux's because the backend cannot
/// express what Linux does (not a bug to fix): which operation, which compared field, and the
/// exact value the backend gives. `Differential.run` consults a root's table only for that
/// root (`VFSRoot.knownDeviations`; the gofer's is `KnownDeviation.gofer`), and excuses a
/// divergence only when the step's operation matches and the backend's value is exactly the
/// documented one (and, when given, Linux's too): any other difference, including the same
/// operation failing with another errno, is still a divergence, so the table can fail.
public struct KnownDeviation: Sendable, CustomStringConvertible {
    /// A short name ("device node", "O_NOATIME directory read").
    public var name: String
    /// Which steps it applies to: the step's operation and the steps run before it (a
    /// deviation of a later stat is only documented after the operation that causes it).
    public var applies: @Sendable (Operation, ArraySlice<Operation>) -> Bool
    /// The compared field (`Divergence.field`): "result", "stat.atime", "stat.ctime", ...
    public var field: String
    /// The backend's value, exactly as the divergence shows it ("-1 EOPNOTSUPP", "changed").
    public var backend: String
    /// Linux's value, when the deviation is only documented for it ("changed", "same").
    public var linux: String?
    /// The later steps (and the final trees) build on what the step made on Linux and not in
    /// the backend (a file the backend refused to create): the comparison ends there.
    public var endsComparison: Bool
    /// Why the backend cannot do what Linux does.
    public var reason: String

    public init(
        _ name: String, field: String = "result", backend: String, linux: String? = nil,
        endsComparison: Bool = false, reason: String,
        applies: @escaping @Sendable (Operation, ArraySlice<Operation>) -> Bool
    ) {
        self.name = name
        self.applies = applies
        self.field = field
        self.backend = backend
        self.linux = linux
        self.endsComparison = endsComparison
        self.reason = reason
        self.accepts = nil
    }

    /// Instead of exact values: a check of Linux's and the backend's values (as the
    /// divergence shows them) that accepts only the documented difference.
    public var accepts: (@Sendable (_ linux: String, _ backend: String) -> Bool)?

    /// Whether this entry documents `divergence`, found at a step that followed `before`.
    public func documents(_ divergence: Divergence, after before: ArraySlice<Operation>) -> Bool {
        guard let operation = divergence.operation, applies(operation, before),
            divergence.field == field
        else { return false }
        if let accepts { return accepts(divergence.kernel, divergence.vfs) }
        return divergence.vfs == backend && (linux == nil || divergence.kernel == linux)
    }

    public var description: String {
        "\(name): \(field) \(linux.map { "Linux \($0), " } ?? "")backend \(backend) — \(reason)"
    }
}

extension KnownDeviation {
    /// O_NOATIME (0o1000000) set on an open descriptor by F_SETFL.
    static func setsNoAccessTimeByFcntl(_ operation: Operation) -> Bool {
        if case .fcntl(_, let command, let argument) = operation {
            return command == F_SETFL && argument & 0o1000000 != 0
        }
        return false
    }

    static func isStat(_ operation: Operation) -> Bool {
        switch operation {
        case .stat, .fstat, .statx: return true
        default: return false
        }
    }

    /// The entries of a getdents outcome's description (`["a":fifo, "d":dir]`).
    static func listedEntries(_ text: String) -> [String]? {
        guard text.hasPrefix("["), text.hasSuffix("]") else { return nil }
        let inner = text.dropFirst().dropLast()
        return inner.isEmpty ? [] : inner.components(separatedBy: ", ")
    }

    /// What a gofer mount (`VFSRoot.gofer`) cannot do as Linux's tmpfs does, and why. Each
    /// entry is what gVisor's gofer client answers too (gVisor keeps FIFOs and sockets
    /// synthetic as this client does, and lists a directory from its own entry count).
    public static let gofer: [KnownDeviation] = [
        {
            var entry = KnownDeviation(
                "first entry's directory offset", backend: "the listing plus the list head",
                reason: "Getdents64 records carry each entry's d_off, the offset after it, so the "
                    + "client knows every entry's own offset but the first one's, which is in "
                    + "the `..` record the gofer leaves out (as fsgofer does); it is taken as the "
                    + "highest, so after a rename or exchange moved an older entry to the head, "
                    + "a listing from a position below it also lists that one entry",
                applies: { operation, before in
                    if case .getdents = operation {
                        return before.contains(where: { if case .lseek = $0 { true } else { false } })
                    }
                    return false
                })
            // Exactly Linux's entries and one more.
            entry.accepts = { linux, backend in
                guard let l = listedEntries(linux), let b = listedEntries(backend) else {
                    return false
                }
                return b.count == l.count + 1 && Set(l).isSubset(of: Set(b))
            }
            return entry
        }(),
        {
            var entry = KnownDeviation(
                "synthetic file's directory position", backend: "the listing plus the FIFOs/sockets",
                reason: "a FIFO or socket made by mknod is synthetic (the gofer makes regular "
                    + "files only, as fsgofer): the host directory has no offset for it, so it "
                    + "is listed at the end of every listing from a position, where Linux "
                    + "lists it by its offset",
                applies: { operation, before in
                    if case .getdents = operation {
                        return before.contains(where: {
                            if case .mknod(_, let mode) = $0 {
                                return mode & 0o170000 == 0o10000 || mode & 0o170000 == 0o140000
                            }
                            return false
                        })
                    }
                    return false
                })
            // The backend lists exactly Linux's entries plus FIFOs/sockets Linux leaves out.
            entry.accepts = { linux, backend in
                guard let l = listedEntries(linux), let b = listedEntries(backend) else {
                    return false
                }
                let extra = b.filter { !l.contains($0) }
                return Set(l).isSubset(of: Set(b)) && !extra.isEmpty
                    && extra.allSatisfy { $0.hasSuffix(":fifo") || $0.hasSuffix(":sock") }
            }
            return entry
        }(),
        KnownDeviation(
            "device node", backend: "-1 EPERM", endsComparison: true,
            reason: "the gofer makes regular files only (fsgofer's MknodAt policy: EPERM for "
                + "devices), and a device node is never synthesized in the sandbox (gVisor: EPERM)",
            applies: { operation, _ in
                if case .mknodDevice = operation { return true } else { return false }
            }),
        KnownDeviation(
            "O_NOATIME set on a directory by F_SETFL", field: "stat.atime", backend: "changed",
            linux: "same",
            reason: "the gofer reads a directory through its own host fd, opened at open(2) "
                + "(with O_NOATIME when the open asked for it); LISAFS has no message to "
                + "change that fd's flags later, so after F_SETFL O_NOATIME the host still "
                + "stamps atime on a read",
            applies: { operation, before in
                isStat(operation)
                    && before.contains(where: setsNoAccessTimeByFcntl)
                    && before.contains(where: { if case .getdents = $0 { true } else { false } })
            }),
        KnownDeviation(
            "set-ID stripped by a same-size truncate", field: "stat.ctime", backend: "changed",
            linux: "same",
            reason: "Linux's truncate(2) to the same size clears set-ID bits without stamping "
                + "ctime (no ATTR_CTIME); over LISAFS the clearing is a SetStat of the mode, a "
                + "chmod on the host, which stamps ctime",
            applies: { operation, before in
                isStat(operation)
                    && before.contains(where: { if case .truncate = $0 { true } else { false } })
            }),
    ]
}

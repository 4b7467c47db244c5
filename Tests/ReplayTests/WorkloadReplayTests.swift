import Foundation
import Replay
import Testing

/// Finds a shipped workload: ../shared/workloads (next to the repository) if present, else the
/// copy in this target's resources.
enum Workloads {
    static func url(_ file: String) -> URL? {
        let shared = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/workloads/\(file)")
        if FileManager.default.fileExists(atPath: shared.path) { return shared }
        return Bundle.module.url(forResource: file, withExtension: nil)
    }

    static func load(_ name: String) throws -> (records: [StraceRecord], manifest: Manifest) {
        guard let log = url("\(name).strace"), let manifest = url("\(name).manifest.json") else {
            throw ReplaySetupError("workload \(name) not found")
        }
        let text = try String(contentsOf: log, encoding: .utf8)
        return (StraceParser.parse(text), try Manifest.load(contentsOf: manifest))
    }
}

@Suite struct WorkloadReplayTests {
    @Test func pyImportsReplaysOnTmpfsWithoutDivergence() throws {
        let workload = try Workloads.load("py_imports")
        let report = try Replayer(target: TaskTarget.tmpfs()).run(workload.records, manifest: workload.manifest)
        if report.diverged > 0 || ProcessInfo.processInfo.environment["REPLAY_VERBOSE"] != nil {
            print(ReplayOutput.table([report], workload: "py_imports"))
        }
        #expect(report.diverged == 0)
        #expect(report.unparsedLines == 0)
        // Most of the log's calls are file operations the replay models.
        #expect(report.replayed > report.calls / 2)
    }
}

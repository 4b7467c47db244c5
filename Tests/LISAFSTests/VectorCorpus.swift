import Foundation
import LISAFS
import Testing

/// One recorded frame from Vectors/vectors.json (gVisor's own client and server, see
/// Vectors/README.md): the oracle for byte compatibility.
struct Vector: Decodable, Sendable, CustomTestStringConvertible {
    struct Field: Decodable, Sendable {
        var name: String
        var offset: Int
        var size: Int
        var type: String
        var value: FieldValue
        var varies: Bool
    }

    var seq: Int
    var direction: String
    var mid: UInt16
    var name: String
    var hex: String
    var fds: Int
    var fields: [Field]

    var isRequest: Bool { direction == "request" }
    var bytes: [UInt8] { hexBytes(hex) }
    var payload: [UInt8] { Array(bytes.dropFirst(FrameHeader.size)) }
    var testDescription: String { "seq \(seq) \(direction) \(name)" }

    /// The recorded bytes with every padding field set to zero (what a conforming encoder
    /// writes). Differs from `bytes` only for seq 83.
    var bytesWithZeroPadding: [UInt8] {
        var result = bytes
        for field in fields where field.type == "padding" {
            for index in field.offset..<(field.offset + field.size) where index < result.count {
                result[index] = 0
            }
        }
        return result
    }

    /// Every non-padding field, by name.
    var expectedValues: [String: FieldValue] {
        var result: [String: FieldValue] = [:]
        for field in fields where field.type != "padding" {
            result[field.name] = field.value
        }
        return result
    }
}

/// A field value as the JSON gives it: an integer or a string (utf8/bytes fields, padding hex).
enum FieldValue: Decodable, Hashable, Sendable, CustomStringConvertible {
    case int(Int64)
    case string(String)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    var description: String {
        switch self {
        case .int(let value): "\(value)"
        case .string(let value): value.debugDescription
        }
    }
}

func hexBytes(_ hex: String) -> [UInt8] {
    var result: [UInt8] = []
    var iterator = hex.utf8.makeIterator()
    while let high = iterator.next(), let low = iterator.next() {
        let digits = [high, low].compactMap { UInt8(String(UnicodeScalar($0)), radix: 16) }
        if digits.count == 2 { result.append(digits[0] << 4 | digits[1]) }
    }
    return result
}

enum VectorCorpus {
    static let all: [Vector] = {
        guard
            let url = Bundle.module.url(
                forResource: "vectors", withExtension: "json", subdirectory: "Vectors"),
            let data = try? Data(contentsOf: url),
            let vectors = try? JSONDecoder().decode([Vector].self, from: data)
        else { return [] }
        return vectors
    }()
}

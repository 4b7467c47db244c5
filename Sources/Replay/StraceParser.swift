import Foundation

/// Parsing `strace -f` output into records, one per syscall.
///
/// Handles what `strace -f -qq -e trace=... -s N -o FILE` writes: a pid prefix on every line,
/// calls split into `NAME(args <unfinished ...>` and `<... NAME resumed>rest) = result` halves
/// when processes interleave (the halves are joined into one call, placed where it resumed,
/// which is when its result became known), `--- SIGNAME {...} ---` and `+++ exited with N +++`
/// lines, strings with C escapes that end in `...` when truncated, flag sets such as
/// `O_RDONLY|O_CLOEXEC`, struct and array arguments (kept as text), comments (`/* 38 vars */`)
/// and results `= N`, `= 0x...`, `= -1 ENOENT (text)`, `= ?`.
///
/// Not thread-safe: one parser per log.

/// One argument as strace prints it.
public enum StraceValue: Sendable, Equatable {
    /// A number (decimal, `0x` hex, or `0`-prefixed octal as strace prints modes).
    case int(Int64)
    /// A quoted string, unescaped; `truncated` when strace cut it (`"..."...`).
    case string([UInt8], truncated: Bool)
    /// Symbolic names or numbers joined by `|` (`O_RDONLY|O_CLOEXEC`, `S_IFREG|0644`, `AT_FDCWD`).
    case flags([String])
    /// `NULL`.
    case null
    /// `{...}`: kept as the text between the braces.
    case structure(String)
    /// `[...]`: kept as the text between the brackets.
    case array(String)
    /// Anything else (an expression like `makedev(0x1, 0x3)`), verbatim.
    case raw(String)
}

/// A syscall's recorded outcome.
public enum StraceResult: Sendable, Equatable {
    /// `= N` (also `= 0x...`), with any trailing annotation dropped.
    case value(Int64)
    /// `= -1 ENAME (text)`.
    case error(String)
    /// `= ?` (the process went away) or no result.
    case unknown
}

/// A complete syscall: the call halves joined.
public struct StraceCall: Sendable, Equatable {
    public var pid: Int32
    public var name: String
    public var arguments: [StraceValue]
    public var result: StraceResult
    /// 1-based line number of the line that completed the call.
    public var line: Int

    public init(pid: Int32, name: String, arguments: [StraceValue], result: StraceResult, line: Int) {
        self.pid = pid
        self.name = name
        self.arguments = arguments
        self.result = result
        self.line = line
    }
}

public enum StraceRecord: Sendable, Equatable {
    case call(StraceCall)
    /// `--- SIGCHLD {...} ---`: the signal's name and the text between its braces.
    case signal(pid: Int32, name: String, info: String, line: Int)
    /// `+++ exited with N +++` or `+++ killed by SIG +++`.
    case exit(pid: Int32, line: Int)
    /// A line the parser could not understand, kept for the report.
    case unparsed(line: Int, text: String)

    public var pid: Int32? {
        switch self {
        case .call(let call): return call.pid
        case .signal(let pid, _, _, _), .exit(let pid, _): return pid
        case .unparsed: return nil
        }
    }
}

public struct StraceParser {
    /// `<unfinished ...>` halves waiting for their `resumed` line, per pid.
    private var pending: [Int32: (name: String, text: Substring)] = [:]
    private var lineNumber = 0

    public init() {}

    /// Parses a whole log.
    public static func parse(_ text: String) -> [StraceRecord] {
        var parser = StraceParser()
        var records: [StraceRecord] = []
        records.reserveCapacity(text.utf8.count / 80)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let record = parser.feed(line) { records.append(record) }
        }
        return records
    }

    /// Feeds one line; returns a record when the line completes one.
    public mutating func feed(_ rawLine: Substring) -> StraceRecord? {
        lineNumber += 1
        var line = rawLine
        while let last = line.last, last == "\r" || last == " " { line = line.dropLast() }
        if line.isEmpty { return nil }
        // Pid prefix: digits then spaces. Logs written without -f have none (pid 0).
        var pid: Int32 = 0
        var rest = line[...]
        if let first = rest.first, first.isNumber {
            let digits = rest.prefix { $0.isNumber }
            pid = Int32(digits) ?? 0
            rest = rest.dropFirst(digits.count).drop { $0 == " " }
        }
        if rest.hasPrefix("[pid ") {  // `strace -f` without -o prints `[pid N] `
            if let close = rest.firstIndex(of: "]") {
                pid = Int32(rest[rest.index(rest.startIndex, offsetBy: 5)..<close].trimmingSpaces) ?? pid
                rest = rest[rest.index(after: close)...].drop { $0 == " " }
            }
        }
        if rest.hasPrefix("+++") { return .exit(pid: pid, line: lineNumber) }
        if rest.hasPrefix("---") {
            let body = rest.dropFirst(3).drop { $0 == " " }
            let name = body.prefix { $0 != " " }
            var info = ""
            if let open = body.firstIndex(of: "{"), let close = body.lastIndex(of: "}"), open < close {
                info = String(body[body.index(after: open)..<close])
            }
            return .signal(pid: pid, name: String(name), info: info, line: lineNumber)
        }
        if rest.hasPrefix("<... ") {
            // `<... NAME resumed>REST`
            let afterMarker = rest.dropFirst(5)
            let name = afterMarker.prefix { $0 != " " }
            guard let end = afterMarker.range(of: " resumed>") else {
                return .unparsed(line: lineNumber, text: String(line))
            }
            var tail = afterMarker[end.upperBound...]
            if tail.hasPrefix(", ") { tail = tail.dropFirst(2) }
            var joined: Substring
            if let head = pending.removeValue(forKey: pid) {
                joined = head.text
                while joined.last == " " || joined.last == "," { joined = joined.dropLast() }
            } else {
                joined = "?"  // the first half was never seen: its arguments are unknown
            }
            if !joined.isEmpty && !tail.hasPrefix(")") { joined += ", " }
            return complete(pid: pid, name: String(name), argumentsAndResult: joined + tail, original: line)
        }
        guard let open = rest.firstIndex(of: "(") else {
            return .unparsed(line: lineNumber, text: String(line))
        }
        let name = rest[..<open]
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            return .unparsed(line: lineNumber, text: String(line))
        }
        let body = rest[rest.index(after: open)...]
        if body.hasSuffix("<unfinished ...>") {
            var text = body.dropLast("<unfinished ...>".count)
            while text.last == " " { text = text.dropLast() }
            pending[pid] = (String(name), text)
            return nil
        }
        return complete(pid: pid, name: String(name), argumentsAndResult: body, original: line)
    }

    /// `body` is everything after the opening parenthesis: `args) = result`.
    private func complete(pid: Int32, name: String, argumentsAndResult body: Substring, original: Substring)
        -> StraceRecord
    {
        let bytes = Array(body.utf8)
        var scanner = ArgumentScanner(bytes: bytes)
        guard let arguments = scanner.arguments() else {
            return .unparsed(line: lineNumber, text: String(original))
        }
        let result = StraceParser.result(bytes[scanner.position...])
        return .call(StraceCall(pid: pid, name: name, arguments: arguments, result: result, line: lineNumber))
    }

    /// Parses ` = N ...` after the closing parenthesis.
    static func result(_ bytes: ArraySlice<UInt8>) -> StraceResult {
        var text = Substring(String(decoding: bytes, as: UTF8.self)).trimmingSpaces
        guard text.hasPrefix("=") else { return .unknown }
        text = text.dropFirst().trimmingSpaces
        let token = text.prefix { $0 != " " }
        if token == "?" { return .unknown }
        if token == "-1" {
            let after = text.dropFirst(token.count).trimmingSpaces
            let name = after.prefix { $0 != " " }
            if name.hasPrefix("E") { return .error(String(name)) }
            return .value(-1)
        }
        if let value = parseInteger(token) { return .value(value) }
        return .unknown
    }

    /// Decimal, `0x` hex, `0`-prefixed octal, with an optional sign.
    static func parseInteger(_ token: Substring) -> Int64? {
        var text = token
        var negative = false
        if text.hasPrefix("-") { negative = true; text = text.dropFirst() }
        guard !text.isEmpty else { return nil }
        var value: UInt64?
        if text.hasPrefix("0x") || text.hasPrefix("0X") {
            value = UInt64(text.dropFirst(2), radix: 16)
        } else if text.count > 1 && text.hasPrefix("0") {
            value = UInt64(text.dropFirst(), radix: 8)
        } else {
            value = UInt64(text, radix: 10)
        }
        guard let value else { return nil }
        let signed = Int64(bitPattern: value)
        return negative ? 0 &- signed : signed
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return text
    }
}

/// Splits `a, "b", {c, d}, [e]) = ...` into values, stopping after the closing parenthesis.
struct ArgumentScanner {
    let bytes: [UInt8]
    var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    private static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
    private static let comma = UInt8(ascii: ","), space = UInt8(ascii: " ")
    private static let close = UInt8(ascii: ")")

    mutating func arguments() -> [StraceValue]? {
        var values: [StraceValue] = []
        skipSpaces()
        if position < bytes.count, bytes[position] == Self.close {
            position += 1
            return values
        }
        while position < bytes.count {
            skipSpaces()
            guard let value = value() else { return nil }
            values.append(value)
            skipSpaces()
            guard position < bytes.count else { return values }  // a call cut off (strace killed)
            if bytes[position] == Self.comma {
                position += 1
                continue
            }
            if bytes[position] == Self.close {
                position += 1
                return values
            }
            return nil
        }
        return values
    }

    private mutating func skipSpaces() {
        while position < bytes.count, bytes[position] == Self.space { position += 1 }
    }

    private mutating func value() -> StraceValue? {
        guard position < bytes.count else { return nil }
        let first = bytes[position]
        if first == Self.quote { return string() }
        if first == UInt8(ascii: "{") {
            guard let inner = bracketed(open: UInt8(ascii: "{"), close: UInt8(ascii: "}")) else { return nil }
            return .structure(inner)
        }
        if first == UInt8(ascii: "[") {
            guard let inner = bracketed(open: UInt8(ascii: "["), close: UInt8(ascii: "]")) else { return nil }
            return .array(inner)
        }
        // A bare token, up to a top-level comma or the closing parenthesis; nested
        // parentheses (`makedev(1, 3)`) and comments (`/* 38 vars */`) stay inside it.
        let start = position
        var depth = 0
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "/"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "*") {
                guard let end = commentEnd(from: position) else { return nil }
                position = end
                continue
            }
            if byte == UInt8(ascii: "(") { depth += 1 }
            if byte == Self.close {
                if depth == 0 { break }
                depth -= 1
            }
            if byte == Self.comma && depth == 0 { break }
            position += 1
        }
        var token = Substring(String(decoding: bytes[start..<position], as: UTF8.self)).trimmingSpaces
        // A trailing comment after a value (`0x7ffd /* 38 vars */`) is not part of it.
        if let commentStart = token.range(of: "/*") {
            token = token[..<commentStart.lowerBound].trimmingSpaces
        }
        if token == "NULL" { return .null }
        if let number = StraceParser.parseInteger(token) { return .int(number) }
        if !token.isEmpty, token.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "|" }) {
            return .flags(token.split(separator: "|").map(String.init))
        }
        return .raw(String(token))
    }

    private func commentEnd(from start: Int) -> Int? {
        var index = start + 2
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/") { return index + 2 }
            index += 1
        }
        return nil
    }

    private mutating func bracketed(open: UInt8, close: UInt8) -> String? {
        let start = position + 1
        var depth = 0
        while position < bytes.count {
            let byte = bytes[position]
            if byte == Self.quote {
                guard skipString() else { return nil }
                continue
            }
            if byte == open { depth += 1 }
            if byte == close {
                depth -= 1
                if depth == 0 {
                    position += 1
                    return String(decoding: bytes[start..<(position - 1)], as: UTF8.self)
                }
            }
            position += 1
        }
        return nil
    }

    /// Skips a quoted string (and a `...` truncation marker after it).
    private mutating func skipString() -> Bool {
        position += 1
        while position < bytes.count {
            if bytes[position] == Self.backslash {
                position += 2
                continue
            }
            if bytes[position] == Self.quote {
                position += 1
                if bytes[position...].starts(with: [46, 46, 46]) { position += 3 }
                return true
            }
            position += 1
        }
        return false
    }

    private mutating func string() -> StraceValue? {
        var result: [UInt8] = []
        position += 1
        while position < bytes.count {
            let byte = bytes[position]
            if byte == Self.quote {
                position += 1
                var truncated = false
                if bytes[position...].starts(with: [46, 46, 46]) {
                    truncated = true
                    position += 3
                }
                return .string(result, truncated: truncated)
            }
            if byte != Self.backslash {
                result.append(byte)
                position += 1
                continue
            }
            position += 1
            guard position < bytes.count else { return nil }
            let escaped = bytes[position]
            position += 1
            switch escaped {
            case UInt8(ascii: "n"): result.append(0x0A)
            case UInt8(ascii: "t"): result.append(0x09)
            case UInt8(ascii: "r"): result.append(0x0D)
            case UInt8(ascii: "v"): result.append(0x0B)
            case UInt8(ascii: "f"): result.append(0x0C)
            case UInt8(ascii: "a"): result.append(0x07)
            case UInt8(ascii: "b"): result.append(0x08)
            case UInt8(ascii: "e"): result.append(0x1B)
            case UInt8(ascii: "x"):
                var value: UInt8 = 0
                var digits = 0
                while digits < 2, position < bytes.count, let digit = Self.hexValue(bytes[position]) {
                    value = value &* 16 &+ digit
                    position += 1
                    digits += 1
                }
                result.append(value)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var value = Int(escaped - UInt8(ascii: "0"))
                var digits = 1
                while digits < 3, position < bytes.count,
                    bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "7")
                {
                    value = value * 8 + Int(bytes[position] - UInt8(ascii: "0"))
                    position += 1
                    digits += 1
                }
                result.append(UInt8(truncatingIfNeeded: value))
            default:
                result.append(escaped)  // \\ \" \' and anything else stand for themselves
            }
        }
        return nil
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

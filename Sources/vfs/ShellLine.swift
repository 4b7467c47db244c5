/// One line of shell input, split into words with the quoting a learner expects ('single',
/// "double", backslash escapes) and an optional output redirection (`> file`, `>> file`).
struct ShellLine: Equatable {
    var words: [String]
    var redirect: Redirect?

    struct Redirect: Equatable {
        var path: String
        var append: Bool
    }

    enum ParseError: Error, Equatable, CustomStringConvertible {
        case unterminatedQuote
        case missingRedirectTarget

        var description: String {
            switch self {
            case .unterminatedQuote: "unexpected EOF while looking for matching quote"
            case .missingRedirectTarget: "syntax error near unexpected token `newline'"
            }
        }
    }

    /// Splits `text`; a `#` at the start of a word begins a comment.
    static func parse(_ text: String) throws(ParseError) -> ShellLine {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var redirectNext: Bool?
        var redirect: Redirect?
        var characters = Array(text)[...]

        func finishWord() {
            guard inWord else { return }
            if let append = redirectNext {
                redirect = Redirect(path: current, append: append)
                redirectNext = nil
            } else {
                words.append(current)
            }
            current = ""
            inWord = false
        }

        while let character = characters.popFirst() {
            if let open = quote {
                if character == open {
                    quote = nil
                } else if character == "\\" && open == "\"", let next = characters.popFirst() {
                    current.append(next)
                } else {
                    current.append(character)
                }
                continue
            }
            switch character {
            case " ", "\t":
                finishWord()
            case "'", "\"":
                quote = character
                inWord = true
            case "\\":
                if let next = characters.popFirst() { current.append(next) }
                inWord = true
            case "#" where !inWord:
                characters = []
            case ">" where !inWord || current.isEmpty:
                finishWord()
                if characters.first == ">" {
                    characters.removeFirst()
                    redirectNext = true
                } else {
                    redirectNext = false
                }
            default:
                current.append(character)
                inWord = true
            }
        }
        if quote != nil { throw .unterminatedQuote }
        finishWord()
        if redirectNext != nil { throw .missingRedirectTarget }
        return ShellLine(words: words, redirect: redirect)
    }
}

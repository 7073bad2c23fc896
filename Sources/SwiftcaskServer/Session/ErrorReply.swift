/// Redis 7's error texts, word for word.
enum ErrorReply {
    static let syntax = "ERR syntax error"
    static let notInteger = "ERR value is not an integer or out of range"
    /// An integer argument Redis reads as a C int (a database number) that does not fit one.
    static let notInt32 = "ERR value is out of range, value must between -2147483648 and 2147483647"
    static let notFloat = "ERR value is not a valid float"
    static let overflow = "ERR increment or decrement would overflow"
    static let noSuchKey = "ERR no such key"
    static let databaseOutOfRange = "ERR DB index is out of range"
    static let sameObject = "ERR source and destination objects are the same"
    static let invalidCursor = "ERR invalid cursor"
    static let noAuth = "NOAUTH Authentication required."
    static let wrongPass = "WRONGPASS invalid username-password pair or user is disabled."
    static let authWithoutPassword = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
    static let nestedMulti = "ERR MULTI calls can not be nested"
    static let execWithoutMulti = "ERR EXEC without MULTI"
    static let discardWithoutMulti = "ERR DISCARD without MULTI"
    static let watchInsideMulti = "ERR WATCH inside MULTI is not allowed"
    static let execAbort = "EXECABORT Transaction discarded because of previous errors."
    static let notInMulti = "ERR Command not allowed inside a transaction"
    static let offsetOutOfRange = "ERR offset is out of range"
    static let bitOffset = "ERR bit offset is not an integer or out of range"
    static let bitValue = "ERR bit is not an integer or out of range"
    static let stringTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    static let maxClients = "ERR max number of clients reached"
    static let noSuchClient = "ERR No such client"
    static let incrementNaN = "ERR increment would produce NaN or Infinity"
    static let noProto = "NOPROTO unsupported protocol version"
    static let protocolNotInteger = "ERR Protocol version is not an integer or out of range"
    static let nxXxGtLt = "ERR NX and XX, GT or LT options at the same time are not compatible"
    static let gtLt = "ERR GT and LT options at the same time are not compatible"
    static let protectedMode = "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside."

    static func wrongArity(_ name: String) -> String { "ERR " + wrongArityReason(name) }
    static func wrongArityReason(_ name: String) -> String { "wrong number of arguments for '\(name)' command" }
    /// A malformed EXEC: Redis discards the transaction and names the reason.
    static func execAbort(because reason: String) -> String { "EXECABORT Transaction discarded because of: \(reason)" }
    static func invalidExpire(_ command: String) -> String { "ERR invalid expire time in '\(command)' command" }
    static func unknownSubcommand(_ sub: String, _ container: String) -> String {
        "ERR unknown subcommand '\(sub)'. Try \(container.uppercased()) HELP."
    }
    static func subcommandSyntax(_ sub: String, _ container: String) -> String {
        sanitized("ERR unknown subcommand or wrong number of arguments for '\(sub.prefix(128))'. Try \(container.uppercased()) HELP.")
    }
    /// Values that are not strings are never stored; their commands get this instead of silence.
    static func unsupportedType(_ name: String) -> String {
        "ERR unsupported command '\(name)': swiftcask stores string values only (lists, sets, hashes, sorted sets and streams are not supported)"
    }

    /// "ERR unknown command 'foo', with args beginning with: 'a' 'b' "
    static func unknownCommand(_ name: String, arguments: ArraySlice<String>) -> String {
        var quoted = ""
        for argument in arguments where quoted.utf8.count < 128 {
            quoted += "'\(argument.prefix(128 - quoted.utf8.count))' "
        }
        return sanitized("ERR unknown command '\(name.prefix(128))', with args beginning with: \(quoted)")
    }

    /// Error replies are one line: Redis replaces CR and LF with spaces.
    static func sanitized(_ text: String) -> String {
        String(text.map { $0 == "\r" || $0 == "\n" || $0 == "\r\n" ? " " : $0 })
    }
}

import NIOCore
import Swiftcask

/// Connection commands: PING, HELLO, AUTH, SELECT, QUIT, RESET, CLIENT.
extension ClientSession {
    /// The Redis version reported to clients, which pick features by it.
    static let compatibleRedisVersion = "7.0.15"
    static let serverVersion = "0.1.0"

    func ping() {
        if argv.count > 2 {
            replyWrongArity()
        } else if argv.count == 2 {
            output.writeBulk(argv.slice(at: 1))
        } else {
            output.writeStaticString("+PONG\r\n")
        }
    }

    /// HELLO [protover [AUTH username password] [SETNAME name]]
    func hello() {
        var version = protocolVersion
        if argv.count >= 2 {
            guard let number = argv.slice(at: 1).integerValue else {
                replyError(ErrorReply.protocolNotInteger)
                return
            }
            guard let chosen = RESPVersion(rawValue: number) else {
                replyError(ErrorReply.noProto)
                return
            }
            version = chosen
        }
        var index = 2
        var newName: String?
        while index < argv.count {
            if argv.slice(at: index).equalsIgnoringCase("AUTH") && index + 2 < argv.count {
                guard authenticate(username: argv.slice(at: index + 1).text, password: argv.slice(at: index + 2)) else { return }
                index += 3
            } else if argv.slice(at: index).equalsIgnoringCase("SETNAME") && index + 1 < argv.count {
                guard validateClientName(argv.slice(at: index + 1)) else { return }
                newName = argv.slice(at: index + 1).text
                index += 2
            } else {
                replyError("ERR Syntax error in HELLO option '\(argv.slice(at: index).text)'")
                return
            }
        }
        guard isAuthenticated else {
            replyError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
            return
        }
        if let newName { clientName = newName }
        protocolVersion = version
        output.writeMapHeader(7, protocolVersion)
        output.writeBulkString("server")
        output.writeBulkString("redis")
        output.writeBulkString("version")
        output.writeBulkString(Self.compatibleRedisVersion)
        output.writeBulkString("proto")
        output.writeInteger(version.rawValue)
        output.writeBulkString("id")
        output.writeInteger(Int(handle.id))
        output.writeBulkString("mode")
        output.writeBulkString("standalone")
        output.writeBulkString("role")
        output.writeBulkString("master")
        output.writeBulkString("modules")
        output.writeArrayHeader(0)
    }

    /// AUTH [username] password
    func auth() {
        guard argv.count <= 3 else {
            replyError(ErrorReply.syntax)
            return
        }
        let password = state.configuration.withLock { $0.requirePass }
        if argv.count == 2 && password.isEmpty {
            replyError(ErrorReply.authWithoutPassword)
            return
        }
        let username = argv.count == 3 ? argv.slice(at: 1).text : "default"
        if authenticate(username: username, password: argv.slice(at: argv.count - 1)) { output.writeOK() }
    }

    /// Checks credentials in constant time; replies WRONGPASS and returns false on mismatch.
    func authenticate(username: String, password: ByteBuffer) -> Bool {
        let expected = Array(state.configuration.withLock { $0.requirePass }.utf8)
        let given = password.bytes
        // Compare every byte of the longer input so timing does not reveal a matching prefix.
        var difference = UInt8(truncatingIfNeeded: expected.count ^ given.count) | (expected.count == given.count ? 0 : 1)
        for index in 0..<max(expected.count, given.count) {
            let a = index < expected.count ? expected[index] : 0
            let b = index < given.count ? given[index] : 0
            difference |= a ^ b
        }
        guard username == "default" && (expected.isEmpty || difference == 0) else {
            replyError(ErrorReply.wrongPass)
            return false
        }
        isAuthenticated = true
        return true
    }

    func select() {
        guard let number = databaseArgument(1) else { return }
        database = number
        keyspace = state.physicalKeyspace(ofDatabase: number)
        output.writeOK()
    }

    func quit() {
        output.writeOK()
        closeAfterFlush = true
    }

    func reset() {
        transaction = nil
        unwatchAll()
        database = 0
        keyspace = state.physicalKeyspace(ofDatabase: 0)
        protocolVersion = .resp2
        clientName = ""
        isAuthenticated = !state.configuration.withLock { $0.requiresPassword }
        output.writeStaticString("+RESET\r\n")
    }

    func validateClientName(_ name: ByteBuffer) -> Bool {
        for byte in name.readableBytesView where byte < 0x21 || byte > 0x7E {
            replyError("ERR Client names cannot contain spaces, newlines or special characters.")
            return false
        }
        return true
    }

    func client() {
        let sub = argv.slice(at: 1)
        if sub.equalsIgnoringCase("ID") && argv.count == 2 {
            output.writeInteger(Int(handle.id))
        } else if sub.equalsIgnoringCase("SETNAME") && argv.count == 3 {
            guard validateClientName(argv.slice(at: 2)) else { return }
            clientName = argv.slice(at: 2).text
            output.writeOK()
        } else if sub.equalsIgnoringCase("GETNAME") && argv.count == 2 {
            if clientName.isEmpty { output.writeNull(protocolVersion) } else { output.writeBulkString(clientName) }
        } else if sub.equalsIgnoringCase("INFO") && argv.count == 2 {
            finishBatch()
            output.writeVerbatim(handle.describe(nowMillis: now, clock: commandClock, registry: state.registry) + "\n", protocolVersion)
        } else if sub.equalsIgnoringCase("LIST") {
            clientList()
        } else if sub.equalsIgnoringCase("KILL") && argv.count >= 3 {
            clientKill()
        } else if sub.equalsIgnoringCase("SETINFO") && argv.count == 4 {
            let value = argv.slice(at: 3).text
            if argv.slice(at: 2).equalsIgnoringCase("LIB-NAME") {
                libraryName = value
            } else if argv.slice(at: 2).equalsIgnoringCase("LIB-VER") {
                libraryVersion = value
            } else {
                replyError("ERR Unrecognized option '\(argv.slice(at: 2).text)'")
                return
            }
            output.writeOK()
        } else if (sub.equalsIgnoringCase("NO-EVICT") || sub.equalsIgnoringCase("NO-TOUCH")) && argv.count == 3 {
            if argv.slice(at: 2).equalsIgnoringCase("ON") || argv.slice(at: 2).equalsIgnoringCase("OFF") {
                output.writeOK()
            } else {
                replyError(ErrorReply.syntax)
            }
        } else if sub.equalsIgnoringCase("REPLY") && argv.count == 3 {
            if argv.slice(at: 2).equalsIgnoringCase("ON") {
                output.writeOK()
            } else if argv.slice(at: 2).equalsIgnoringCase("OFF") || argv.slice(at: 2).equalsIgnoringCase("SKIP") {
                replyError("ERR CLIENT REPLY OFF and SKIP are not supported")
            } else {
                replyError(ErrorReply.syntax)
            }
        } else if sub.equalsIgnoringCase("HELP") && argv.count == 2 {
            let lines = ["CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                         "GETNAME", "ID", "INFO", "KILL <ip:port> | <option> <value> [...]", "LIST [TYPE <type>] [ID <id> [...]]",
                         "SETNAME <name>", "SETINFO <LIB-NAME|LIB-VER> <value>", "NO-EVICT (ON|OFF)", "NO-TOUCH (ON|OFF)", "HELP"]
            output.writeArrayHeader(lines.count)
            for line in lines { output.writeSimpleString(line) }
        } else {
            replySubcommandRejected(container: "client")
        }
    }

    private func clientList() {
        var onlyIDs: Set<ClientID>?
        var index = 2
        while index < argv.count {
            if argv.slice(at: index).equalsIgnoringCase("TYPE") && index + 1 < argv.count {
                guard argv.slice(at: index + 1).equalsIgnoringCase("normal") || argv.slice(at: index + 1).equalsIgnoringCase("master")
                    || argv.slice(at: index + 1).equalsIgnoringCase("replica") || argv.slice(at: index + 1).equalsIgnoringCase("pubsub") else {
                    replyError("ERR Unknown client type '\(argv.slice(at: index + 1).text)'")
                    return
                }
                if !argv.slice(at: index + 1).equalsIgnoringCase("normal") { onlyIDs = [] }
                index += 2
            } else if argv.slice(at: index).equalsIgnoringCase("ID") && index + 1 < argv.count {
                var ids: Set<ClientID> = []
                for argument in argv[(index + 1)...] {
                    guard let id = argument.integerValue, id > 0 else {
                        replyError("ERR Invalid client ID")
                        return
                    }
                    ids.insert(ClientID(id))
                }
                onlyIDs = ids
                index = argv.count
            } else {
                replyError(ErrorReply.syntax)
                return
            }
        }
        finishBatch()
        let handles = state.clients.withLock { Array($0.values) }.sorted { $0.id < $1.id }
        let nowMillis = now
        var text = ""
        for client in handles where onlyIDs?.contains(client.id) ?? true {
            text += client.describe(nowMillis: nowMillis, clock: commandClock, registry: state.registry) + "\n"
        }
        output.writeVerbatim(text, protocolVersion)
    }

    /// CLIENT KILL ip:port | [ID id] [ADDR ip:port] [LADDR ip:port] [USER name] [SKIPME yes|no]
    private func clientKill() {
        var id: ClientID?, address: String?, localAddress: String?
        var skipSelf = true
        let oldStyle = argv.count == 3
        if oldStyle {
            address = argv.slice(at: 2).text
            skipSelf = false
        } else {
            var index = 2
            while index < argv.count {
                guard index + 1 < argv.count else {
                    replyError(ErrorReply.syntax)
                    return
                }
                let value = argv.slice(at: index + 1)
                if argv.slice(at: index).equalsIgnoringCase("ID") {
                    guard let number = value.integerValue, number > 0 else {
                        replyError("ERR client-id should be greater than 0")
                        return
                    }
                    id = ClientID(number)
                } else if argv.slice(at: index).equalsIgnoringCase("ADDR") {
                    address = value.text
                } else if argv.slice(at: index).equalsIgnoringCase("LADDR") {
                    localAddress = value.text
                } else if argv.slice(at: index).equalsIgnoringCase("SKIPME") {
                    guard value.equalsIgnoringCase("yes") || value.equalsIgnoringCase("no") else {
                        replyError(ErrorReply.syntax)
                        return
                    }
                    skipSelf = value.equalsIgnoringCase("yes")
                } else if argv.slice(at: index).equalsIgnoringCase("USER") || argv.slice(at: index).equalsIgnoringCase("TYPE") {
                    // Every client is the default user of type normal.
                } else {
                    replyError(ErrorReply.syntax)
                    return
                }
                index += 2
            }
        }
        let handles = state.clients.withLock { Array($0.values) }
        var killed = 0
        for client in handles {
            if let id, client.id != id { continue }
            if let address, client.peer != address { continue }
            if let localAddress, client.local != localAddress { continue }
            if client.id == handle.id {
                if skipSelf { continue }
                closeAfterFlush = true
            } else {
                client.channel.close(promise: nil)
            }
            killed += 1
        }
        if oldStyle {
            if killed == 0 { replyError(ErrorReply.noSuchClient) } else { output.writeOK() }
        } else {
            output.writeInteger(killed)
        }
    }
}

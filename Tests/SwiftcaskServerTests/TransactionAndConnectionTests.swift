import NIOCore
import Testing
@testable import SwiftcaskServer

@Suite struct TransactionTests {
    @Test func execRunsQueuedCommandsInOrderAndSeesItsOwnWrites() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        #expect(try client.call("MULTI") == "+OK\r\n")
        #expect(try client.call("SET", "a", "1") == "+QUEUED\r\n")
        #expect(try client.call("INCR", "a") == "+QUEUED\r\n")
        #expect(try client.call("GET", "a") == "+QUEUED\r\n")
        #expect(try client.call("EXEC") == "*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n")
        #expect(try client.call("GET", "a") == "$1\r\n2\r\n")
    }

    @Test func queueingErrorsAbortExec() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        _ = try client.call("MULTI")
        #expect(try client.call("SET", "a") == "-ERR wrong number of arguments for 'set' command\r\n")
        #expect(try client.call("EXEC") == "-EXECABORT Transaction discarded because of previous errors.\r\n")
        #expect(try client.call("EXEC") == "-ERR EXEC without MULTI\r\n")
        #expect(try client.call("DISCARD") == "-ERR DISCARD without MULTI\r\n")
        _ = try client.call("MULTI")
        #expect(try client.call("MULTI") == "-ERR MULTI calls can not be nested\r\n")
        #expect(try client.call("WATCH", "x") == "-ERR WATCH inside MULTI is not allowed\r\n")
        #expect(try client.call("DISCARD") == "+OK\r\n")
    }

    @Test func watchedKeyChangedByAnotherClientAbortsExec() throws {
        let harness = try TestHarness()
        let watcher = try harness.client()
        let writer = try harness.client()
        #expect(try watcher.call("WATCH", "k") == "+OK\r\n")
        #expect(try writer.call("SET", "k", "other") == "+OK\r\n")
        _ = try watcher.call("MULTI")
        _ = try watcher.call("SET", "k", "mine")
        #expect(try watcher.call("EXEC") == "*-1\r\n")
        #expect(try watcher.call("GET", "k") == "$5\r\nother\r\n")
        // Once EXEC ran, the watch is gone and the next transaction succeeds.
        _ = try watcher.call("MULTI")
        _ = try watcher.call("SET", "k", "mine")
        #expect(try watcher.call("EXEC") == "*1\r\n+OK\r\n")
    }

    /// INCR outside a transaction writes through the engine's read-modify-write, not the staged
    /// batch: it must still flag watchers, and only when it changed the key.
    @Test(arguments: [["INCR", "n"], ["DECRBY", "n", "3"]])
    func counterWritesAbortWatchers(command: [String]) throws {
        let harness = try TestHarness()
        let watcher = try harness.client()
        let writer = try harness.client()
        #expect(try writer.call("SET", "n", "10") == "+OK\r\n")
        #expect(try writer.call("SET", "text", "abc") == "+OK\r\n")
        #expect(try watcher.call("WATCH", "n", "text") == "+OK\r\n")
        // A failed INCR changes nothing and flags nobody.
        #expect(try writer.call("INCR", "text") == "-ERR value is not an integer or out of range\r\n")
        _ = try watcher.call("MULTI")
        _ = try watcher.call("GET", "n")
        #expect(try watcher.call("EXEC") == "*1\r\n$2\r\n10\r\n")
        #expect(try watcher.call("WATCH", "n") == "+OK\r\n")
        _ = try writer.raw(TestClient.encode(command))
        _ = try watcher.call("MULTI")
        _ = try watcher.call("SET", "n", "0")
        #expect(try watcher.call("EXEC") == "*-1\r\n")
    }

    @Test func unwatchedKeysDoNotAbort() throws {
        let harness = try TestHarness()
        let watcher = try harness.client()
        let writer = try harness.client()
        _ = try watcher.call("WATCH", "k")
        _ = try writer.call("SET", "other", "x")
        _ = try watcher.call("MULTI")
        _ = try watcher.call("INCR", "k")
        #expect(try watcher.call("EXEC") == "*1\r\n:1\r\n")
    }
}

@Suite struct ConnectionTests {
    @Test func pipelinedRepliesComeBackInOrderInOneRead() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        var input = ""
        for index in 0..<100 { input += TestClient.encode(["SET", "k\(index)", "\(index)"]) + TestClient.encode(["GET", "k\(index)"]) }
        var expected = ""
        for index in 0..<100 { expected += "+OK\r\n$\(String(index).count)\r\n\(index)\r\n" }
        #expect(try client.raw(input) == expected)
    }

    @Test func inlineCommandsWork() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        #expect(try client.raw("SET k \"hello world\"\r\nGET k\r\n") == "+OK\r\n$11\r\nhello world\r\n")
    }

    @Test func protocolErrorRepliesThenCloses() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        #expect(try client.raw("PING\r\n*1\r\n+x\r\n") == "+PONG\r\n-ERR Protocol error: expected '$', got '+'\r\n")
        #expect(!client.isActive)
        let other = try harness.client()
        #expect(try other.call("PING") == "+PONG\r\n")
    }

    @Test func helloSwitchesToRESP3() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        #expect(try client.call("HELLO", "4") == "-NOPROTO unsupported protocol version\r\n")
        let reply = try client.call("HELLO", "3")
        #expect(reply.hasPrefix("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"))
        #expect(try client.call("GET", "missing") == "_\r\n")
        #expect(try client.call("CONFIG", "GET", "databases") == "%1\r\n$9\r\ndatabases\r\n$2\r\n16\r\n")
    }

    @Test func requirepassGatesCommandsUntilAuth() throws {
        let harness = try TestHarness { $0.requirePass = "s3cret" }
        let client = try harness.client()
        #expect(try client.call("GET", "k") == "-NOAUTH Authentication required.\r\n")
        #expect(try client.call("AUTH", "wrong") == "-WRONGPASS invalid username-password pair or user is disabled.\r\n")
        #expect(try client.call("AUTH", "s3cret") == "+OK\r\n")
        #expect(try client.call("GET", "k") == "$-1\r\n")
        let other = try harness.client()
        // Tighter protocol limits before AUTH: more than 10 arguments closes the connection.
        let reply = try other.raw("*11\r\n")
        #expect(reply == "-ERR Protocol error: unauthenticated multibulk length\r\n")
    }

    @Test func authWithoutPasswordConfigured() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        #expect(try client.call("AUTH", "x") == "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n")
    }

    @Test func maxclientsRefusesWithRedisError() throws {
        let harness = try TestHarness { $0.maxClients = 1 }
        let first = try harness.client()
        let second = try harness.client()
        #expect(try second.drain() == "-ERR max number of clients reached\r\n")
        #expect(try first.call("PING") == "+PONG\r\n")
    }

    @Test func clientSubcommands() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        #expect(try client.call("CLIENT", "SETNAME", "app") == "+OK\r\n")
        #expect(try client.call("CLIENT", "GETNAME") == "$3\r\napp\r\n")
        #expect(try client.call("CLIENT", "SETNAME", "a b") == "-ERR Client names cannot contain spaces, newlines or special characters.\r\n")
        #expect(try client.call("CLIENT", "LIST").contains("name=app"))
        #expect(try client.call("CLIENT", "SETINFO", "LIB-NAME", "redis-py") == "+OK\r\n")
        #expect(try client.call("CLIENT", "KILL", "1.2.3.4:5") == "-ERR No such client\r\n")
        #expect(try client.call("CLIENT", "FOO") == "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n")
        #expect(try client.call("QUIT") == "+OK\r\n")
        #expect(!client.isActive)
    }
}

@Suite struct ServerCommandTests {
    @Test func commandIntrospection() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        #expect(try client.call("COMMAND", "COUNT") == ":\(CommandTable.topLevel.count)\r\n")
        let info = try client.call("COMMAND", "INFO", "get")
        #expect(info.hasPrefix("*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n"))
        #expect(try client.call("COMMAND", "INFO", "nosuch") == "*1\r\n$-1\r\n")
        #expect(try client.call("COMMAND", "DOCS", "get").contains("Get the value of a key"))
        #expect(try client.call("COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2") == "*2\r\n$1\r\na\r\n$1\r\nb\r\n")
    }

    @Test func everyTableCommandIsDispatched() {
        let registry = CommandRegistry()
        func entry(_ name: String) -> CommandRegistry.Entry? { Array(name.utf8).withUnsafeBytes { registry.entry(named: $0) } }
        for id in CommandID.allCases {
            #expect(entry(id.rawValue.uppercased())?.id == id)
        }
        #expect(entry("nosuch") == nil)
    }

    @Test func configGetSetAndResetstat() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        #expect(try client.call("CONFIG", "GET", "maxclients") == "*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n")
        #expect(try client.call("CONFIG", "SET", "maxclients", "50") == "+OK\r\n")
        #expect(try client.call("CONFIG", "GET", "maxclients") == "*2\r\n$10\r\nmaxclients\r\n$2\r\n50\r\n")
        #expect(try client.call("CONFIG", "SET", "port", "1") == "-ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config\r\n")
        #expect(try client.call("CONFIG", "SET", "foo", "bar") == "-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n")
        #expect(try client.call("CONFIG", "GET", "save") == "*2\r\n$4\r\nsave\r\n$0\r\n\r\n")
        // A fixed value can be set to what it is, not changed (it would do nothing).
        #expect(try client.call("CONFIG", "SET", "save", "") == "+OK\r\n")
        #expect(try client.call("CONFIG", "SET", "maxmemory-policy", "NoEviction") == "+OK\r\n")
        #expect(try client.call("CONFIG", "SET", "maxmemory", "100mb") == "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - not supported by swiftcask, which keeps it at '0'\r\n")
        #expect(try client.call("CONFIG", "RESETSTAT") == "+OK\r\n")
    }

    @Test func slowlogRecordsCommandsOverTheThreshold() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        #expect(try client.call("CONFIG", "SET", "slowlog-log-slower-than", "0") == "+OK\r\n")
        _ = try client.call("SET", "k", "v")
        #expect(try client.call("SLOWLOG", "LEN") != ":0\r\n")
        #expect(try client.call("SLOWLOG", "GET", "-1").contains("$3\r\nSET\r\n$1\r\nk\r\n"))
        #expect(try client.call("SLOWLOG", "RESET") == "+OK\r\n")
        #expect(try client.call("SLOWLOG", "GET", "x") == "-ERR count should be greater than or equal to -1\r\n")
    }

    @Test func infoHasRedisSections() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        _ = try client.call("SET", "k", "v")
        _ = try client.call("GET", "k")
        let info = try client.call("INFO")
        for section in ["# Server", "# Clients", "# Memory", "# Persistence", "# Stats", "# Replication", "# CPU", "# Keyspace"] {
            #expect(info.contains(section))
        }
        #expect(info.contains("db0:keys=1"))
        #expect(info.contains("keyspace_hits:1"))
        #expect(try client.call("INFO", "commandstats").contains("cmdstat_set:calls=1"))
    }

    /// Redis 7 counts a container's calls under their subcommand, in any case; an unknown
    /// subcommand stays under the container, and CLIENT LIST names the subcommand too.
    @Test func commandstatsCountSubcommandsOfContainers() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        _ = try client.call("CONFIG", "GET", "maxmemory")
        _ = try client.call("config", "Get", "port")
        _ = try client.call("CLIENT", "SETNAME", "probe")
        #expect(try client.call("CONFIG", "NOSUCH").hasPrefix("-ERR unknown subcommand"))
        let stats = try client.call("INFO", "commandstats")
        #expect(stats.contains("cmdstat_config|get:calls=2,"))
        #expect(stats.contains("cmdstat_client|setname:calls=1,"))
        #expect(stats.contains("cmdstat_config:calls=1,"), "the unknown subcommand")
        #expect(!stats.contains("cmdstat_client:"))
        #expect(try client.call("CLIENT", "LIST").contains("cmd=client|list"))
    }

    /// A subcommand's own arity is checked before it runs and rejects the call, as in Redis 7;
    /// another client sees `cmd=NULL` after an unknown command and the name of a rejected one.
    @Test func subcommandArityRejectsAndClientListNamesRejectedCommands() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        let observer = try harness.client()
        #expect(try client.call("CONFIG", "GET") == "-ERR wrong number of arguments for 'config|get' command\r\n")
        #expect(try client.call("INFO", "commandstats").contains("cmdstat_config|get:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0"))
        _ = try client.call("NOSUCH")
        #expect(try observer.call("CLIENT", "LIST").contains("cmd=NULL"))
        _ = try client.call("GET")
        #expect(try observer.call("CLIENT", "LIST").contains("cmd=get "))
    }

    /// Another client's CLIENT LIST follows each change of a client's details, batch by batch:
    /// the session republishes them only after a command changed one, so each must count.
    @Test func clientListFollowsEveryChangeOfAnotherClientsDetails() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        let observer = try harness.client()
        let id = try client.call("CLIENT", "ID").dropFirst().prefix(while: \.isNumber)
        func line() throws -> Substring {
            let list = try observer.call("CLIENT", "LIST")
            return list.split(whereSeparator: \.isNewline).first { $0.hasPrefix("id=\(id) ") } ?? ""
        }
        #expect(try line().contains(" name= "))
        _ = try client.call("CLIENT", "SETNAME", "worker")
        #expect(try line().contains(" name=worker "))
        _ = try client.call("SELECT", "3")
        #expect(try line().contains(" db=3 "))
        _ = try client.call("MULTI")
        #expect(try line().contains(" flags=x "))
        _ = try client.call("DISCARD")
        #expect(try line().contains(" flags=N "))
        _ = try client.call("CLIENT", "SETINFO", "LIB-VER", "1.2")
        #expect(try line().hasSuffix("lib-ver=1.2"))
        _ = try client.call("HELLO", "3")
        let afterHello = try line()
        #expect(afterHello.contains(" resp=3 ") && afterHello.contains(" cmd=hello "))
    }

    /// An error inside EXEC does not make EXEC a failed call, and a slow EXEC is logged with
    /// its own arguments, not those of the last queued command.
    @Test func execCountsAndLogsAsItself() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        #expect(try client.call("CONFIG", "SET", "slowlog-log-slower-than", "0") == "+OK\r\n")
        _ = try client.call("SET", "text", "abc")
        _ = try client.call("MULTI")
        _ = try client.call("INCR", "text")
        _ = try client.call("SET", "other", "v")
        #expect(try client.call("EXEC") == "*2\r\n-ERR value is not an integer or out of range\r\n+OK\r\n")
        #expect(try client.call("INFO", "commandstats").contains("cmdstat_exec:calls=1,"))
        let stats = try client.call("INFO", "commandstats")
        let execLine = stats.split(separator: "\r\n").first { $0.hasPrefix("cmdstat_exec:") }
        #expect(execLine?.hasSuffix("failed_calls=0") == true, "\(execLine ?? "no exec line")")
        let slow = try client.call("SLOWLOG", "GET", "-1")
        #expect(slow.contains("*1\r\n$4\r\nEXEC\r\n"), "\(slow)")
    }

    @Test func configFileLines() throws {
        var configuration = ServerConfiguration()
        try ConfigFile.apply("# comment\nport 7000\nappendfsync always\nrequirepass \"pa ss\"\nsave \"\"\n", to: &configuration)
        #expect(configuration.port == 7000)
        #expect(configuration.appendfsync == .always)
        #expect(configuration.requirePass == "pa ss")
        #expect(throws: ConfigError.self) { try ConfigFile.apply("nosuch 1\n", to: &configuration) }
        #expect(throws: ConfigError.self) { try ConfigFile.apply("appendfsync sometimes\n", to: &configuration) }
        #expect(try ConfigParameter.memory("1gb", "x") == 1 << 30)
        #expect(try ConfigParameter.memory("64k", "x") == 64_000)
    }
}

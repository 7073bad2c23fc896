import NIOCore
import Testing
@testable import SwiftcaskServer

@Suite struct CommandArgumentsTests {
    /// Decodes `input` (which must hold exactly one command) the way the server does, from a
    /// buffer whose reader index is not 0, so offsets relative to the frame are exercised.
    static func decodedCommand(_ input: String) throws -> RESPCommand {
        var buffer = ByteBuffer(string: "*1\r\n$4\r\nPING\r\n" + input)
        var decoder = RESPCommandDecoder()
        _ = try decoder.next(from: &buffer)
        return try #require(try decoder.next(from: &buffer))
    }

    static func strings(_ arguments: CommandArguments) -> [String] {
        arguments.map { String(buffer: $0) }
    }

    @Test func loadingACommandExposesItsArgumentsInPlaceAndAsSlices() throws {
        var arguments = CommandArguments(reservingCapacity: 2)
        #expect(arguments.isEmpty)
        var set = try Self.decodedCommand("*3\r\n$3\r\nSET\r\n$5\r\nk\r\ney\r\n$0\r\n\r\n")
        arguments.load(&set)
        #expect(Self.strings(arguments) == ["SET", "k\r\ney", ""])
        #expect(arguments.withBytes(at: 1) { Array($0) } == Array("k\r\ney".utf8))
        #expect(arguments.withBytes(at: 2) { $0.count } == 0)
        #expect(arguments.command.arguments.map { String(buffer: $0) } == ["SET", "k\r\ney", ""])

        // A second command replaces the first entirely (more arguments than reserved too), and
        // the first one's frame is handed back in its place.
        var mget = try Self.decodedCommand("*4\r\n$4\r\nMGET\r\n$1\r\na\r\n$2\r\nbb\r\n$3\r\nccc\r\n")
        arguments.load(&mget)
        #expect(Self.strings(arguments) == ["MGET", "a", "bb", "ccc"])
        #expect(arguments.dropFirst().map { $0.readableBytes } == [1, 2, 3])
        #expect(mget.frame.getString(at: mget.frame.readerIndex, length: 4) == "*3\r\n")

        // Back to fewer arguments: the spans beyond them are not arguments any more.
        var get = try Self.decodedCommand("*2\r\n$3\r\nGET\r\n$1\r\nz\r\n")
        arguments.load(&get)
        #expect(arguments.count == 2)
        #expect(Self.strings(arguments) == ["GET", "z"])
        #expect(arguments.command.argumentCount == 2)
    }

    @Test func anInlineCommandLoadsLikeItsMultibulkForm() throws {
        var arguments = CommandArguments(reservingCapacity: 4)
        var inline = try Self.decodedCommand("set  a \"b c\"\r\n")
        arguments.load(&inline)
        #expect(Self.strings(arguments) == ["set", "a", "b c"])
        #expect(arguments.withBytes(at: 2) { String(decoding: $0, as: UTF8.self) } == "b c")
    }
}


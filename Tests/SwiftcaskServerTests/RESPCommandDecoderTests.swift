import NIOCore
import NIOTestUtils
import Testing
@testable import SwiftcaskServer

@Suite struct RESPCommandDecoderTests {
    static func command(_ arguments: String...) -> RESPCommand { commandOf(arguments) }

    static func decodeAll(_ input: String, limits: RESPLimits = RESPLimits()) throws(RESPProtocolError) -> [RESPCommand] {
        var decoder = RESPCommandDecoder(limits: limits)
        var buffer = ByteBuffer(string: input)
        var result: [RESPCommand] = []
        while let command = try decoder.next(from: &buffer) { result.append(command) }
        return result
    }

    static func expectError(_ input: String, _ expected: RESPProtocolError, limits: RESPLimits = RESPLimits()) {
        #expect(throws: expected) { try decodeAll(input, limits: limits) }
    }

    @Test func everySplitPointDecodesTheSameCommands() throws {
        try ByteToMessageDecoderVerifier.verifyDecoder(
            stringInputOutputPairs: [
                ("*1\r\n$4\r\nPING\r\n", [Self.command("PING")]),
                ("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n", [Self.command("SET", "key", "value")]),
                ("*2\r\n$3\r\nGET\r\n$0\r\n\r\n*1\r\n$4\r\nPING\r\n", [Self.command("GET", ""), Self.command("PING")]),
                ("PING\r\n", [Self.command("PING")]),
                ("set a \"b c\"\n", [Self.command("set", "a", "b c")]),
                ("\r\n\r\nECHO x\r\n", [Self.command("ECHO", "x")]),
                ("*0\r\n*-1\r\n*1\r\n$1\r\nx\r\n", [Self.command("x")]),
            ],
            decoderFactory: { RESPCommandDecoder() })
    }

    @Test func partialFrameLeavesTheReaderIndexAlone() throws {
        var decoder = RESPCommandDecoder()
        var buffer = ByteBuffer(string: "*2\r\n$3\r\nGET\r\n$3\r\nke")
        #expect(try decoder.next(from: &buffer) == nil)
        #expect(buffer.readerIndex == 0)
        buffer.writeString("y\r\n")
        #expect(try decoder.next(from: &buffer) == Self.command("GET", "key"))
        #expect(buffer.readableBytes == 0)
    }

    @Test func argumentsAreSlicesOfTheFrame() {
        let arguments = Self.command("SET", "k", "").arguments
        #expect(arguments.map { String(buffer: $0) } == ["SET", "k", ""])
    }

    @Test func binarySafeBulkStrings() throws {
        let commands = try Self.decodeAll("*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb\r\n")
        #expect(commands.first?.arguments.last.map { Array($0.readableBytesView) } == Array("a\r\nb".utf8))
    }

    @Test func inlineQuotesAndEscapes() throws {
        let commands = try Self.decodeAll("SET \"a\\x41\\n\" 'it\\'s'\r\n")
        #expect(commands.first?.arguments.map { Array($0.readableBytesView) } == [Array("SET".utf8), Array("aA\n".utf8), Array("it's".utf8)])
    }

    /// Unquoted inline commands are rewritten into one frame buffer the decoder reuses: held
    /// commands (as MULTI holds its queue) keep their own arguments, and a dropped one's buffer
    /// serves the next. Lengths of one and several digits, runs of spaces and tabs.
    @Test func inlineCommandsRewrittenIntoTheReusedFrame() throws {
        let long = String(repeating: "v", count: 1234)
        let words = (0..<12).map { "w\($0)" }
        // A frame past the size a connection keeps (many short words): decoded whole, and the
        // commands after it still decode.
        let many = (0..<3000).map { "m\($0 % 10)" }
        let input = "SET  k \(long)  \r\n\t" + words.joined(separator: " \t") + "\r\n" + many.joined(separator: " ")
            + "\r\nPING\r\nECHO again\r\n"
        let expected = [Self.commandOf(["SET", "k", long]), Self.commandOf(words), Self.commandOf(many), Self.command("PING"),
                        Self.command("ECHO", "again")]
        #expect(try Self.decodeAll(input) == expected)
        var decoder = RESPCommandDecoder()
        var buffer = ByteBuffer(string: input)
        for command in expected { #expect(try decoder.next(from: &buffer) == command) }
        #expect(try decoder.next(from: &buffer) == nil)
    }

    static func commandOf(_ arguments: [String]) -> RESPCommand {
        var frame = ByteBuffer(string: "*\(arguments.count)\r\n")
        for argument in arguments { frame.writeString("$\(argument.utf8.count)\r\n\(argument)\r\n") }
        return RESPCommand(frame: frame, argumentCount: arguments.count)
    }

    // One raw-bytes test per malformed input, as in Redis's tests/unit/protocol.tcl.

    @Test func nonNumericMultibulkLength() { Self.expectError("*abc\r\n", .invalidMultibulkLength) }
    @Test func leadingZeroMultibulkLength() { Self.expectError("*01\r\n", .invalidMultibulkLength) }
    @Test func multibulkLengthOverTheLimit() { Self.expectError("*\(RESPLimits.multibulkCountMax + 1)\r\n", .invalidMultibulkLength) }
    @Test func multibulkLengthThatOverflows() { Self.expectError("*99999999999999999999\r\n", .invalidMultibulkLength) }
    @Test func missingDollar() { Self.expectError("*1\r\n+PING\r\n", .expectedDollar(got: UInt8(ascii: "+"))) }
    @Test func negativeBulkLength() { Self.expectError("*1\r\n$-1\r\n", .invalidBulkLength) }
    @Test func nonNumericBulkLength() { Self.expectError("*1\r\n$x\r\n", .invalidBulkLength) }
    @Test func bulkLengthOverProtoMaxBulkLenIsRefusedBeforeItsBytes() {
        let limits = RESPLimits(bulkBytesMax: 1024 * 1024, queryBufferBytesMax: 2 * 1024 * 1024)
        Self.expectError("*1\r\n$\(1024 * 1024 + 1)\r\n", .invalidBulkLength, limits: limits)
    }
    @Test func bulkAtProtoMaxBulkLenIsAccepted() throws {
        let limits = RESPLimits(bulkBytesMax: 1024 * 1024, queryBufferBytesMax: 2 * 1024 * 1024)
        #expect(try Self.decodeAll("*1\r\n$\(1024 * 1024)\r\n", limits: limits).isEmpty)
    }
    @Test func commandOverTheQueryBufferLimit() {
        let limits = RESPLimits(bulkBytesMax: 1024 * 1024, queryBufferBytesMax: 1024 * 1024)
        Self.expectError("*2\r\n$\(1024 * 1024 - 5)\r\n", .queryBufferLimit, limits: limits)
    }
    @Test func unterminatedMultibulkCount() { Self.expectError("*" + String(repeating: "1", count: RESPLimits.inlineBytesMax + 1), .tooBigMultibulkCount) }
    @Test func unterminatedBulkCount() { Self.expectError("*1\r\n$" + String(repeating: "1", count: RESPLimits.inlineBytesMax + 1), .tooBigBulkCount) }
    @Test func inlineRequestOverTheLimit() { Self.expectError(String(repeating: "a", count: RESPLimits.inlineBytesMax + 1), .tooBigInlineRequest) }
    @Test func inlineRequestAtTheLimitWaitsForMore() throws {
        #expect(try Self.decodeAll(String(repeating: "a", count: RESPLimits.inlineBytesMax)).isEmpty)
    }
    @Test func unbalancedDoubleQuotes() { Self.expectError("SET \"a b\r\n", .unbalancedQuotes) }
    @Test func unbalancedSingleQuotes() { Self.expectError("SET 'a b\r\n", .unbalancedQuotes) }
    @Test func closingQuoteFollowedByText() { Self.expectError("SET \"a\"b c\r\n", .unbalancedQuotes) }

    @Test func unauthenticatedMultibulkCount() {
        let limits = RESPLimits(isAuthenticated: false)
        Self.expectError("*\(RESPLimits.unauthenticatedMultibulkCountMax + 1)\r\n", .unauthenticatedMultibulkLength, limits: limits)
    }
    @Test func unauthenticatedBulkLength() {
        let limits = RESPLimits(isAuthenticated: false)
        Self.expectError("*1\r\n$\(RESPLimits.unauthenticatedBulkBytesMax + 1)\r\n", .unauthenticatedBulkLength, limits: limits)
    }
    @Test func unauthenticatedLimitsAreExactBounds() throws {
        let limits = RESPLimits(isAuthenticated: false)
        let payload = String(repeating: "x", count: RESPLimits.unauthenticatedBulkBytesMax)
        #expect(try Self.decodeAll("*1\r\n$\(payload.utf8.count)\r\n\(payload)\r\n", limits: limits).count == 1)
    }

    @Test func errorTextsMatchRedis() {
        #expect(RESPProtocolError.invalidMultibulkLength.description == "Protocol error: invalid multibulk length")
        #expect(RESPProtocolError.expectedDollar(got: UInt8(ascii: "x")).description == "Protocol error: expected '$', got 'x'")
        #expect(RESPProtocolError.unbalancedQuotes.description == "Protocol error: unbalanced quotes in request")
    }
}

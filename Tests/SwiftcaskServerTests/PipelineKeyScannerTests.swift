import Testing
@testable import SwiftcaskServer

@Suite struct PipelineKeyScannerTests {
    static func frame(_ arguments: String...) -> String {
        "*\(arguments.count)\r\n" + arguments.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined()
    }

    /// The first arguments the scanner finds in `input`, as strings.
    static func scan(_ input: String, limit: Int = 64) -> [String] {
        let keys = UnsafeMutableBufferPointer<UnsafeRawBufferPointer>.allocate(capacity: limit)
        defer { keys.deallocate() }
        var found: [String] = []
        Array(input.utf8).withUnsafeBytes { bytes in
            let count = PipelineKeyScanner.firstArguments(in: bytes, into: keys)
            found = keys[..<count].map { String(decoding: $0, as: UTF8.self) }
        }
        return found
    }

    @Test func findsTheFirstArgumentOfEveryCommandOfAPipeline() {
        let input = Self.frame("SET", "alpha", "1") + Self.frame("PING") + Self.frame("GET", "beta") + Self.frame("MSET", "gamma", "1", "delta", "2")
        #expect(Self.scan(input) == ["alpha", "beta", "gamma"])
    }

    @Test func emptyAndBinaryKeysAreFound() {
        #expect(Self.scan(Self.frame("GET", "") + Self.frame("GET", "a\r\nb")) == ["", "a\r\nb"])
    }

    @Test func stopsAtTheLimit() {
        let input = (0..<10).map { Self.frame("GET", "k\($0)") }.joined()
        #expect(Self.scan(input, limit: 4) == ["k0", "k1", "k2", "k3"])
    }

    @Test func stopsAtAnIncompleteCommandKeepingTheKeysBeforeIt() {
        let complete = Self.frame("GET", "first")
        let partial = Self.frame("SET", "second", "value")
        for cut in 0..<partial.utf8.count {
            let found = Self.scan(complete + String(partial.utf8.prefix(cut))!)
            // The second key counts once its bytes and their terminator are in.
            let secondKeyEnd = "*3\r\n$3\r\nSET\r\n$6\r\nsecond\r\n".utf8.count
            #expect(found == (cut >= secondKeyEnd ? ["first", "second"] : ["first"]), "cut at \(cut)")
        }
    }

    @Test func stopsAtAnythingThatIsNotAMultibulkFrame() {
        #expect(Self.scan("GET inline\r\n" + Self.frame("GET", "after")) == [])
        #expect(Self.scan(Self.frame("GET", "before") + "*x\r\n") == ["before"])
        #expect(Self.scan(Self.frame("GET", "before") + "*1\r\n$-1\r\n") == ["before"])
        #expect(Self.scan(Self.frame("GET", "before") + "*2\r\n$3\r\nGET\r\n$99999999999\r\n") == ["before"])
        #expect(Self.scan("*2\r\n$3\r\nGET\r\n$9\r\nshort\r\n") == [])
    }

    @Test func headerDigitsAreBoundedAtTheLimit() {
        let longest = String(repeating: "0", count: PipelineKeyScanner.headerDigitsMax - 1) + "1"
        #expect(Self.scan("*2\r\n$3\r\nGET\r\n$\(longest)\r\nk\r\n") == ["k"])
        #expect(Self.scan("*2\r\n$3\r\nGET\r\n$0\(longest)\r\nk\r\n") == [])
    }
}

import Testing
@testable import SwiftcaskServer

@Suite struct GlobPatternTests {
    func match(_ pattern: String, _ subject: String) -> Bool {
        GlobPattern(pattern.utf8).matches(Array(subject.utf8))
    }

    @Test func literalsAndWildcards() {
        #expect(match("*", ""))
        #expect(match("*", "anything"))
        #expect(match("h?llo", "hello"))
        #expect(!match("h?llo", "hllo"))
        #expect(match("h*llo", "heeeello"))
        #expect(match("user:*:name", "user:42:name"))
        #expect(!match("user:*:name", "user:42:mail"))
        #expect(match("a*b*c", "axxbyyc"))
        #expect(!match("a*b*c", "axxbyy"))
    }

    @Test func classesRangesAndEscapes() {
        #expect(match("h[ae]llo", "hallo"))
        #expect(!match("h[ae]llo", "hillo"))
        #expect(match("h[^e]llo", "hallo"))
        #expect(!match("h[^e]llo", "hello"))
        #expect(match("h[a-b]llo", "hbllo"))
        #expect(match("h\\*llo", "h*llo"))
        #expect(!match("h\\*llo", "hello"))
    }

    @Test func pathologicalPatternStaysBounded() {
        let subject = String(repeating: "a", count: 2000)
        #expect(!match(String(repeating: "*a", count: 50) + "b", subject))
    }
}

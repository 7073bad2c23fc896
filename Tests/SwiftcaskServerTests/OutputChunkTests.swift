import NIOCore
import Testing
@testable import SwiftcaskServer

/// A read whose replies pass `ConnectionHandler.outputChunkBytes` is answered in chunks, handed
/// to the socket while the batch goes on.
@Suite struct OutputChunkTests {
    @Test func everyChunkOfALongBatchHoldsOnlyItsOwnReplies() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        let value = String(repeating: "v", count: 1024)
        #expect(try client.call("SET", "value", value) == "+OK\r\n")
        let gets = 4 * ConnectionHandler.outputChunkBytes / value.utf8.count
        try client.channel.writeInbound(ByteBuffer(string: String(repeating: TestClient.encode(["GET", "value"]), count: gets)))
        var chunks: [ByteBuffer] = []
        while let chunk = try client.channel.readOutbound(as: ByteBuffer.self) { chunks.append(chunk) }
        #expect(chunks.count >= 4)
        #expect(chunks.map { String(buffer: $0) }.joined() == String(repeating: "$1024\r\n\(value)\r\n", count: gets))
        // Each chunk got a buffer of its own: appending to the one the socket held copied
        // everything the batch had written so far, at every chunk.
        for chunk in chunks {
            #expect(chunk.storageCapacity <= 2 * ConnectionHandler.chunkBufferBytes)
        }
    }
}

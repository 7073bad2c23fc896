import Foundation
import Logging
import NIOCore
import NIOEmbedded
import Swiftcask
@testable import SwiftcaskServer

/// A server state on a temporary directory, and clients as embedded channels.
final class TestHarness {
    let directory: String
    let state: ServerState
    /// Every client of the harness runs on this loop, as clients of one server thread do.
    let loop = EmbeddedEventLoop()
    let durableReplyGate: DurableReplyGate

    init(configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        directory = NSTemporaryDirectory() + "swiftcask-server-tests-" + UUID().uuidString
        var configuration = ServerConfiguration()
        configuration.directory = directory
        configure(&configuration)
        var options = StoreOptions()
        options.durability = configuration.appendfsync
        let store = try Store(directory: directory, options: options)
        state = try ServerState(store: store, configuration: configuration, logger: Logger(label: "test"))
        durableReplyGate = DurableReplyGate(eventLoop: loop, store: store, leadsRounds: configuration.fsyncOnEventLoop)
    }

    deinit {
        try? state.store.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func client() throws -> TestClient {
        let channel = EmbeddedChannel(handler: ConnectionHandler(state: state, durableReplyGate: durableReplyGate), loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40_000)).wait()
        return TestClient(channel: channel)
    }
}

/// Sends requests and returns raw RESP replies.
final class TestClient {
    let channel: EmbeddedChannel

    init(channel: EmbeddedChannel) {
        self.channel = channel
    }

    static func encode(_ arguments: [String]) -> String {
        var text = "*\(arguments.count)\r\n"
        for argument in arguments { text += "$\(argument.utf8.count)\r\n\(argument)\r\n" }
        return text
    }

    /// Sends one command and returns everything written back.
    func call(_ arguments: String...) throws -> String {
        try raw(Self.encode(arguments))
    }

    /// Sends raw bytes in one read and returns everything written back.
    func raw(_ text: String) throws -> String {
        try channel.writeInbound(ByteBuffer(string: text))
        return try drain()
    }

    func drain() throws -> String {
        var reply = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { reply += String(buffer: buffer) }
        return reply
    }

    var isActive: Bool { channel.isActive }
}

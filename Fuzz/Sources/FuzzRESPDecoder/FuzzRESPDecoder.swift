// libFuzzer target: the server's RESP request decoder (RESPCommandDecoder), differentially:
// the input decoded in one piece and fed in small pieces (split points drawn from the input)
// must give the same commands with the same arguments, and the same error or none.
//
// Input: byte 0 selects the limits (authenticated or not, small or default bulk limit) and the
// piece sizes; the rest is the byte stream a client sent.
import NIOCore
import SwiftcaskServer

enum Outcome: Equatable {
    case commands([[[UInt8]]], error: String?)
}

private func decode(_ input: ArraySlice<UInt8>, limits: RESPLimits, pieceSizes: [Int]?) -> Outcome {
    var decoder = RESPCommandDecoder(limits: limits)
    var buffer = ByteBufferAllocator().buffer(capacity: input.count)
    var commands: [[[UInt8]]] = []
    var position = input.startIndex
    var piece = 0
    // Bounded: each round feeds at least one byte; the decoder consumes or waits.
    while true {
        if position < input.endIndex {
            let size = pieceSizes.map { $0[piece % $0.count] } ?? input.count
            piece += 1
            let end = min(input.endIndex, position + max(1, size))
            buffer.writeBytes(input[position..<end])
            position = end
        }
        do {
            var decodedThisRound = 0
            while let command = try decoder.next(from: &buffer) {
                decodedThisRound += 1
                precondition(decodedThisRound <= input.count + 1, "decoder returned more commands than input bytes")
                let arguments = command.arguments
                precondition(arguments.count == command.argumentCount)
                commands.append(arguments.map { Array($0.readableBytesView) })
            }
        } catch {
            return .commands(commands, error: "\(error)")
        }
        if position >= input.endIndex { return .commands(commands, error: nil) }
        buffer.discardReadBytes()
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRESPDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let mode = data[0]
    let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))[...]
    let limits = RESPLimits(
        bulkBytesMax: mode & 2 == 0 ? 512 * 1024 * 1024 : 64,
        queryBufferBytesMax: mode & 4 == 0 ? 1024 * 1024 * 1024 : 256,
        isAuthenticated: mode & 1 == 0)
    let whole = decode(input, limits: limits, pieceSizes: nil)
    let pieceSizes = [1 + Int(mode >> 3 & 3), 1, 7, 2 + Int(mode >> 5)]
    let pieces = decode(input, limits: limits, pieceSizes: pieceSizes)
    precondition(whole == pieces, "decoding in one piece gave \(whole), in pieces \(pieceSizes) gave \(pieces)")
    return 0
}

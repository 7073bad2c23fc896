import NIOCore
import Swiftcask

/// String commands, with Redis 7's option rules and replies.
extension ClientSession {
    func get() throws(StoreError) {
        try replyValue(ofKeyAt: 1)
    }

    /// GET's reply for one key. Outside EXEC the value is copied once, from the engine straight
    /// into the output, under the store lock: no allocation, and no wait for the disk.
    /// The key is argument `index`, read in place (`argv.withBytes`): a slice, or its
    /// `readableBytesView`, would retain and release the frame.
    func replyValue(ofKeyAt index: Int) throws(StoreError) {
        guard overlay == nil else {
            try replyValue(lookup(argv.slice(at: index))?.value)
            return
        }
        let found: Void? = try argv.withBytes(at: index) { keyBytes in
            Result { () throws(StoreError) in try store.withValueLocked(forKey: keyBytes, in: keyspace) { output.writeBulk($0) } }
        }.get()
        if found == nil {
            counters.keyspaceMisses += 1
            output.writeNull(protocolVersion)
        } else {
            counters.keyspaceHits += 1
        }
    }

    func replyValue(_ value: [UInt8]?) {
        if let value {
            counters.keyspaceHits += 1
            output.writeBulk(value)
        } else {
            counters.keyspaceMisses += 1
            output.writeNull(protocolVersion)
        }
    }

    /// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL]
    func set() throws(StoreError) {
        guard checkSizes(keyLength: argv.length(at: 1), valueLength: argv.length(at: 2)) else { return }
        if argv.count == 3 {
            // The common case: no options, nothing to read first.
            if putArguments(keyAt: 1, valueAt: 2) { output.writeOK() }
            return
        }
        let key = argv.slice(at: 1)
        let value = argv.slice(at: 2)
        var onlyIfAbsent = false, onlyIfPresent = false, returnOld = false, keepTTL = false
        var expiryArgument: ExpiryArgument?
        var index = 3
        while index < argv.count {
            let option = argv.slice(at: index)
            if option.equalsIgnoringCase("NX") && !onlyIfPresent {
                onlyIfAbsent = true
            } else if option.equalsIgnoringCase("XX") && !onlyIfAbsent {
                onlyIfPresent = true
            } else if option.equalsIgnoringCase("GET") {
                returnOld = true
            } else if option.equalsIgnoringCase("KEEPTTL") && expiryArgument == nil {
                keepTTL = true
            } else if !keepTTL, let found = parseExpiryArgument(at: index, after: expiryArgument) {
                expiryArgument = found
                index += 1
            } else {
                replyError(ErrorReply.syntax)
                return
            }
            index += 1
        }
        var expiry: Int64?
        if let expiryArgument {
            guard let at = expiryDeadline(expiryArgument.amount, unit: expiryArgument.unit, command: "set") else { return }
            expiry = at
        }
        let current = (returnOld || onlyIfAbsent || onlyIfPresent || keepTTL) ? try lookup(key) : nil
        let present = current != nil
        if (onlyIfAbsent && present) || (onlyIfPresent && !present) {
            if returnOld { replyValue(current?.value) } else { output.writeNull(protocolVersion) }
            return
        }
        if keepTTL { expiry = current?.expiresAtMillis }
        if let expiry, expiry <= now {
            stageDelete(key)
        } else {
            stagePut(key, value.readableBytesView, expiresAtMillis: expiry)
        }
        guard commit() else { return }
        if returnOld { replyValue(current?.value) } else { output.writeOK() }
    }

    enum ExpiryUnit {
        case relativeSeconds, relativeMillis, absoluteSeconds, absoluteMillis
    }

    /// An expiry option and its amount; Redis reads the amount only after every option parsed.
    typealias ExpiryArgument = (unit: ExpiryUnit, amount: ByteBuffer)

    /// The expiry option at `index`, if one is there and may follow `previous`: as in Redis,
    /// the same option may repeat (the last one counts) but two kinds may not mix.
    func parseExpiryArgument(at index: Int, after previous: ExpiryArgument?) -> ExpiryArgument? {
        guard index + 1 < argv.count, let unit = Self.expiryUnit(argv.slice(at: index)),
              previous.map({ $0.unit == unit }) ?? true else { return nil }
        return (unit, argv.slice(at: index + 1))
    }

    static func expiryUnit(_ option: ByteBuffer) -> ExpiryUnit? {
        if option.equalsIgnoringCase("EX") { return .relativeSeconds }
        if option.equalsIgnoringCase("PX") { return .relativeMillis }
        if option.equalsIgnoringCase("EXAT") { return .absoluteSeconds }
        if option.equalsIgnoringCase("PXAT") { return .absoluteMillis }
        return nil
    }

    /// The absolute deadline in Unix milliseconds, or nil after replying Redis's error.
    func expiryDeadline(_ argument: ByteBuffer, unit: ExpiryUnit, command: String) -> Int64? {
        guard let amount = argument.integerValue else {
            replyError(ErrorReply.notInteger)
            return nil
        }
        guard amount > 0 else {
            replyError(ErrorReply.invalidExpire(command))
            return nil
        }
        let millis: Int
        switch unit {
        case .relativeSeconds, .absoluteSeconds:
            let (product, overflow) = amount.multipliedReportingOverflow(by: 1000)
            guard !overflow else {
                replyError(ErrorReply.invalidExpire(command))
                return nil
            }
            millis = product
        case .relativeMillis, .absoluteMillis:
            millis = amount
        }
        switch unit {
        case .relativeSeconds, .relativeMillis:
            let (sum, overflow) = millis.addingReportingOverflow(Int(now))
            guard !overflow else {
                replyError(ErrorReply.invalidExpire(command))
                return nil
            }
            return Int64(sum)
        case .absoluteSeconds, .absoluteMillis:
            return Int64(millis)
        }
    }

    func setNX() {
        let key = argv.slice(at: 1)
        guard checkSizes(key: key, valueLength: argv.length(at: 2)) else { return }
        if exists(key) {
            output.writeInteger(0)
            return
        }
        stagePut(key, argv.slice(at: 2).readableBytesView, expiresAtMillis: nil)
        if commit() { output.writeInteger(1) }
    }

    /// SETEX / PSETEX key amount value
    func setEX(unitMillis: Int) {
        let key = argv.slice(at: 1)
        let command = unitMillis == 1000 ? "setex" : "psetex"
        guard let deadline = expiryDeadline(argv.slice(at: 2), unit: unitMillis == 1000 ? .relativeSeconds : .relativeMillis, command: command),
              checkSizes(key: key, valueLength: argv.length(at: 3)) else { return }
        stagePut(key, argv.slice(at: 3).readableBytesView, expiresAtMillis: deadline)
        if commit() { output.writeOK() }
    }

    func getSet() throws(StoreError) {
        let key = argv.slice(at: 1)
        guard checkSizes(key: key, valueLength: argv.length(at: 2)) else { return }
        let old = try lookup(key)?.value
        stagePut(key, argv.slice(at: 2).readableBytesView, expiresAtMillis: nil)
        if commit() { replyValue(old) }
    }

    func getDel() throws(StoreError) {
        let key = argv.slice(at: 1)
        guard let old = try lookup(key)?.value else {
            replyValue(nil)
            return
        }
        stageDelete(key)
        if commit() { replyValue(old) }
    }

    /// GETEX key [EX s | PX ms | EXAT s | PXAT ms | PERSIST]
    func getEx() throws(StoreError) {
        let key = argv.slice(at: 1)
        var expiryArgument: ExpiryArgument?
        var persist = false
        var index = 2
        while index < argv.count {
            if argv.slice(at: index).equalsIgnoringCase("PERSIST") && expiryArgument == nil {
                persist = true
            } else if !persist, let found = parseExpiryArgument(at: index, after: expiryArgument) {
                expiryArgument = found
                index += 1
            } else {
                replyError(ErrorReply.syntax)
                return
            }
            index += 1
        }
        guard let current = try lookup(key) else {
            replyValue(nil)
            return
        }
        // As in Redis, the amount is read only for a key that exists.
        var expiry: Int64?
        if let expiryArgument {
            guard let at = expiryDeadline(expiryArgument.amount, unit: expiryArgument.unit, command: "getex") else { return }
            expiry = at
        }
        if let expiry {
            if expiry <= now { stageDelete(key) } else { try stageExpiry(key, expiresAtMillis: expiry) }
        } else if persist && current.expiresAtMillis != nil {
            try stageExpiry(key, expiresAtMillis: nil)
        }
        if commit() { replyValue(current.value) }
    }

    func mget() {
        output.writeArrayHeader(argv.count - 1)
        for index in 1..<argv.count {
            // A value that cannot be read is an error element; the other keys still answer.
            do { try replyValue(ofKeyAt: index) } catch { replyStoreFailure(error) }
        }
    }

    /// MSET / MSETNX: one batch, so all keys are set or none, also after a crash.
    func mset(onlyIfNoneExist: Bool) {
        guard argv.count % 2 == 1 else {
            replyWrongArity()
            return
        }
        for pair in stride(from: 1, to: argv.count, by: 2) {
            guard checkSizes(keyLength: argv.length(at: pair), valueLength: argv.length(at: pair + 1)) else { return }
        }
        if onlyIfNoneExist {
            for pair in stride(from: 1, to: argv.count, by: 2) where exists(argv.slice(at: pair)) {
                output.writeInteger(0)
                return
            }
        }
        for pair in stride(from: 1, to: argv.count, by: 2) {
            stagePutArguments(keyAt: pair, valueAt: pair + 1)
        }
        guard commit() else { return }
        if onlyIfNoneExist { output.writeInteger(1) } else { output.writeOK() }
    }

    func append() throws(StoreError) {
        let key = argv.slice(at: 1)
        let current = try lookup(key)
        var value = current?.value ?? []
        guard checkSizes(key: key, valueLength: value.count + argv.length(at: 2)) else { return }
        value.append(contentsOf: argv.slice(at: 2).readableBytesView)
        stagePut(key, value, expiresAtMillis: current?.expiresAtMillis)
        if commit() { output.writeInteger(value.count) }
    }

    /// GETRANGE / SUBSTR key start end, with Redis's clamping of negative and large offsets.
    func getRange() throws(StoreError) {
        guard var start = argv.slice(at: 2).integerValue, var end = argv.slice(at: 3).integerValue else {
            replyError(ErrorReply.notInteger)
            return
        }
        let value = try lookup(argv.slice(at: 1))?.value ?? []
        let length = value.count
        if start < 0 && end < 0 && start > end {
            output.writeBulk([])
            return
        }
        if start < 0 { start = length + start }
        if end < 0 { end = length + end }
        start = max(start, 0)
        end = max(end, 0)
        if end >= length { end = length - 1 }
        if start > end || length == 0 {
            output.writeBulk([])
            return
        }
        output.writeBulk(value[start...end], length: end - start + 1)
    }

    func setRange() throws(StoreError) {
        let key = argv.slice(at: 1)
        guard let offset = argv.slice(at: 2).integerValue else {
            replyError(ErrorReply.notInteger)
            return
        }
        guard offset >= 0 else {
            replyError(ErrorReply.offsetOutOfRange)
            return
        }
        let patch = argv.slice(at: 3)
        let current = try lookup(key)
        if patch.readableBytes == 0 {
            output.writeInteger(current?.value.count ?? 0)
            return
        }
        guard offset + patch.readableBytes <= state.configuration.withLock({ $0.protoMaxBulkLenBytes }) else {
            replyError(ErrorReply.stringTooLong)
            return
        }
        guard checkSizes(key: key, valueLength: offset + patch.readableBytes) else { return }
        var value = current?.value ?? []
        if value.count < offset + patch.readableBytes {
            value.append(contentsOf: repeatElement(0, count: offset + patch.readableBytes - value.count))
        }
        value.replaceSubrange(offset..<(offset + patch.readableBytes), with: patch.readableBytesView)
        stagePut(key, value, expiresAtMillis: current?.expiresAtMillis)
        if commit() { output.writeInteger(value.count) }
    }

    /// INCRBY / DECRBY: the increment comes from the third argument.
    func incrementBy(argumentSign: Int) throws(StoreError) {
        guard let amount = argv.slice(at: 2).integerValue else {
            replyError(ErrorReply.notInteger)
            return
        }
        if argumentSign < 0 {
            guard amount != Int.min else {
                replyError("ERR decrement would overflow")
                return
            }
            try incrementBy(-amount)
        } else {
            try incrementBy(amount)
        }
    }

    /// INCR family: the value must be a strict integer; the expiry is kept. Outside EXEC the
    /// engine reads, adds and writes in one step (`Store.updateDeferred`): one lock, one lookup.
    /// The key is read in place (`argv.withBytes`): a slice cost retains and releases of the frame.
    func incrementBy(_ amount: Int) throws(StoreError) {
        guard checkSizes(keyLength: argv.length(at: 1), valueLength: 0) else { return }
        guard overlay == nil else { return try incrementStaged(argv.slice(at: 1), by: amount) }
        var outcome = IncrementOutcome.notInteger
        let ticket = try argv.withBytes(at: 1) { keyBytes in
            Result { () throws(StoreError) in
                try store.updateDeferred(key: keyBytes, in: keyspace, maxValueBytes: Self.decimalDigitsMax) { current, replacement in
                    outcome = Self.increment(current?.value, by: amount)
                    guard case .sum(let sum) = outcome else { return .keep }
                    return .put(length: Self.formatDecimal(sum, intoStartOf: replacement), expiresAtMillis: current?.expiresAtMillis)
                }
            }
        }.get()
        if let ticket { pendingTicket = ticket }
        guard case .sum(let sum) = outcome else { return replyIncrementFailure(outcome) }
        touchArgument(at: 1)
        output.writeInteger(sum)
    }

    private enum IncrementOutcome: Equatable {
        case notInteger
        case overflow
        case sum(Int)
    }

    /// `value` (nil: the key is absent, which counts as 0) plus `amount`.
    private static func increment(_ value: UnsafeRawBufferPointer?, by amount: Int) -> IncrementOutcome {
        guard let current = value.map({ RESPInteger.parse($0) }) ?? 0 else { return .notInteger }
        let (sum, overflow) = current.addingReportingOverflow(amount)
        return overflow ? .overflow : .sum(sum)
    }

    private func replyIncrementFailure(_ outcome: IncrementOutcome) {
        replyError(outcome == .overflow ? ErrorReply.overflow : ErrorReply.notInteger)
    }

    /// INCR inside EXEC: read through the transaction's overlay, stage the sum.
    private func incrementStaged(_ key: ByteBuffer, by amount: Int) throws(StoreError) {
        let current = try lookup(key)
        let outcome = current.map { current in current.value.withUnsafeBytes { Self.increment($0, by: amount) } }
            ?? Self.increment(nil, by: amount)
        guard case .sum(let sum) = outcome else { return replyIncrementFailure(outcome) }
        stageIncrement(key, sum: sum, expiresAtMillis: current?.expiresAtMillis)
    }

    private func stageIncrement(_ key: ByteBuffer, sum: Int, expiresAtMillis: Int64?) {
        // The digits are formatted on the stack: no allocation per INCR.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.decimalDigitsMax) { digits in
            let length = Self.formatDecimal(sum, into: digits)
            stagePut(key, UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(digits)[(Self.decimalDigitsMax - length)...]),
                     expiresAtMillis: expiresAtMillis)
        }
        if commit() { output.writeInteger(sum) }
    }

    /// Longest decimal Int64 with its sign.
    static let decimalDigitsMax = 20

    /// Writes `value` at the start of `destination` (at least `decimalDigitsMax` bytes);
    /// returns how many bytes it used.
    static func formatDecimal(_ value: Int, intoStartOf destination: UnsafeMutableRawBufferPointer) -> Int {
        let digits = destination.bindMemory(to: UInt8.self)
        let length = formatDecimal(value, into: UnsafeMutableBufferPointer(rebasing: digits[..<decimalDigitsMax]))
        // Right-aligned first; then moved to the front (copyMemory is a memmove).
        destination.baseAddress!.copyMemory(from: destination.baseAddress! + (decimalDigitsMax - length), byteCount: length)
        return length
    }

    /// Writes `value` right-aligned at the end of `digits`; returns how many bytes it used.
    static func formatDecimal(_ value: Int, into digits: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var magnitude = value.magnitude
        var position = digits.count
        repeat {
            position -= 1
            digits[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
        if value < 0 {
            position -= 1
            digits[position] = UInt8(ascii: "-")
        }
        return digits.count - position
    }

    func incrementByFloat() throws(StoreError) {
        let key = argv.slice(at: 1)
        guard let amount = LongDouble.parse(argv.slice(at: 2).readableBytesView) else {
            replyError(ErrorReply.notFloat)
            return
        }
        let current = try lookup(key)
        var number: LongDouble.Value = 0
        if let value = current?.value {
            guard let parsed = LongDouble.parse(value) else {
                replyError(ErrorReply.notFloat)
                return
            }
            number = parsed
        }
        let sum = number + amount
        guard sum.isFinite else {
            replyError(ErrorReply.incrementNaN)
            return
        }
        let text = LongDouble.format(sum)
        guard checkSizes(key: key, valueLength: text.utf8.count) else { return }
        stagePut(key, Array(text.utf8), expiresAtMillis: current?.expiresAtMillis)
        if commit() { output.writeBulkString(text) }
    }
}

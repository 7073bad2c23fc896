/// Writes applied together: readers see all or none of them, and after a crash the log holds
/// all or none of them. Reuse one with `removeAll()` to avoid allocating per batch.
public struct WriteBatch: Sendable {
    enum OperationKind: UInt8 {
        case put = 0
        case delete = 1
        case setExpiry = 2
    }

    /// Encoded operations: kind u8, keyspace u8, keyLength u32, valueLength u32,
    /// expiresAtMillis i64 (0 = none), key, value.
    @usableFromInline var storage: [UInt8] = []
    @usableFromInline var operationCount = 0
    /// An operation over a size limit is not stored; applying the batch throws this instead.
    @usableFromInline var rejection: StoreError?
    @usableFromInline static let operationHeaderBytes = 18

    public init() {}

    public var isEmpty: Bool { operationCount == 0 }
    public var count: Int { operationCount }

    public mutating func removeAll() {
        storage.removeAll(keepingCapacity: true)
        operationCount = 0
        rejection = nil
    }

    @inlinable
    public mutating func put<Key: Collection<UInt8>, Value: Collection<UInt8>>(
        _ key: Key, _ value: Value, expiresAtMillis: Int64? = nil, in keyspace: Keyspace = .default
    ) {
        withContiguousBytes(key) { key in
            withContiguousBytes(value) { value in
                append(kind: 0, keyspace: keyspace, key: key, value: value, expiresAtMillis: expiresAtMillis ?? 0)
            }
        }
    }

    public mutating func put(_ key: String, _ value: String, expiresAtMillis: Int64? = nil, in keyspace: Keyspace = .default) {
        put(key.utf8, value.utf8, expiresAtMillis: expiresAtMillis, in: keyspace)
    }

    @inlinable
    public mutating func delete<Key: Collection<UInt8>>(_ key: Key, in keyspace: Keyspace = .default) {
        withContiguousBytes(key) { key in
            append(kind: 1, keyspace: keyspace, key: key, value: UnsafeRawBufferPointer(start: nil, count: 0), expiresAtMillis: 0)
        }
    }

    public mutating func delete(_ key: String, in keyspace: Keyspace = .default) {
        delete(key.utf8, in: keyspace)
    }

    /// Gives an existing key a new expiry time (nil: never expires) without changing its value.
    /// Does nothing when the key is absent when the batch is applied.
    @inlinable
    public mutating func setExpiry<Key: Collection<UInt8>>(_ key: Key, expiresAtMillis: Int64?, in keyspace: Keyspace = .default) {
        withContiguousBytes(key) { key in
            append(kind: 2, keyspace: keyspace, key: key, value: UnsafeRawBufferPointer(start: nil, count: 0), expiresAtMillis: expiresAtMillis ?? 0)
        }
    }

    @usableFromInline
    mutating func append(kind: UInt8, keyspace: Keyspace, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, expiresAtMillis: Int64) {
        operationCount += 1
        if key.count > Limits.keyBytesMax {
            rejection = rejection ?? .keyTooLarge(key.count)
            return
        }
        if value.count > Limits.valueBytesMax {
            rejection = rejection ?? .valueTooLarge(value.count)
            return
        }
        // The header is built in place and appended in one piece: one capacity check, not five.
        var header: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &header) { bytes in
            bytes[0] = kind
            bytes[1] = keyspace.rawValue
            bytes.storeBytes(of: UInt32(key.count).littleEndian, toByteOffset: 2, as: UInt32.self)
            bytes.storeBytes(of: UInt32(value.count).littleEndian, toByteOffset: 6, as: UInt32.self)
            bytes.storeBytes(of: expiresAtMillis.littleEndian, toByteOffset: 10, as: Int64.self)
            storage.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[..<Self.operationHeaderBytes]))
        }
        storage.append(contentsOf: key)
        storage.append(contentsOf: value)
    }

    /// One decoded operation, pointing into the batch's storage.
    struct Operation {
        var kind: OperationKind
        var keyspace: UInt8
        var key: UnsafeRawBufferPointer
        var value: UnsafeRawBufferPointer
        var expiresAtMillis: Int64
    }

    /// Walks the operations in order.
    func forEachOperation(_ body: (Operation) throws(StoreError) -> Void) throws(StoreError) {
        if let rejection { throw rejection }
        try storage.withUnsafeBytes { bytes in Result { () throws(StoreError) in
            var offset = 0
            while offset < bytes.count {
                let kind = OperationKind(rawValue: bytes[offset])!
                let keyspace = bytes[offset + 1]
                let keyLength = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 2, as: UInt32.self)))
                let valueLength = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 6, as: UInt32.self)))
                let expiry = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 10, as: Int64.self))
                let keyStart = offset + Self.operationHeaderBytes
                let key = UnsafeRawBufferPointer(rebasing: bytes[keyStart..<keyStart + keyLength])
                let value = UnsafeRawBufferPointer(rebasing: bytes[keyStart + keyLength..<keyStart + keyLength + valueLength])
                try body(Operation(kind: kind, keyspace: keyspace, key: key, value: value, expiresAtMillis: expiry))
                offset = keyStart + keyLength + valueLength
            }
        } }.get()
    }
}

import NIOCore
import Swiftcask

/// Key access for commands: reads consult EXEC's overlay first; writes are staged in the
/// session's batch and applied by `commit()` (or by EXEC, all at once).
extension ClientSession {
    /// What commands need to know about a live key without reading its value.
    struct KeyInfo {
        var valueLength: Int
        var expiresAtMillis: Int64?
    }

    func overlayKey(_ key: ByteBuffer, in keyspace: Keyspace) -> Overlay.Key {
        Overlay.Key(keyspace: keyspace.rawValue, bytes: key.bytes)
    }

    /// The value and expiry of a live key. Throws when the engine cannot read the value (it
    /// fails its CRC check): a damaged value is an error, never a missing key.
    func lookup(_ key: ByteBuffer, in keyspace: Keyspace? = nil) throws(StoreError) -> (value: [UInt8], expiresAtMillis: Int64?)? {
        let keyspace = keyspace ?? self.keyspace
        if let overlay, let staged = overlay.entries[overlayKey(key, in: keyspace)] {
            switch staged {
            case .deleted: return nil
            case .value(let value, let expiry):
                if let expiry, expiry <= now { return nil }
                return (value, expiry)
            }
        }
        guard let info = store.info(forKey: key.readableBytesView, in: keyspace),
              let value = try store.get(key.readableBytesView, in: keyspace) else { return nil }
        return (value, info.expiresAtMillis)
    }

    func entryInfo(_ key: ByteBuffer, in keyspace: Keyspace? = nil) -> KeyInfo? {
        let keyspace = keyspace ?? self.keyspace
        if let overlay, let staged = overlay.entries[overlayKey(key, in: keyspace)] {
            switch staged {
            case .deleted: return nil
            case .value(let value, let expiry):
                if let expiry, expiry <= now { return nil }
                return KeyInfo(valueLength: value.count, expiresAtMillis: expiry)
            }
        }
        return store.info(forKey: key.readableBytesView, in: keyspace).map {
            KeyInfo(valueLength: $0.valueLength, expiresAtMillis: $0.expiresAtMillis)
        }
    }

    func exists(_ key: ByteBuffer, in keyspace: Keyspace? = nil) -> Bool {
        entryInfo(key, in: keyspace) != nil
    }

    func stagePut<V: Collection<UInt8>>(_ key: ByteBuffer, _ value: V, expiresAtMillis: Int64?, in keyspace: Keyspace? = nil) {
        let keyspace = keyspace ?? self.keyspace
        if overlay != nil {
            overlay!.batch.put(key.readableBytesView, value, expiresAtMillis: expiresAtMillis, in: keyspace)
            overlay!.entries[overlayKey(key, in: keyspace)] = .value(Array(value), expiresAtMillis: expiresAtMillis)
        } else {
            batch.put(key.readableBytesView, value, expiresAtMillis: expiresAtMillis, in: keyspace)
        }
        touch(key, in: keyspace)
    }

    /// `stagePut` of the value at `argv[valueIndex]` under the key at `argv[keyIndex]`, no
    /// expiry; outside EXEC the bytes go from the frame into the batch without slices (MSET).
    func stagePutArguments(keyAt keyIndex: Int, valueAt valueIndex: Int) {
        guard overlay == nil else {
            return stagePut(argv.slice(at: keyIndex), argv.slice(at: valueIndex).readableBytesView, expiresAtMillis: nil)
        }
        let keyspace = self.keyspace
        argv.withBytes(at: keyIndex, and: valueIndex) { key, value in
            batch.put(key, value, expiresAtMillis: nil, in: keyspace)
        }
        touchArgument(at: keyIndex)
    }

    func stageDelete(_ key: ByteBuffer, in keyspace: Keyspace? = nil) {
        let keyspace = keyspace ?? self.keyspace
        if overlay != nil {
            overlay!.batch.delete(key.readableBytesView, in: keyspace)
            overlay!.entries[overlayKey(key, in: keyspace)] = .deleted
        } else {
            batch.delete(key.readableBytesView, in: keyspace)
        }
        touch(key, in: keyspace)
    }

    /// Changes only the expiry of a key known to exist.
    func stageExpiry(_ key: ByteBuffer, expiresAtMillis: Int64?, in keyspace: Keyspace? = nil) throws(StoreError) {
        let keyspace = keyspace ?? self.keyspace
        if overlay != nil {
            guard let current = try lookup(key, in: keyspace) else { return }
            overlay!.batch.setExpiry(key.readableBytesView, expiresAtMillis: expiresAtMillis, in: keyspace)
            overlay!.entries[overlayKey(key, in: keyspace)] = .value(current.value, expiresAtMillis: expiresAtMillis)
        } else {
            batch.setExpiry(key.readableBytesView, expiresAtMillis: expiresAtMillis, in: keyspace)
        }
        touch(key, in: keyspace)
    }

    /// Applies the staged writes. On failure replies with the engine's reason and returns false,
    /// so a command replies success only for writes the engine accepted.
    func commit() -> Bool {
        guard overlay == nil else { return true }
        guard !batch.isEmpty else { return true }
        defer { batch.removeAll() }
        do {
            let result = try store.writeDeferred(batch)
            pendingTicket = result.ticket
            return true
        } catch {
            replyStoreFailure(error)
            return false
        }
    }

    /// Writes the value at `argv[valueIndex]` under the key at `argv[keyIndex]`, no expiry (SET
    /// without options). Outside EXEC straight from the frame: no batch and no slices; inside,
    /// staged like every write. On failure replies the engine's error and returns false.
    func putArguments(keyAt keyIndex: Int, valueAt valueIndex: Int) -> Bool {
        guard overlay == nil else {
            stagePutArguments(keyAt: keyIndex, valueAt: valueIndex)
            return true
        }
        let keyspace = self.keyspace
        let written = argv.withBytes(at: keyIndex, and: valueIndex) { key, value in
            Result { () throws(StoreError) in try store.putDeferred(key: key, value: value, in: keyspace) }
        }
        switch written {
        case .success(let ticket):
            pendingTicket = ticket
            touchArgument(at: keyIndex)
            return true
        case .failure(let error):
            replyStoreFailure(error)
            return false
        }
    }

    /// Flags watchers of `key`; free when nobody watches anything.
    func touch(_ key: ByteBuffer, in keyspace: Keyspace) {
        guard state.watchedKeyCount.load(ordering: .relaxed) > 0 else { return }
        state.touchWatched(keyspace: keyspace, key: key)
    }

    /// `touch` for the key at `argv.slice(at: index)`, sliced only when some client watches keys.
    func touchArgument(at index: Int) {
        guard state.watchedKeyCount.load(ordering: .relaxed) > 0 else { return }
        state.touchWatched(keyspace: keyspace, key: argv.slice(at: index))
    }

    /// Engine limits checked before staging, with a clear reply.
    func checkSizes(key: ByteBuffer, valueLength: Int) -> Bool {
        checkSizes(keyLength: key.readableBytes, valueLength: valueLength)
    }

    func checkSizes(keyLength: Int, valueLength: Int) -> Bool {
        if keyLength > Limits.keyBytesMax {
            replyError("ERR key is too large (\(keyLength) bytes, the limit is \(Limits.keyBytesMax))")
            return false
        }
        if valueLength > Limits.valueBytesMax {
            replyError(ErrorReply.stringTooLong)
            return false
        }
        return true
    }
}

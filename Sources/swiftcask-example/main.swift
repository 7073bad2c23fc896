// Embedding Swiftcask: this file is the README's example, compiled and run by the tests.
import Foundation
import Swiftcask

/// Stops with a non-zero exit status when the store does not behave as described.
func check(_ condition: Bool, _ what: String) {
    guard condition else {
        print("check failed: \(what)")
        exit(1)
    }
}

// A fresh directory; a real program would use a fixed one, such as /var/lib/myapp/kv.
let directory = NSTemporaryDirectory() + "swiftcask-example-\(UUID().uuidString)"
defer { try? FileManager.default.removeItem(atPath: directory) }

var options = StoreOptions()
options.durability = .always                  // a write returns after the fdatasync that covers it
var store = try Store(directory: directory, options: options)

try store.put("user:1", "alice")
check(try store.get("user:1") == Array("alice".utf8), "get returns what put stored")

// withValue lends the bytes straight from the memory map, without copying them.
let length = try store.withValue(forKey: "user:1".utf8) { bytes in bytes.count }
check(length == 5, "withValue sees the 5 bytes of alice")

// A batch is atomic: readers, and recovery after a crash, see all of it or none of it.
var batch = WriteBatch()
batch.put("user:2", "bob")
batch.put("session:7", "token", expiresAtMillis: Int64(Date().timeIntervalSince1970 * 1000) + 60_000)
batch.delete("user:1")
try store.write(batch)
check(!store.contains("user:1") && store.contains("user:2"), "the batch applied as a whole")

check(try store.delete("user:2"), "delete reports that the key existed")
try store.sync()                              // everything so far is on disk, in any durability mode
try store.close()

// Reopening replays the log (or its hint files): the session, and its expiry, are still there.
store = try Store(directory: directory)
check(store.info(forKey: "session:7".utf8)?.expiresAtMillis != nil, "the session kept its expiry")
check(store.count == 1, "one key left")
try store.close()
print("swiftcask-example: put, get, withValue, batch, delete, sync, close and reopen all behaved")

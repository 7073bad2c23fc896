/// Runs `body` on the bytes of any byte collection: without copying when the collection has
/// contiguous storage ([UInt8], ArraySlice, String.UTF8View of a native string, NIO's
/// ByteBufferView), else through a temporary array.
@inlinable @inline(__always)
func withContiguousBytes<Bytes: Collection<UInt8>, Result>(_ bytes: Bytes, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
    if let result = bytes.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) { return result }
    return Array(bytes).withUnsafeBytes(body)
}

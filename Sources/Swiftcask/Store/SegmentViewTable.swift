import Glibc

/// A growable array of (map base, written end) by segment id: the read path's plain-memory
/// view of the segments, so a lookup costs no retain or release. Owned by `StoreCore` and
/// guarded by its lock; a base stays valid while `segmentsByID` holds its segment.
struct SegmentViewTable: ~Copyable {
    struct View {
        var base: UnsafeRawPointer?
        var writtenEnd: Int
    }

    private var views: UnsafeMutablePointer<View>
    private var capacity: Int

    init() {
        capacity = 64
        views = UnsafeMutablePointer<View>.allocate(capacity: capacity)
        views.initialize(repeating: View(base: nil, writtenEnd: 0), count: capacity)
    }

    deinit { views.deallocate() }

    subscript(id: UInt32) -> View {
        @inline(__always) get {
            Int(id) < capacity ? views[Int(id)] : View(base: nil, writtenEnd: 0)
        }
        set {
            let index = Int(id)
            if index >= capacity {
                var grown = capacity
                while grown <= index { grown *= 2 }
                let larger = UnsafeMutablePointer<View>.allocate(capacity: grown)
                larger.moveInitialize(from: views, count: capacity)
                (larger + capacity).initialize(repeating: View(base: nil, writtenEnd: 0), count: grown - capacity)
                views.deallocate()
                views = larger
                capacity = grown
            }
            views[index] = newValue
        }
    }
}

import CShims
import Glibc

/// A joinable pthread running one closure: the committer. (Foundation's Thread cannot be joined.)
final class BackgroundThread: @unchecked Sendable {
    private var thread: pthread_t

    init(name: String, _ body: @escaping @Sendable () -> Void) {
        final class Box {
            let name: String
            let body: @Sendable () -> Void
            init(_ name: String, _ body: @escaping @Sendable () -> Void) {
                self.name = name
                self.body = body
            }
        }
        let context = Unmanaged.passRetained(Box(String(name.prefix(15)), body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
            _ = sc_set_current_thread_name(box.name)
            box.body()
            return nil
        }, context)
        precondition(result == 0, "pthread_create failed: \(Errno(rawValue: result))")
        self.thread = thread
    }

    func join() {
        pthread_join(thread, nil)
    }
}

import CShims
import Glibc

/// A joinable pthread running one closure: the committer. (Foundation's Thread cannot be joined.)
final class BackgroundThread: @unchecked Sendable {
    private var thread: pthread_t

    private init(thread: pthread_t) {
        self.thread = thread
    }

    /// For threads the store cannot run without: if the system refuses one, the process stops.
    convenience init(name: String, _ body: @escaping @Sendable () -> Void) {
        let (thread, result) = Self.create(name: name, body)
        precondition(result == 0, "pthread_create failed: \(Errno(rawValue: result))")
        self.init(thread: thread)
    }

    /// For optional helpers: nil when the system refuses a thread (EAGAIN at a thread or
    /// memory limit), and the caller goes on without it.
    static func startIfPossible(name: String, _ body: @escaping @Sendable () -> Void) -> BackgroundThread? {
        let (thread, result) = create(name: name, body)
        return result == 0 ? BackgroundThread(thread: thread) : nil
    }

    /// The thread and pthread_create's result (0 or an errno; the thread is only valid on 0).
    private static func create(name: String, _ body: @escaping @Sendable () -> Void) -> (pthread_t, Int32) {
        final class Box {
            let name: String
            let body: @Sendable () -> Void
            init(_ name: String, _ body: @escaping @Sendable () -> Void) {
                self.name = name
                self.body = body
            }
        }
        let box = Unmanaged.passRetained(Box(String(name.prefix(15)), body))
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
            _ = sc_set_current_thread_name(box.name)
            box.body()
            return nil
        }, box.toOpaque())
        if result != 0 { box.release() }
        return (thread, result)
    }

    /// Sets the calling thread's nice value (only that thread's); the error when refused.
    static func setCurrentThreadNiceness(_ niceness: Int32) -> Errno? {
        sc_set_current_thread_niceness(niceness) == 0 ? nil : Errno.current
    }

    func join() {
        pthread_join(thread, nil)
    }
}

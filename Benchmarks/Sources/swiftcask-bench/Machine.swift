import Foundation
import Glibc

/// What the numbers were measured on, printed first (LevelDB db_bench habit).
struct Machine {
    var cores: Int
    var cpuModel: String
    var kernel: String
    var filesystem: String

    static func describe(directory: String) -> Machine {
        let cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        var cpuModel = "unknown"
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let colon = line.firstIndex(of: ":") {
            cpuModel = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var names = utsname()
        uname(&names)
        let release = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let system = withUnsafeBytes(of: &names.sysname) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let machine = withUnsafeBytes(of: &names.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return Machine(cores: cores, cpuModel: cpuModel, kernel: "\(system) \(release) \(machine)",
                       filesystem: filesystemDescription(directory))
    }

    /// Filesystem type (the longest matching mount in /proc/self/mounts) and free space (statvfs).
    static func filesystemDescription(_ directory: String) -> String {
        var type = "unknown"
        var longest = -1
        let resolved = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        if let mounts = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) {
            for line in mounts.split(separator: "\n") {
                let fields = line.split(separator: " ")
                guard fields.count >= 3 else { continue }
                let mountPoint = String(fields[1])
                let matches = mountPoint == "/" || resolved == mountPoint || resolved.hasPrefix(mountPoint + "/")
                if matches && mountPoint.count > longest {
                    longest = mountPoint.count
                    type = String(fields[2])
                }
            }
        }
        var stats = statvfs()
        guard statvfs(directory, &stats) == 0 else { return type }
        let freeGiB = Double(stats.f_bavail) * Double(stats.f_frsize) / Double(1 << 30)
        return "\(type), \(String(format: "%.0f", freeGiB)) GiB free"
    }
}

/// Resident memory of this process, from /proc/self/status (bytes).
struct ProcessMemory {
    var resident: Int
    var residentPeak: Int
    var residentAnonymous: Int
    var residentFile: Int

    static func now() -> ProcessMemory {
        var memory = ProcessMemory(resident: 0, residentPeak: 0, residentAnonymous: 0, residentFile: 0)
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return memory }
        for line in status.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { continue }
            switch fields[0] {
            case "VmRSS:": memory.resident = kilobytes * 1024
            case "VmHWM:": memory.residentPeak = kilobytes * 1024
            case "RssAnon:": memory.residentAnonymous = kilobytes * 1024
            case "RssFile:": memory.residentFile = kilobytes * 1024
            default: break
            }
        }
        return memory
    }
}

/// The directory's on-disk size (allocated blocks, as `du` counts them).
func diskUsageBytes(_ directory: String) -> Int {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return 0 }
    var total = 0
    for name in names {
        var info = stat()
        if stat(directory + "/" + name, &info) == 0 { total += Int(info.st_blocks) * 512 }
    }
    return total
}

import NIOCore
import Swiftcask

/// INFO with Redis's section and field names.
extension ClientSession {
    /// Sections printed by `INFO` and `INFO default`; `all` adds commandstats.
    static let defaultInfoSections = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "errorstats", "cluster", "keyspace"]
    static let allInfoSections = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "commandstats", "errorstats", "cluster", "keyspace"]

    func info() {
        // Publish this client's own counters first so INFO reflects them.
        finishBatch()
        var wanted: Set<String> = []
        for argument in argv.dropFirst() {
            switch argument.text.lowercased() {
            case "all", "everything": wanted.formUnion(Self.allInfoSections)
            case "default": wanted.formUnion(Self.defaultInfoSections)
            case let name: wanted.insert(name)
            }
        }
        if wanted.isEmpty { wanted = Set(Self.defaultInfoSections) }
        var text = ""
        for section in Self.allInfoSections where wanted.contains(section) {
            let lines = infoSection(section)
            guard let lines else { continue }
            if !text.isEmpty { text += "\r\n" }
            text += "# \(section == "cpu" ? "CPU" : section.prefix(1).uppercased() + section.dropFirst())\r\n"
            for line in lines { text += line + "\r\n" }
        }
        output.writeVerbatim(text, protocolVersion)
    }

    private func infoSection(_ section: String) -> [String]? {
        let configuration = state.configuration.withLock { $0 }
        let nowMillis = now
        switch section {
        case "server":
            let uptimeSeconds = Int((nowMillis - state.startedAtMillis) / 1000)
            return [
                "redis_version:\(Self.compatibleRedisVersion)", "redis_git_sha1:00000000", "redis_git_dirty:0",
                "redis_build_id:0", "redis_mode:standalone", "os:Linux", "arch_bits:64", "multiplexing_api:epoll",
                "atomicvar_api:c11-builtin", "process_id:\(SystemClock.processID)", "process_supervised:no",
                "run_id:\(state.runID)", "tcp_port:\(configuration.port)",
                "server_time_usec:\(SystemClock.wallMicros())", "uptime_in_seconds:\(uptimeSeconds)",
                "uptime_in_days:\(uptimeSeconds / 86_400)", "hz:10", "configured_hz:10", "lru_clock:0",
                "executable:swiftcask-server", "config_file:", "io_threads_active:0",
                "swiftcask_version:\(Self.serverVersion)", "event_loop_threads:\(state.startup.threads)",
            ]
        case "clients":
            return [
                "connected_clients:\(state.connectedClients.load(ordering: .relaxed))", "cluster_connections:0",
                "maxclients:\(configuration.maxClients)", "client_recent_max_input_buffer:0",
                "client_recent_max_output_buffer:0", "blocked_clients:0", "tracking_clients:0",
                "clients_in_timeout_table:0",
            ]
        case "memory":
            let statistics = store.statistics
            return [
                "used_memory:\(statistics.indexBytes)", "used_memory_human:\(Self.human(statistics.indexBytes))",
                "used_memory_dataset:\(statistics.indexBytes)", "maxmemory:0", "maxmemory_human:0B",
                "maxmemory_policy:noeviction", "mem_allocator:libc",
            ]
        case "persistence":
            let statistics = store.statistics
            let baseline = state.statisticsBaseline.withLock { $0 }
            // A merge is the engine's log rewrite: it reports under Redis's AOF rewrite fields.
            return [
                "loading:0", "async_loading:0", "rdb_changes_since_last_save:0",
                "rdb_bgsave_in_progress:\(state.isBackgroundSaveRunning.load(ordering: .relaxed) ? 1 : 0)",
                "rdb_last_save_time:\(state.lastSaveSeconds.load(ordering: .relaxed))", "rdb_last_bgsave_status:ok",
                "aof_enabled:1", "aof_rewrite_in_progress:\(statistics.mergeInProgress ? 1 : 0)",
                "aof_rewrite_scheduled:\(statistics.mergeIsDue ? 1 : 0)",
                "aof_rewrites:\(statistics.mergesCompleted - min(baseline.merges, statistics.mergesCompleted))",
                "aof_last_bgrewrite_status:\(statistics.lastMergeFailure == nil ? "ok" : "err")",
                "aof_last_write_status:\(statistics.writeFailure == nil ? "ok" : "err")",
                "appendfsync:\(state.startup.appendfsync.rawValue)", "swiftcask_segments:\(statistics.segmentCount)",
                "swiftcask_disk_bytes:\(statistics.diskBytes)", "swiftcask_dead_bytes:\(statistics.deadBytes)",
                "swiftcask_space_amplification:\(Self.twoDecimals(statistics.spaceAmplification))",
                "swiftcask_merges_completed:\(statistics.mergesCompleted)",
                "swiftcask_merge_reclaimed_bytes:\(statistics.mergeReclaimedBytes)",
                "swiftcask_io_backend:\(statistics.ioBackendName)",
                "swiftcask_records_written:\(statistics.recordsWritten)", "swiftcask_syncs:\(statistics.syncs)",
                "swiftcask_rounds_led_by_callers:\(statistics.roundsLedByCallers)",
            ]
        case "stats":
            let totals = state.counters.withLock { $0 }
            let expired = ServerState.expiredKeys(store.statistics)
            let expiredBaseline = state.statisticsBaseline.withLock { $0.expiredKeys }
            return [
                "total_connections_received:\(totals.totalConnectionsReceived)",
                "total_commands_processed:\(totals.totalCommandsProcessed)", "instantaneous_ops_per_sec:0",
                "total_net_input_bytes:\(totals.inputBytes)", "total_net_output_bytes:\(totals.outputBytes)",
                "rejected_connections:\(totals.rejectedConnections)", "expired_keys:\(expired - min(expiredBaseline, expired))",
                "evicted_keys:0", "keyspace_hits:\(totals.keyspaceHits)", "keyspace_misses:\(totals.keyspaceMisses)",
                "pubsub_channels:0", "pubsub_patterns:0", "total_error_replies:\(totals.errorReplies)",
            ]
        case "replication":
            return ["role:master", "connected_slaves:0", "master_failover_state:no-failover",
                    "master_replid:\(state.runID)", "master_repl_offset:0"]
        case "cpu":
            let cpu = SystemClock.processCPUMicros()
            return [
                "used_cpu_sys:\(Self.seconds(cpu.system))", "used_cpu_user:\(Self.seconds(cpu.user))",
                "used_cpu_sys_children:0.000000", "used_cpu_user_children:0.000000",
            ]
        case "modules":
            return []
        case "errorstats":
            let byCode = state.counters.withLock { $0.errorRepliesByCode }
            return byCode.sorted { $0.key < $1.key }.map { "errorstat_\($0.key):count=\($0.value)" }
        case "cluster":
            return ["cluster_enabled:0"]
        case "commandstats":
            let statistics = state.commandStatistics.withLock { $0 }
            var lines: [String] = []
            for (index, spec) in state.registry.specs.enumerated() {
                let counters = statistics.counters[index]
                guard counters.calls > 0 || counters.rejectedCalls > 0 else { continue }
                let perCall = counters.calls > 0 ? Double(counters.micros) / Double(counters.calls) : 0
                lines.append("cmdstat_\(spec.name):calls=\(counters.calls),usec=\(counters.micros),usec_per_call=\(Self.twoDecimals(perCall)),rejected_calls=\(counters.rejectedCalls),failed_calls=\(counters.failedCalls)")
            }
            return lines
        case "keyspace":
            let map = state.databaseMap.withLock { $0 }
            var lines: [String] = []
            for (database, physical) in map.enumerated() {
                let keyspace = Keyspace(rawValue: physical)
                let keys = store.count(in: keyspace)
                guard keys > 0 else { continue }
                // avg_ttl is estimated from a sample of expiring keys, as Redis estimates it.
                lines.append("db\(database):keys=\(keys),expires=\(store.expiringCount(in: keyspace)),avg_ttl=\(store.averageTimeToLive(in: keyspace))")
            }
            return lines
        default:
            return nil
        }
    }

    static func human(_ bytes: Int) -> String {
        let units = ["B", "K", "M", "G", "T"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes)B" : "\(twoDecimals(value))\(units[unit])"
    }

    static func twoDecimals(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    static func seconds(_ micros: Int) -> String {
        let fraction = String(micros % 1_000_000)
        return "\(micros / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
    }
}

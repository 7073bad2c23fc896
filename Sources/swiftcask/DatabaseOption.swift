import ArgumentParser

/// `--db N`: a Redis database number, as in `redis-cli -n N`.
struct DatabaseOption: ParsableArguments {
    @Option(help: "Database number, as in redis-cli -n (0...\(DatabaseMap.databaseMax)).")
    var db = 0

    func validate() throws {
        try DatabaseMap.validate(db)
    }
}

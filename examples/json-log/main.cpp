// json-log — ilana's log as JSON lines, one object per event, for a log
// pipeline (Loki, Elasticsearch, CloudWatch...). The text logger is kept
// for everything else (hook failures, plugin refusals) but quieted here.
//
//   ilana-json-log-example [path/to/ilana.config.json]
//   {"timestamp":"2026-12-06T21:00:00.123Z","level":"info","type":"POOL_CREATED","connection":"cache",...}
//   {"timestamp":"...","level":"debug","type":"QUERY","connection":"cache","durationMs":0.05,"sql":"SELECT ? AS n","ok":true,...}
//
// Without a config it uses an in-memory SQLite database with
// "debug": {"enabled": true, "logQueries": true, "logPoolEvents": true}.
#include <ilana/ilana.hpp>
#include <ilana/logging.hpp>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>

int main(int argc, char **argv) {
    std::string config_path = argc > 1 ? argv[1] : "";
    if (config_path.empty()) {
        config_path = "/tmp/ilana-json-log-example.config.json";
        std::ofstream(config_path) << R"({"connections": {"cache": {"client": "sqlite3",
            "connection": {"filename": ":memory:"}}},
            "debug": {"enabled": true, "logQueries": true, "logPoolEvents": true, "slowQueryThreshold": 500}})";
    }
    // The sink: one JSON object per line on stdout. Records arrive from any
    // thread, so writes are serialised.
    static std::mutex out_mu;
    ilana::set_log_record_sink([](const ilana::LogRecord &record) {
        const std::string line = record.to_json();
        std::lock_guard<std::mutex> lock(out_mu);
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fputc('\n', stdout);
    });
    // Records are delivered at the levels the logger logs: a logger at
    // debug whose text lines go nowhere.
    auto quiet = std::make_shared<spdlog::logger>("ilana", std::make_shared<spdlog::sinks::null_sink_mt>());
    quiet->set_level(spdlog::level::debug);
    ilana::set_logger(quiet);
    try {
        ilana::Database db = ilana::Database::open(config_path);
        db.on(db.config().default_connection()).query("SELECT ? AS n", {42});
        db.close();
    } catch (const std::exception &e) {
        std::cerr << "json-log: " << e.what() << "\n";
        return 1;
    }
    ilana::set_log_record_sink({});
    return 0;
}

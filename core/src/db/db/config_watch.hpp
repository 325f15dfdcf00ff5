// The file watch of "reload": {"watch": true, "intervalMs": N}: one thread
// per Database (at most) that hashes the config file and the .env beside it
// every intervalMs (Config::hash_of_file: a read, no parse) and calls
// Database::reload when the hash differs from the last one it saw. A file
// that stays invalid is reported once, not every interval; the next edit is
// tried again. Stopped when a reload turns the watch off, by Database::close
// and with the Database.
#pragma once

#ifndef ILANA_CORE_LAYER_DB
#error "db/config_watch.hpp is the db layer's own"
#endif

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace ilana::detail {

struct DatabaseState;

struct ReloadWatcher {
    // Watches `path`, whose running config has hash `hash`.
    ReloadWatcher(std::weak_ptr<DatabaseState> db, std::string path, std::string hash,
                  std::chrono::milliseconds interval);
    ~ReloadWatcher(); // stops and joins (detaches when run on its own thread)
    ReloadWatcher(const ReloadWatcher &) = delete;
    ReloadWatcher &operator=(const ReloadWatcher &) = delete;

    // Asks the thread to stop at its next wake-up (without joining).
    void request_stop() noexcept;
    bool stopping() const noexcept;
    const std::string &path() const noexcept { return path_; }
    // A reload changed "intervalMs".
    void set_interval(std::chrono::milliseconds interval) noexcept;

private:
    // What the thread shares with this object, owned by both: the thread may
    // hold the last reference to the Database during a reload, and so
    // destroy this watcher; it then finds stop set and touches nothing else.
    struct Control {
        std::mutex mu;
        std::condition_variable cv;
        std::chrono::milliseconds interval;
        bool stop = false;
    };
    static void run(std::shared_ptr<Control> control, std::weak_ptr<DatabaseState> db, std::string path,
                    std::string seen_hash);
    const std::string path_;
    std::shared_ptr<Control> control_;
    std::thread thread_;
};

} // namespace ilana::detail

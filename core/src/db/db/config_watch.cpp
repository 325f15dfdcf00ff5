// ReloadWatcher (db/config_watch.hpp).
#include "db/config_watch.hpp"

#include <ilana/config.hpp>
#include <ilana/logging.hpp>

#include "db/database_state.hpp"

#include <spdlog/spdlog.h>

namespace ilana::detail {

ReloadWatcher::ReloadWatcher(std::weak_ptr<DatabaseState> db, std::string path, std::string hash,
                             std::chrono::milliseconds interval)
    : db_(std::move(db)), path_(std::move(path)), seen_hash_(std::move(hash)), interval_(interval) {
    thread_ = std::thread([this] { run(); });
}

ReloadWatcher::~ReloadWatcher() {
    request_stop();
    if (!thread_.joinable()) return;
    // The watch thread may hold the last reference to its Database for the
    // length of a reload, and so end up destroying its own watcher.
    if (thread_.get_id() == std::this_thread::get_id()) thread_.detach();
    else thread_.join();
}

void ReloadWatcher::request_stop() noexcept {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
}

bool ReloadWatcher::stopping() const noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_;
}

void ReloadWatcher::set_interval(std::chrono::milliseconds interval) noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    interval_ = interval;
}

void ReloadWatcher::run() {
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait_for(lock, interval_, [this] { return stop_; });
            if (stop_) return;
        }
        std::string hash;
        try {
            hash = Config::hash_of_file(path_);
        } catch (const std::exception &e) {
            hash = std::string("unreadable: ") + e.what(); // reported once, by the reload below
        }
        if (hash == seen_hash_) continue;
        seen_hash_ = hash;
        std::shared_ptr<DatabaseState> ds = db_.lock();
        if (!ds) return;
        if (hash == ds->current().config->hash()) continue; // reloaded already (reload(), SIGHUP)
        try {
            ilana::logger()->info("CONFIG_CHANGED {}: reloading (reload.watch)", path_);
            InternalAccess::make_database(ds).reload(path_); // logs and counts its outcome
        } catch (const std::exception &e) {
            ilana::logger()->error("reload of {} failed: {}", path_, e.what());
        }
    }
}

} // namespace ilana::detail

// ReloadWatcher (db/config_watch.hpp).
#include "db/config_watch.hpp"

#include <ilana/config.hpp>
#include <ilana/logging.hpp>

#include "db/database_state.hpp"

#include <spdlog/spdlog.h>

namespace ilana::detail {

ReloadWatcher::ReloadWatcher(std::weak_ptr<DatabaseState> db, std::string path, std::string hash,
                             std::chrono::milliseconds interval)
    : path_(std::move(path)), control_(std::make_shared<Control>()) {
    control_->interval = interval;
    thread_ = std::thread(run, control_, std::move(db), path_, std::move(hash));
}

ReloadWatcher::~ReloadWatcher() {
    request_stop();
    if (!thread_.joinable()) return;
    if (thread_.get_id() == std::this_thread::get_id()) thread_.detach(); // see Control
    else thread_.join();
}

void ReloadWatcher::request_stop() noexcept {
    {
        std::lock_guard<std::mutex> lock(control_->mu);
        control_->stop = true;
    }
    control_->cv.notify_all();
}

bool ReloadWatcher::stopping() const noexcept {
    std::lock_guard<std::mutex> lock(control_->mu);
    return control_->stop;
}

void ReloadWatcher::set_interval(std::chrono::milliseconds interval) noexcept {
    std::lock_guard<std::mutex> lock(control_->mu);
    control_->interval = interval;
}

void ReloadWatcher::run(std::shared_ptr<Control> control, std::weak_ptr<DatabaseState> db, std::string path,
                        std::string seen_hash) {
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(control->mu);
            control->cv.wait_for(lock, control->interval, [&] { return control->stop; });
            if (control->stop) return;
        }
        std::string hash;
        try {
            hash = Config::hash_of_file(path);
        } catch (const std::exception &e) {
            hash = std::string("unreadable: ") + e.what(); // reported once, by the reload below
        }
        if (hash == seen_hash) continue;
        seen_hash = hash;
        std::shared_ptr<DatabaseState> ds = db.lock();
        if (!ds) return;
        if (hash == ds->current().config->hash()) continue; // reloaded already (reload(), SIGHUP)
        try {
            ilana::logger()->info("CONFIG_CHANGED {}: reloading (reload.watch)", path);
            InternalAccess::make_database(ds).reload(path); // logs and counts its outcome
        } catch (const std::exception &e) {
            ilana::logger()->error("reload of {} failed: {}", path, e.what());
        }
    }
}

} // namespace ilana::detail

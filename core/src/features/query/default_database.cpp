// The process-wide Database of the static Model API.
#include <ilana/model.hpp>

#include <mutex>
#include <optional>

namespace ilana {

namespace {
std::mutex g_default_mu;
std::optional<Database> &default_slot() {
    static std::optional<Database> slot; // constructed on first use, any thread
    return slot;
}
} // namespace

void set_default(Database db) {
    if (!db) throw Error("ilana::set_default: the Database is empty", ErrorClass::config);
    std::optional<Database> old;
    {
        std::lock_guard<std::mutex> lock(g_default_mu);
        old = std::move(default_slot());
        default_slot() = std::move(db);
    }
    // `old` (maybe the last handle, closing pools) goes outside the lock.
}

void reset_default() noexcept {
    std::optional<Database> old;
    {
        std::lock_guard<std::mutex> lock(g_default_mu);
        old = std::move(default_slot());
        default_slot().reset();
    }
}

Database default_database() {
    std::lock_guard<std::mutex> lock(g_default_mu);
    if (!default_slot())
        throw Error("no default database for ilana::Model: call ilana::set_default(db) first "
                    "(e.g. ilana::set_default(ilana::Database::open(\"ilana.config.json\")))",
                    ErrorClass::config);
    return *default_slot();
}

} // namespace ilana

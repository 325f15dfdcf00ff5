#include "db/sticky.hpp"

#include "db/database_state.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

namespace ilana::detail {

namespace {

using Clock = std::chrono::steady_clock;

struct LastWrite {
    const ConnectionState *conn;
    Clock::time_point until;
};

// A handful of entries per thread at most (one per connection written to
// recently); expired ones are dropped on each write. The pointer is only a
// key, never dereferenced: a reused address can at worst pin reads of a new
// connection to its primary until the old deadline.
thread_local std::vector<LastWrite> t_last_writes;

} // namespace

void note_write(const ConnectionState &cs) noexcept {
    const int64_t ms = cs.config.sticky_after_write_ms;
    if (ms <= 0) return;
    const auto now = Clock::now();
    try {
        auto &v = t_last_writes;
        v.erase(std::remove_if(v.begin(), v.end(), [&](const LastWrite &w) { return w.until <= now; }), v.end());
        const auto until = now + std::chrono::milliseconds(ms);
        for (auto &w : v)
            if (w.conn == &cs) {
                w.until = until;
                return;
            }
        v.push_back(LastWrite{&cs, until});
    } catch (...) {
        // Out of memory: reads may go to a replica; never fail the write.
    }
}

bool reads_pinned_to_primary(const ConnectionState &cs) noexcept {
    if (cs.config.sticky_after_write_ms <= 0) return false;
    const auto now = Clock::now();
    for (const auto &w : t_last_writes)
        if (w.conn == &cs) return w.until > now;
    return false;
}

} // namespace ilana::detail

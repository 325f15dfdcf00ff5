// statement_cache.cpp — per-connection LRU of prepared statements.
//
// The host sets ILANA_EXEC_CACHE on SQL it runs again (the query builder's
// statements, migrations' bookkeeping); preparing is a large share of a short
// SQLite statement's cost, so those statements are kept, keyed by exact SQL
// text. sqlite3_prepare_v3 statements re-prepare themselves after a schema
// change, so a cached statement never goes stale.
#include "sqlite_driver.hpp"

namespace ilana::drivers::sqlite {

sqlite3_stmt *StatementCache::find(std::string_view sql) {
    // The statement used last (a loop runs the same one): no hashing, and
    // it is already the most recently used.
    if (!lru_.empty() && std::string_view(lru_.front().first) == sql) return lru_.front().second;
    auto it = index_.find(sql);
    if (it == index_.end()) return nullptr;
    // Most recently used to the front; splice keeps the node (and the key
    // string the index points into) where it is in memory.
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->second;
}

bool StatementCache::insert(std::string sql, sqlite3_stmt *stmt) {
    // Not kept when caching is off, or when the text is already cached (not
    // expected: callers look up first); the caller then keeps ownership.
    if (capacity_ == 0 || index_.count(std::string_view(sql)) != 0) return false;
    while (lru_.size() >= capacity_) {
        Entry &victim = lru_.back();
        index_.erase(std::string_view(victim.first));
        sqlite3_finalize(victim.second);
        ++finalized_;
        lru_.pop_back();
    }
    lru_.emplace_front(std::move(sql), stmt);
    try {
        index_.emplace(std::string_view(lru_.front().first), lru_.begin());
    } catch (...) {
        lru_.pop_front(); // ownership stays with the caller
        throw;
    }
    return true;
}

void StatementCache::clear() noexcept {
    index_.clear();
    for (Entry &e : lru_) sqlite3_finalize(e.second);
    finalized_ += lru_.size();
    lru_.clear();
}

} // namespace ilana::drivers::sqlite

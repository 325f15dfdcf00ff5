// rows.hpp — reading ilana rows into the benchmark's Item, as a user would.
#pragma once

#include "harness.hpp"

#include <ilana/result.hpp>

#include <vector>

namespace bench {

// Typed, checked field access by position (what a user's mapping does).
inline Item item_from(const ilana::Row &row) {
    Item it;
    it.id = row[0].as<int64_t>();
    it.name = row[1].as<std::string_view>();
    it.score = row[2].as<double>();
    it.created_us = row[3].as<ilana::TimestampTz>().micros_since_epoch;
    return it;
}

// SQLite stores `created` as INTEGER microseconds (it has no time type).
inline Item item_from_sqlite(const ilana::Row &row) {
    Item it;
    it.id = row[0].as<int64_t>();
    it.name = row[1].as<std::string_view>();
    it.score = row[2].as<double>();
    it.created_us = row[3].as<int64_t>();
    return it;
}

// SQLite applications usually store a timestamp as DATETIME text
// ("2024-01-01 00:00:01"); the user reads it as Timestamp.
inline Item item_from_sqlite_text_ts(const ilana::Row &row) {
    Item it;
    it.id = row[0].as<int64_t>();
    it.name = row[1].as<std::string_view>();
    it.score = row[2].as<double>();
    it.created_us = row[3].as<ilana::Timestamp>().micros_since_epoch;
    return it;
}

// Checks a fetched vector against the expected sums; returns rows as ops.
inline uint64_t checked_count(const char *side, const std::vector<Item> &items, const Checksum &want) {
    Checksum sum;
    for (const Item &it : items) sum.add(it);
    sum.check(side, want);
    return static_cast<uint64_t>(items.size());
}

} // namespace bench

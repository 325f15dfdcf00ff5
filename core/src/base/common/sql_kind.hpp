// What a statement does, read from its text, for the decisions that depend
// on it: retry safety (db/statement_retry), whether a lost write's outcome is
// unknown (plugins/native_connection), read-your-writes stickiness and
// RETURNING counts (db/database). Low in core so every area can ask.
#pragma once

#include <string_view>

namespace ilana::detail {

// True for statements that only read (SELECT, SHOW, a WITH without a write,
// ...): re-running them after a lost connection cannot apply anything twice.
bool is_read_only(std::string_view sql);

} // namespace ilana::detail

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

// True for one plain SELECT / VALUES / TABLE / WITH / INSERT / UPDATE /
// DELETE that leaves nothing on its session once it completed in
// autocommit: no transaction block, SET, temporary table, lock function,
// user variable, SELECT ... INTO, last-insert id or sequence value read
// back, and no second statement. The async API pipelines only these on a
// session it shares between callers (db/async/async_lanes.hpp); the test
// is conservative (a word in a string literal counts too).
bool may_share_session(std::string_view sql);

} // namespace ilana::detail

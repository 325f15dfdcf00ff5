// Batches (Session::execute_many): one statement, many parameter rows.
#pragma once

#include <ilana/database.hpp>

#include <string_view>
#include <vector>

namespace ilana::detail {

struct ConnectionState;
class NativeConnection;

// Runs `sql` (with ? placeholders) once per row of `rows` on `conn`, all or
// nothing, timed and reported as one statement of `cs`; `in_tx`: inside
// the caller's transaction. Returns the summed affected rows.
ExecResult run_batch(ConnectionState &cs, NativeConnection &conn, bool in_tx, std::string_view sql,
                     const std::vector<Params> &rows);

} // namespace ilana::detail

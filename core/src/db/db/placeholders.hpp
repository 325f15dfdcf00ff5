// The C++ API writes parameters as `?`. This rewrites them into the driver's
// placeholder style ($1, $2, ... for PostgreSQL), skipping `?` inside string
// literals, quoted identifiers, comments and dollar-quoted bodies. `??` is a
// literal `?` (for PostgreSQL's jsonb operators).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ilana::detail {

// Writes the rewritten SQL into `out` (cleared first) and returns the number
// of placeholders. `style` is ILANA_PLACEHOLDER_*.
size_t rewrite_placeholders(std::string_view sql, int style, std::string &out);

// True when `sql` needs no rewriting for `style` (no `?` at all, or the
// QUESTION style and no `??`): the caller can pass it through unchanged.
bool placeholders_passthrough(std::string_view sql, int style) noexcept;

} // namespace ilana::detail

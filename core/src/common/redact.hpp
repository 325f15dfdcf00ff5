// redact.hpp — keeping secrets out of messages and logs.
//
// Used by the config (Config::redact) and by anything that logs text which
// may echo user input (DSNs, driver messages). Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ilana::detail {

// Replaces every occurrence of each non-empty secret in `text` with "***",
// longest secrets first (so a secret that contains another is fully hidden).
std::string redact_secrets(std::string text, const std::vector<std::string> &secrets);

// The password part of a URL's user info ("scheme://user:PASS@host/..."),
// or "" when there is none. Percent-escapes are kept as written.
std::string url_password(std::string_view url);

// "%40" -> "@" etc.; invalid escapes are kept as written.
std::string percent_decode(std::string_view text);

// The URL with its password replaced by "***" (unchanged when it has none).
std::string redact_url(std::string url);

} // namespace ilana::detail

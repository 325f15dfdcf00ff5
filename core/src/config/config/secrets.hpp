// secrets.hpp — finding the secret values of a config.
#pragma once

#include "config/json_util.hpp"

#include <string>
#include <vector>

namespace ilana::config_detail {

// Appends to `out` every value under a secret key (Config::is_secret_key),
// every reading of the password of a URL ("scheme://user:PASS@host", raw
// and decoded, detail::url_secret_candidates) and of libpq-style
// "password=..." strings found anywhere in `root`, with the fragments of
// each that a client library could echo (detail::secret_fragments).
// A password provider object under a secret key ({"passwordFile": ...},
// {"passwordCommand": [...]}) is skipped: its path and command are not the
// secret, and errors name them.
void collect_secrets(const Value &root, std::vector<std::string> &out);

// Whether `text` (a connection parameter) holds a password: a URL's user
// info "user:PASS@" or a libpq-style "password=...".
bool carries_password(const std::string &text);

// Sorted, unique, without empty strings.
void normalize_secrets(std::vector<std::string> &secrets);

} // namespace ilana::config_detail

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
void collect_secrets(const Value &root, std::vector<std::string> &out);

// Sorted, unique, without empty strings.
void normalize_secrets(std::vector<std::string> &secrets);

} // namespace ilana::config_detail

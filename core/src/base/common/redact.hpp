// redact.hpp — keeping secrets out of messages and logs.
//
// Used by the config (Config::redact) and by anything that logs text which
// may echo user input (DSNs, driver messages). Pure functions, thread-safe.
//
// The core does not decide what a connection URL means (the driver's
// reading does, <ilana/sdk/connection_url.hpp>, and refuses user info that
// client libraries would read differently). What the core masks is a
// superset: every part of a URL that any reading could take for the
// password, and the pieces of it a client library could echo as a host,
// port or database name.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace ilana::detail {

// Pieces of a secret shorter than this are not masked on their own
// (masking every "db" or "x" would garble every message).
constexpr std::size_t kMinSecretFragment = 4;

// Replaces every occurrence of each non-empty secret in `text` with "***",
// longest secrets first (so a secret that contains another is fully hidden);
// a secret shorter than kMinSecretFragment only where no letter, digit or
// '_' touches it (not inside a word).
// Before that, masks every quoted token ("..." or '...') of at least
// kMinSecretFragment characters that is a run of a secret's pieces between
// delimiters (see secret_fragments): client libraries quote the token of a
// value they reject, and a misread URL splits a password at delimiters.
std::string redact_secrets(std::string text, const std::vector<std::string> &secrets);

// Appends what may be the password of a URL-like text
// ("scheme://user:PASS@host/..."): for each '@' after "://", the text from
// the first ':' of the user info to that '@', as written and percent-decoded,
// and the fragments of those (split at URL delimiters) of at least
// kMinSecretFragment characters. Nothing when `text` is no URL.
void url_secret_candidates(std::string_view text, std::vector<std::string> &out);

// Appends the pieces of `secret` between URL and keyword-string delimiters
// ('@' '/' '?' '#' ':' '&' '=' ',' ';' '[' ']' quotes, blanks) of at least
// kMinSecretFragment characters.
void secret_fragments(std::string_view secret, std::vector<std::string> &out);

// Secrets that become known while the process runs (a password provider's
// answers, Config::learn_secret), beside the fixed list a config collects at
// load. Each is kept with its fragments (secret_fragments) and never
// forgotten: a rotated-away password may still sit in a message of a
// session opened with it. Thread-safe; redacting costs one atomic load
// while nothing was learned.
class LearnedSecrets {
public:
    void add(const std::string &secret);
    // redact_secrets over `fixed` and everything learned, in one pass (so
    // the longest secret of both lists is masked first).
    std::string redact(std::string text, const std::vector<std::string> &fixed) const;

private:
    mutable std::mutex mu_;
    std::vector<std::string> secrets_; // sorted, unique
    std::atomic<bool> any_{false};
};

// "%40" -> "@" etc.; invalid escapes are kept as written.
std::string percent_decode(std::string_view text);

} // namespace ilana::detail

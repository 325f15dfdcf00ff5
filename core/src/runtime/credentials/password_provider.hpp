// password_provider.hpp — a connection's password read from a file or a
// command when a session is opened (README "Credentials"), so that a
// rotated password takes effect for new connections without a restart.
//
// Used on the connect path only (NativeConnection::open), never per query.
// One provider per configured connection, shared by its pool, its tenant
// pools and its replica probes: a command runs once per ttlMs for all of
// them.
#pragma once

#include <ilana/config.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace ilana::detail {

class PasswordProvider {
public:
    // `config` learns every value read (Config::learn_secret) before it is
    // returned, so no message redacted through it can show one.
    PasswordProvider(PasswordProviderConfig spec, std::string connection, std::shared_ptr<const Config> config);

    // The password for a new session: the file read now, or the command's
    // answer (run now when none is younger than ttlMs). Throws Error (class
    // auth) naming the connection, the file or argv[0], and what to do.
    std::string current();

    // Called once when a connect with `tried` failed with the auth class:
    // the provider's value read again (the file re-read, the command re-run
    // unless another connect refreshed it since `tried` was handed out),
    // and while it is still `tried`, again for up to 1 s (every 50 ms for a
    // file, 250 ms for a command): the database and the secret are changed
    // one after the other, and a session refused in between needs the
    // secret's new value. Returns the new value (the connect is tried once
    // more with it), nullopt when it stayed `tried` (the auth error
    // stands). Throws Error as current() does.
    std::optional<std::string> after_auth_failure(const std::string &tried);

    const PasswordProviderConfig &spec() const noexcept { return spec_; }

private:
    std::string read_file() const;
    // The value read once more, for after_auth_failure.
    std::string read_again(const std::string &tried);
    std::string run_command() const;
    // Learns `value` and fails when it is empty.
    std::string accept(std::string value, const std::string &what_to_do) const;
    [[noreturn]] void fail(const std::string &what) const;
    std::string source_name() const; // "password file /run/secrets/db" / "password command 'get-token'"

    PasswordProviderConfig spec_;
    std::string connection_;
    std::shared_ptr<const Config> config_;
    // The command's cached answer.
    std::mutex mu_;
    std::optional<std::string> cached_;
    std::chrono::steady_clock::time_point fetched_at_;
};

} // namespace ilana::detail

#include "credentials/password_provider.hpp"

#include "common/error_factory.hpp"
#include "common/text_file.hpp"
#include "credentials/child_process.hpp"

#include <system_error>
#include <thread>
#include <utility>

namespace ilana::detail {

namespace {

// A secret file is a line; anything near this size is the wrong file.
constexpr std::uintmax_t kPasswordFileLimit = 64u << 10;
// What a command may print (more is read and dropped).
constexpr std::size_t kCommandOutputLimit = 64u << 10;
// After an auth refusal, how long the provider is read again while it still
// gives the refused value, and how often (a file is cheap to read; a
// command may be a call to a token service).
constexpr std::chrono::milliseconds kRotationGrace{1000};
constexpr std::chrono::milliseconds kFileRecheck{50};
constexpr std::chrono::milliseconds kCommandRecheck{250};
// What of a failing command's stderr a message quotes.
constexpr std::size_t kStderrShown = 500;

// Docker and Kubernetes secret files, and `echo` in a command, end in one
// newline that is not part of the password.
std::string strip_one_newline(std::string s) {
    if (!s.empty() && s.back() == '\n') s.pop_back();
    if (!s.empty() && s.back() == '\r') s.pop_back();
    return s;
}

std::string one_line(std::string s) {
    for (char &c : s)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

} // namespace

PasswordProvider::PasswordProvider(PasswordProviderConfig spec, std::string connection,
                                   std::shared_ptr<const Config> config)
    : spec_(std::move(spec)), connection_(std::move(connection)), config_(std::move(config)) {}

std::string PasswordProvider::source_name() const {
    if (!spec_.file.empty()) return "password file " + spec_.file;
    return "password command '" + spec_.command.front() + "'";
}

void PasswordProvider::fail(const std::string &what) const {
    const std::string where = config_ ? " (" + config_->source() + ": " + spec_.json_path + ")" : std::string();
    throw_error(Error("[" + connection_ + "] connect: " + what + where, ErrorClass::auth, connection_));
}

std::string PasswordProvider::accept(std::string value, const std::string &what_to_do) const {
    if (value.empty()) fail(source_name() + " gave an empty password; " + what_to_do);
    if (config_) config_->learn_secret(value);
    return value;
}

std::string PasswordProvider::read_file() const {
    std::string text;
    try {
        text = read_text_file(spec_.file, kPasswordFileLimit, "password file");
    } catch (const TextFileError &e) {
        fail(std::string(e.what()) +
             "; create it (readable by this process) with the password on one line, or fix \"passwordFile\"");
    }
    return accept(strip_one_newline(std::move(text)), "write the password into it");
}

std::string PasswordProvider::run_command() const {
    ChildOutcome outcome;
    try {
        outcome = run_child(spec_.command, std::chrono::milliseconds(spec_.timeout_ms), kCommandOutputLimit);
    } catch (const std::system_error &e) {
        const int code = e.code().value();
        fail(source_name() + " could not be started: " + e.code().message() +
             (code == ENOENT   ? " (give its absolute path or put it on PATH)"
              : code == EACCES ? " (make it executable: chmod +x)"
                               : ""));
    }
    // Whatever it printed may be the password (a failing command can still
    // print one): never shown, and masked in what is shown.
    std::string out = strip_one_newline(std::move(outcome.out));
    if (!outcome.exited_zero()) {
        if (config_ && !out.empty()) config_->learn_secret(out);
        std::string err = one_line(std::move(outcome.err));
        if (config_) err = config_->redact(std::move(err));
        if (err.size() > kStderrShown) err = err.substr(0, kStderrShown) + "...";
        std::string why = outcome.timed_out ? "did not finish within timeoutMs=" + std::to_string(spec_.timeout_ms) +
                                                  " and was killed"
                          : outcome.signal != 0 ? "was ended by signal " + std::to_string(outcome.signal)
                                                : "exited with status " + std::to_string(outcome.exit_status);
        fail(source_name() + " " + why + (err.empty() ? std::string(" (no stderr)") : "; stderr: " + err) +
             (outcome.timed_out ? "; make it answer sooner or raise \"timeoutMs\"" : "; run it by hand to see why"));
    }
    return accept(std::move(out), "it must print the password on stdout");
}

std::string PasswordProvider::current() {
    if (!spec_.file.empty()) return read_file();
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (cached_ && now - fetched_at_ < std::chrono::milliseconds(spec_.ttl_ms)) return *cached_;
    // Under the lock: sessions opened together wait for one run, not one each.
    cached_ = run_command();
    fetched_at_ = std::chrono::steady_clock::now();
    return *cached_;
}

std::string PasswordProvider::read_again(const std::string &tried) {
    if (!spec_.file.empty()) return read_file();
    std::lock_guard<std::mutex> lock(mu_);
    // Another connect refreshed it since `tried` was handed out: use that
    // answer rather than run the command again.
    if (!cached_ || *cached_ == tried) {
        cached_.reset();
        cached_ = run_command();
        fetched_at_ = std::chrono::steady_clock::now();
    }
    return *cached_;
}

std::optional<std::string> PasswordProvider::after_auth_failure(const std::string &tried) {
    // The database and the secret change one after the other: a session
    // refused between the two finds the old value again, and waits (a
    // little) for the secret to follow.
    const auto give_up = std::chrono::steady_clock::now() + kRotationGrace;
    const auto step = spec_.file.empty() ? kCommandRecheck : kFileRecheck;
    for (;;) {
        std::string fresh = read_again(tried);
        if (fresh != tried) return fresh;
        if (std::chrono::steady_clock::now() + step > give_up) return std::nullopt;
        std::this_thread::sleep_for(step);
    }
}

} // namespace ilana::detail

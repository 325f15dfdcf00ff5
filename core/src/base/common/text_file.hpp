// text_file.hpp — reading a whole file a user names, with a size limit.
//
// Every file ilana reads whole (the config, its .env, migration files, seed
// SQL, anonymization rules) goes through here, so that `--config /dev/zero`,
// a FIFO or a runaway file is an error naming the file and the limit instead
// of memory growing until the allocator fails.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace ilana::detail {

// The limits, in bytes (README "Limits on files read"). A config or rules
// file is hand-written JSON; migrations and seeds may carry data.
constexpr std::uintmax_t kConfigFileLimit = 4u << 20;     // ilana.config.json, anonymization rules
constexpr std::uintmax_t kDotEnvFileLimit = 1u << 20;     // .env
constexpr std::uintmax_t kSqlFileLimit = 256u << 20;      // migration files, seed SQL

// Why a file could not be read; the message names the file and what to do.
class TextFileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// "4 MiB", "512 KiB", "100 bytes".
std::string describe_size(std::uintmax_t bytes);

// Reads the regular file `path` whole. Throws TextFileError when it does not
// exist, cannot be read, is not a regular file (a directory, FIFO, socket or
// device such as /dev/zero: opened without blocking, never read), or holds
// more than `limit` bytes (checked while reading too, for a file that grows).
// `what` names the file's role in messages ("config file", "migration file").
std::string read_text_file(const std::string &path, std::uintmax_t limit, const std::string &what);

} // namespace ilana::detail

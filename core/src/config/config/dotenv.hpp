// dotenv.hpp — the optional `.env` file beside the config.
//
// Format (the subset every dotenv implementation agrees on):
//   # comment
//   KEY=value            unquoted: trimmed, " #..." starts a comment
//   export KEY=value     "export " is ignored
//   KEY='literal $text'  single quotes: taken as written, may span lines
//   KEY="a\nb"           double quotes: \n \r \t \" \\ escapes, may span lines
// A NUL byte or another control character (not tab, CR, LF) anywhere is an
// error naming the line. Values are kept in a map; the process environment
// is never modified. At most 1 MiB is read (common/text_file.hpp).
#pragma once

#include <map>
#include <string>

namespace ilana::config_detail {

using DotEnv = std::map<std::string, std::string>;

// Parses .env text. `file` names it in errors ("<file>:<line>: ...").
// Throws ConfigError on a malformed line; messages never contain values.
DotEnv parse_dotenv(const std::string &text, const std::string &file);

// Reads <dir>/.env; an empty map when the file does not exist or dir is "".
DotEnv read_dotenv(const std::string &dir);
// The text of <dir>/.env as read_dotenv reads it; "" when absent or dir is "".
std::string read_dotenv_text(const std::string &dir);
// The path read_dotenv reads (<dir>/.env), for messages.
std::string dotenv_path(const std::string &dir);

} // namespace ilana::config_detail

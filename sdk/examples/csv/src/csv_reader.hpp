// csv_reader.hpp — a streaming RFC 4180 reader.
//
// Reads one record at a time through a 64 KiB buffer, so a file of any size
// needs memory for one record only. Fields may be quoted ("a, b"), quotes
// inside are doubled (""), quoted fields may span lines. Records end with
// LF or CRLF; a UTF-8 byte order mark at the start is skipped; lines with
// nothing on them are skipped. An unquoted empty field is SQL NULL, a quoted
// empty field ("") is the empty string.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace csv {

struct Field {
    std::string text;
    bool quoted = false;
    bool is_null() const noexcept { return !quoted && text.empty(); }
};

class Reader {
public:
    // Opens `path`; ILANA_ERR_SYNTAX-free: failures are DriverFailure with
    // ILANA_ERR_DATA / ILANA_ERR_CONNECTION naming the file.
    Reader(std::string path, char delimiter);
    ~Reader();
    Reader(const Reader &) = delete;
    Reader &operator=(const Reader &) = delete;

    // Reads the next record into `fields` (resized; strings reused). Returns
    // false at the end of the file. A malformed record is ILANA_ERR_DATA
    // naming the file and line.
    bool next(std::vector<Field> &fields);
    // Line on which the last record returned started (1-based).
    int64_t line() const noexcept { return record_line_; }
    const std::string &path() const noexcept { return path_; }

private:
    int get();     // next byte or EOF
    int peek();
    [[noreturn]] void fail(const std::string &what) const;

    std::string path_;
    char delimiter_;
    std::FILE *file_ = nullptr;
    std::vector<char> buf_;
    size_t pos_ = 0, len_ = 0;
    bool eof_ = false;
    int64_t line_ = 1;
    int64_t record_line_ = 0;
};

} // namespace csv

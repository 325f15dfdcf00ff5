// csv_reader.cpp — the RFC 4180 state machine.
#include "csv_reader.hpp"

#include <ilana/sdk/driver_support.hpp>

#include <cerrno>
#include <cstring>

namespace csv {

using ilana::sdk::DriverFailure;

Reader::Reader(std::string path, char delimiter) : path_(std::move(path)), delimiter_(delimiter), buf_(64 * 1024) {
    file_ = std::fopen(path_.c_str(), "rb");
    if (file_ == nullptr)
        throw DriverFailure(ILANA_ERR_CONNECTION, "cannot open " + path_ + ": " + std::strerror(errno), "58030");
    // Skip a UTF-8 byte order mark.
    if (peek() == 0xEF) {
        get();
        if (get() != 0xBB || get() != 0xBF) fail("starts with a broken byte order mark");
    }
}

Reader::~Reader() {
    if (file_ != nullptr) std::fclose(file_);
}

int Reader::peek() {
    if (pos_ == len_) {
        if (eof_) return EOF;
        len_ = std::fread(buf_.data(), 1, buf_.size(), file_);
        pos_ = 0;
        if (len_ == 0) {
            eof_ = true;
            if (std::ferror(file_)) fail(std::string("read error: ") + std::strerror(errno));
            return EOF;
        }
    }
    return static_cast<unsigned char>(buf_[pos_]);
}

int Reader::get() {
    const int c = peek();
    if (c != EOF) ++pos_;
    if (c == '\n') ++line_;
    return c;
}

void Reader::fail(const std::string &what) const {
    throw DriverFailure(ILANA_ERR_DATA, path_ + " line " + std::to_string(line_) + ": " + what, "22P04");
}

bool Reader::next(std::vector<Field> &fields) {
    size_t n = 0;
    auto field = [&]() -> Field & {
        if (n == fields.size()) fields.emplace_back();
        Field &f = fields[n++];
        f.text.clear();
        f.quoted = false;
        return f;
    };

    // Skip blank lines; stop at the end of the file.
    for (;;) {
        const int c = peek();
        if (c == EOF) return false;
        if (c == '\n') {
            get();
            continue;
        }
        if (c == '\r') {
            get();
            if (peek() == '\n') get();
            continue;
        }
        break;
    }
    record_line_ = line_;

    for (;;) {
        Field &f = field();
        int c = peek();
        if (c == '"') {
            get();
            f.quoted = true;
            const int64_t opened = line_;
            for (;;) {
                c = get();
                if (c == EOF)
                    throw DriverFailure(ILANA_ERR_DATA, path_ + " line " + std::to_string(opened) +
                                                            ": quoted field never closed", "22P04");
                if (c == '"') {
                    if (peek() == '"') {
                        get();
                        f.text.push_back('"');
                        continue;
                    }
                    break;
                }
                f.text.push_back(static_cast<char>(c));
            }
            c = peek();
            if (c != EOF && c != delimiter_ && c != '\n' && c != '\r')
                fail("text after the closing quote of field " + std::to_string(n) +
                     " (a quote inside a quoted field is written \"\")");
        } else {
            while (c != EOF && c != delimiter_ && c != '\n' && c != '\r') {
                if (c == '"')
                    fail("quote inside the unquoted field " + std::to_string(n) +
                         " (quote the whole field and double the quote: \"a \"\"b\"\"\")");
                f.text.push_back(static_cast<char>(get()));
                c = peek();
            }
        }
        c = get();
        if (c == delimiter_) continue;
        if (c == '\r' && peek() == '\n') get();
        break; // end of line or of file
    }
    fields.resize(n);
    return true;
}

} // namespace csv

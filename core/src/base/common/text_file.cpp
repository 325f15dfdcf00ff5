#include "common/text_file.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ilana::detail {

namespace {

const char *kind_of(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
    return "not a regular file";
}

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

} // namespace

std::string describe_size(std::uintmax_t bytes) {
    if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
    if (bytes >= (1u << 10) && bytes % (1u << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
    return std::to_string(bytes) + " bytes";
}

std::string read_text_file(const std::string &path, std::uintmax_t limit, const std::string &what) {
    // O_NONBLOCK: opening a FIFO for reading must not wait for a writer.
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (fd.get() < 0) {
        const int err = errno;
        if (err == ENOENT) throw TextFileError(what + " not found: " + path);
        throw TextFileError("cannot read " + what + " " + path + ": " + std::strerror(err));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        throw TextFileError("cannot read " + what + " " + path + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode))
        throw TextFileError(what + " " + path + " is " + kind_of(st.st_mode) +
                            ", not a regular file (name a file)");
    const std::string too_large = what + " " + path + " is larger than " + describe_size(limit) +
                                  ", the most ilana reads (split it or shrink it)";
    if (static_cast<std::uintmax_t>(st.st_size) > limit) throw TextFileError(too_large);

    std::string text;
    text.reserve(static_cast<std::size_t>(st.st_size));
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw TextFileError("cannot read " + what + " " + path + ": " + std::strerror(errno));
        }
        if (n == 0) break;
        if (text.size() + static_cast<std::size_t>(n) > limit) throw TextFileError(too_large);
        text.append(buf, static_cast<std::size_t>(n));
    }
    return text;
}

} // namespace ilana::detail

// A temporary directory removed at scope exit, and small file helpers.
#pragma once

#include <boost/filesystem.hpp>

#include <fstream>
#include <string>

namespace ilana_test {

class TempDir {
public:
    TempDir() {
        path_ = boost::filesystem::temp_directory_path() / boost::filesystem::unique_path("ilana-test-%%%%-%%%%-%%%%");
        boost::filesystem::create_directories(path_);
    }
    ~TempDir() {
        boost::system::error_code ec;
        boost::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    std::string path() const { return path_.string(); }
    std::string file(const std::string &name) const { return (path_ / name).string(); }
    std::string write(const std::string &name, const std::string &content) const {
        std::string p = file(name);
        boost::filesystem::create_directories(boost::filesystem::path(p).parent_path());
        std::ofstream(p, std::ios::binary) << content;
        return p;
    }

private:
    boost::filesystem::path path_;
};

// Runs a shell command, capturing stdout+stderr; returns the exit code.
inline int run_command(const std::string &cmd, std::string &output) {
    output.clear();
    FILE *p = popen((cmd + " 2>&1").c_str(), "r");
    if (p == nullptr) return -1;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) output.append(buf, n);
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Absolute path of the built CLI.
inline std::string ilana_cli() { return std::string(ILANA_TEST_BINARY_DIR) + "/bin/ilana"; }

} // namespace ilana_test

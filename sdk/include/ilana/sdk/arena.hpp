// ilana/sdk/arena.hpp — the byte arena behind a batch's string cells.
//
// Cells of a batch point into this arena; it is reset at the start of each
// fetch, so memory is reused batch after batch (no per-row malloc). Blocks
// never move, so pointers stay valid until the next reset.
//
// Header-only; depends on the C++17 standard library.
#ifndef ILANA_SDK_ARENA_HPP
#define ILANA_SDK_ARENA_HPP

#include <cstddef>
#include <cstring>
#include <memory>
#include <vector>

namespace ilana::sdk {

class ByteArena {
public:
    static constexpr size_t kBlockSize = 64 * 1024;
    // The first block is small: a point select's few strings should not
    // cost a 64 KiB allocation per result.
    static constexpr size_t kFirstBlock = 4 * 1024;
    // Keep at most this much between batches; one huge value does not pin
    // its memory for the rest of the result.
    static constexpr size_t kRetain = 4 * 1024 * 1024;

    char *alloc(size_t n) {
        if (n == 0) return nullptr;
        used_ += n;
        while (current_ < blocks_.size()) {
            Block &b = blocks_[current_];
            if (b.size - b.used >= n) {
                char *p = b.data.get() + b.used;
                b.used += n;
                return p;
            }
            // Values never span blocks: move on (the tail stays unused).
            ++current_;
        }
        const size_t block = blocks_.empty() ? kFirstBlock : kBlockSize;
        size_t size = n > block ? n : block;
        blocks_.push_back(Block{std::unique_ptr<char[]>(new char[size]), size, n});
        current_ = blocks_.size() - 1;
        return blocks_.back().data.get();
    }

    char *copy(const void *src, size_t n) {
        char *p = alloc(n);
        if (n != 0) std::memcpy(p, src, n);
        return p;
    }

    // Bytes handed out since the last reset.
    size_t used() const { return used_; }

    void reset() {
        used_ = 0;
        size_t kept = 0, out = 0;
        for (size_t i = 0; i < blocks_.size(); ++i) {
            const size_t size = blocks_[i].size;
            if ((size == kBlockSize || size == kFirstBlock) && kept + size <= kRetain) {
                kept += size;
                blocks_[i].used = 0;
                if (out != i) blocks_[out] = std::move(blocks_[i]);
                ++out;
            }
        }
        blocks_.resize(out);
        current_ = 0;
    }

private:
    struct Block {
        std::unique_ptr<char[]> data;
        size_t size;
        size_t used;
    };
    std::vector<Block> blocks_;
    size_t current_ = 0;
    size_t used_ = 0;
};

} // namespace ilana::sdk

#endif // ILANA_SDK_ARENA_HPP

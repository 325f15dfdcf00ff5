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

    // `n` bytes that stay where they are until the next reset (nullptr for
    // n == 0). The common case is a bump of one pointer, inlined.
    char *alloc(size_t n) {
        if (n == 0) return nullptr;
        used_ += n;
        if (n <= left_) {
            char *p = next_;
            next_ += n;
            left_ -= n;
            return p;
        }
        return alloc_in_next_block(n);
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
                if (out != i) blocks_[out] = std::move(blocks_[i]);
                ++out;
            }
        }
        blocks_.resize(out);
        current_ = 0;
        enter(blocks_.empty() ? nullptr : &blocks_[0]);
    }

private:
    struct Block {
        std::unique_ptr<char[]> data;
        size_t size;
    };

    // The blocks after current_ are unused since the last reset: the first
    // one that holds `n` becomes current, else a new one is added. Values
    // never span blocks (the tail of the one left stays unused).
    char *alloc_in_next_block(size_t n) {
        while (current_ + 1 < blocks_.size()) {
            ++current_;
            if (blocks_[current_].size >= n) return take_first(n);
        }
        const size_t block = blocks_.empty() ? kFirstBlock : kBlockSize;
        const size_t size = n > block ? n : block;
        blocks_.push_back(Block{std::unique_ptr<char[]>(new char[size]), size});
        current_ = blocks_.size() - 1;
        return take_first(n);
    }
    char *take_first(size_t n) {
        enter(&blocks_[current_]);
        char *p = next_;
        next_ += n;
        left_ -= n;
        return p;
    }
    void enter(Block *b) noexcept {
        next_ = b ? b->data.get() : nullptr;
        left_ = b ? b->size : 0;
    }

    std::vector<Block> blocks_;
    size_t current_ = 0;
    char *next_ = nullptr; // the free bytes of blocks_[current_]
    size_t left_ = 0;
    size_t used_ = 0;
};

} // namespace ilana::sdk

#endif // ILANA_SDK_ARENA_HPP

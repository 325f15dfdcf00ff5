// Result storage: one cell array plus a chunked byte arena, so views into a
// Result never dangle while it lives and appending never moves old bytes.
#include <ilana/result.hpp>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace ilana {

void Row::out_of_range(size_t index) const {
    throw std::out_of_range("row has " + std::to_string(columns_->size()) + " columns; no column at index " +
                            std::to_string(index));
}

int Row::index_of(std::string_view name) const noexcept {
    for (size_t i = 0; i < columns_->size(); ++i)
        if ((*columns_)[i].name == name) return static_cast<int>(i);
    return -1;
}

Field Row::operator[](std::string_view name) const {
    int i = index_of(name);
    if (i < 0) {
        std::string have;
        for (const auto &c : *columns_) have += (have.empty() ? "" : ", ") + c.name;
        throw Error("no column named '" + std::string(name) + "' in this row; columns: " + have,
                    ErrorClass::data);
    }
    return Field(cells_ + i, (*names_)[static_cast<size_t>(i)]);
}

Row Result::at(size_t i) const {
    if (i >= size())
        throw std::out_of_range("result has " + std::to_string(size()) + " rows; no row " + std::to_string(i));
    return (*this)[i];
}

Row Result::front() const {
    if (empty()) throw Error("the query returned no rows", ErrorClass::data);
    return (*this)[0];
}

std::shared_ptr<const ColumnSet> ColumnSet::make(std::vector<Column> columns) {
    auto set = std::make_shared<ColumnSet>();
    set->columns = std::move(columns);
    set->names.reserve(set->columns.size());
    for (const auto &c : set->columns) set->names.push_back(c.name.c_str());
    return set;
}

const std::vector<Column> &Result::columns() const noexcept {
    static const std::vector<Column> none;
    return set_ != nullptr ? set_->columns : none;
}

namespace detail {
// What a Result owns once it has columns. Kept whole on a per-thread spare
// list when the Result dies (small ones only), so that a query in a loop
// reuses the previous one's first chunk and arena block, and its column set
// too: the storage keeps its shared_ptr while spare, and a Result of the
// same shape finds it already there (no reference count touched).
//
// Cells live in chunks of 1 << shift rows. The first chunk grows (doubling,
// uninitialized) to at most one chunk, so a point select's one row costs one
// row; the next ones are allocated whole and never move. A single growing
// array copied every cell again at each doubling and, past malloc's mmap
// threshold, had the kernel fault in and zero fresh pages for each copy
// (callgrind saw the memcpy; perf saw the page faults, ~12% of
// sqlite_fetch_query's CPU). Chunks of ~64 KiB stay below that threshold.
struct ResultStorage {
    std::shared_ptr<const ColumnSet> columns;
    std::unique_ptr<ilana_value[]> first;             // chunk 0, first_cap cells
    size_t first_cap = 0;
    std::vector<std::unique_ptr<ilana_value[]>> more; // chunks 1, 2, ... (full size)
    std::vector<ilana_value *> chunks;                // first, then more[k]
    std::vector<std::unique_ptr<char[]>> blocks;      // text/blob bytes; never move
    size_t used = 0, cap = 0;                         // of blocks.back()
};
} // namespace detail

namespace {
using detail::ResultStorage;

// Cells whose value is bytes (v.str) that a Result must copy.
constexpr uint32_t kStringTypes = (1u << ILANA_TYPE_TEXT) | (1u << ILANA_TYPE_BLOB) | (1u << ILANA_TYPE_DECIMAL) |
                                  (1u << ILANA_TYPE_UUID) | (1u << ILANA_TYPE_JSON);
inline bool holds_bytes(const ilana_value &v) {
    return v.is_null == 0 && static_cast<uint32_t>(v.type) < 32 && ((kStringTypes >> v.type) & 1u) != 0;
}
// The first block is small (a point select's few bytes are not worth
// 64 KiB); later blocks grow geometrically.
size_t next_block(size_t need, size_t blocks, size_t last_cap) {
    if (blocks == 0) return std::max<size_t>(need, 256);
    return std::max<size_t>(need, std::max<size_t>(64 * 1024, last_cap * 2));
}

// About this many bytes of cells per chunk: the largest power of two of
// rows that fits (at least one row).
constexpr size_t kChunkBytes = 64 * 1024;
unsigned chunk_shift(size_t ncols) {
    const size_t rows = kChunkBytes / (std::max<size_t>(ncols, 1) * sizeof(ilana_value));
    return rows <= 1 ? 0u : static_cast<unsigned>(63 - __builtin_clzll(static_cast<unsigned long long>(rows)));
}

// At most kSpares storages per thread, each kept only while its first chunk
// and its last arena block are at most kKeepBytes (the further chunks of a
// big result are freed): a big result's memory goes back to malloc, and the
// list costs at most a few hundred KiB.
constexpr size_t kSpares = 4;
constexpr size_t kKeepBytes = 64 * 1024;

struct SpareList {
    ResultStorage *spare[kSpares] = {};
    size_t count = 0;
    ~SpareList();
};
// Trivially destructible, so it can be read after `t_spares` is gone (a
// Result destroyed later in thread exit then simply frees its storage).
thread_local bool t_spares_gone = false;
thread_local SpareList t_spares;
SpareList::~SpareList() {
    t_spares_gone = true;
    for (size_t i = 0; i < count; ++i) delete spare[i];
}

ResultStorage *take_storage() {
    if (!t_spares_gone && t_spares.count > 0) return t_spares.spare[--t_spares.count];
    return new ResultStorage();
}

void give_back(ResultStorage *st) noexcept {
    if (t_spares_gone || t_spares.count == kSpares || st->first_cap * sizeof(ilana_value) > kKeepBytes ||
        st->cap > kKeepBytes) {
        delete st;
        return;
    }
    st->more.clear();
    if (st->blocks.size() > 1) st->blocks.erase(st->blocks.begin(), st->blocks.end() - 1); // keep the last block
    st->used = 0;
    t_spares.spare[t_spares.count++] = st;
}

void new_arena_block(ResultStorage &st, size_t need) {
    const size_t cap = next_block(need, st.blocks.size(), st.cap);
    st.blocks.emplace_back(new char[cap]);
    st.cap = cap;
    st.used = 0;
}

// Room for `count` more cells in chunk 0, which holds `have` and grows to
// at most `max_cells` (capacity doubling, capped at the chunk's size, so
// that a spare first chunk stays within kKeepBytes). Uninitialized: the
// caller writes every cell (a vector's resize zeroed them first, which was
// a third of the storage's cost for a point select).
ilana_value *grow_first(ResultStorage &st, size_t have, size_t count, size_t max_cells) {
    const size_t need = have + count;
    if (st.first_cap < need) {
        const size_t cap = std::min(max_cells, std::max(need, 2 * st.first_cap));
        std::unique_ptr<ilana_value[]> bigger(new ilana_value[cap]);
        if (have > 0) std::memcpy(bigger.get(), st.first.get(), have * sizeof(ilana_value));
        st.first = std::move(bigger);
        st.first_cap = cap;
        st.chunks[0] = st.first.get();
    }
    return st.first.get() + have;
}
} // namespace

void Result::release() noexcept {
    if (store_ != nullptr) give_back(store_);
    store_ = nullptr;
}

void Result::set_columns(const std::shared_ptr<const ColumnSet> &columns) {
    if (store_ == nullptr) store_ = take_storage();
    ResultStorage &st = *store_;
    if (st.columns != columns) st.columns = columns; // the same set again: nothing to count
    set_ = st.columns.get();
    ncols_ = set_ != nullptr ? set_->columns.size() : 0;
    shift_ = chunk_shift(ncols_);
    if (!st.more.empty()) st.more.clear();
    if (st.chunks.size() != 1) st.chunks.resize(1);
    st.chunks[0] = st.first.get();
    chunks_ = st.chunks.data();
    rows_ = 0;
}

void Result::append(const ilana_value *cells, size_t rows, size_t value_size) {
    if (rows == 0 || ncols_ == 0) return;
    ResultStorage &st = *store_;
    const size_t per = size_t{1} << shift_;
    const char *src = reinterpret_cast<const char *>(cells);
    // The arena block being filled, as locals for the loop.
    char *block = st.blocks.empty() ? nullptr : st.blocks.back().get();
    size_t used = st.used, cap = st.cap;
    // Row by row would cost a call per row: the rows go in runs, each the
    // part of the batch that falls into one chunk (allocated as reached).
    for (size_t r = rows_, end = rows_ + rows; r < end;) {
        const size_t k = r >> shift_, off = r & (per - 1), n = std::min(per - off, end - r);
        const size_t count = n * ncols_;
        ilana_value *dst;
        if (k == 0) {
            dst = grow_first(st, off * ncols_, count, per * ncols_);
        } else {
            if (k >= st.chunks.size()) {
                st.more.emplace_back(new ilana_value[per * ncols_]);
                st.chunks.push_back(st.more.back().get());
            }
            dst = st.chunks[k] + off * ncols_;
        }
        if (value_size == sizeof(ilana_value)) {
            std::memcpy(dst, src, count * sizeof(ilana_value));
        } else {
            // A driver built against another ilana_value size: cell by cell.
            for (size_t c = 0; c < count; ++c) {
                ilana_value v{};
                std::memcpy(&v, src + c * value_size, std::min(value_size, sizeof(ilana_value)));
                dst[c] = v;
            }
        }
        src += count * value_size;
        r += n;
        // The cells still point at the driver's bytes, valid only until its
        // next fetch: copy them into the arena (a value never spans two
        // blocks). Empty strings point at "" (never at the driver's buffer).
        for (size_t c = 0; c < count; ++c) {
            ilana_value &v = dst[c];
            if (!holds_bytes(v)) continue;
            const size_t len = static_cast<size_t>(v.v.str.len);
            if (len == 0) {
                v.v.str.ptr = "";
                continue;
            }
            if (block == nullptr || used + len > cap) {
                st.used = used;
                new_arena_block(st, len);
                block = st.blocks.back().get();
                used = 0;
                cap = st.cap;
            }
            std::memcpy(block + used, v.v.str.ptr, len);
            v.v.str.ptr = block + used;
            used += len;
        }
    }
    st.used = used;
    chunks_ = st.chunks.data();
    rows_ += rows;
}

} // namespace ilana

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
// reuses the previous one's cell array and arena block, and its column set
// too: the storage keeps its shared_ptr while spare, and a Result of the
// same shape finds it already there (no reference count touched).
struct ResultStorage {
    std::shared_ptr<const ColumnSet> columns;
    std::vector<ilana_value> cells;
    std::vector<std::unique_ptr<char[]>> blocks; // text/blob bytes; never move
    size_t used = 0, cap = 0;                     // of blocks.back()
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
// The first block holds the first batch's bytes (a point select's few bytes
// are not worth 64 KiB); later blocks grow geometrically.
size_t next_block(size_t need, size_t blocks, size_t last_cap) {
    if (blocks == 0) return std::max<size_t>(need, 256);
    return std::max<size_t>(need, std::max<size_t>(64 * 1024, last_cap * 2));
}

// At most kSpares storages per thread, each kept only while its cell array
// and its last arena block are at most kKeepBytes: a big result's memory
// goes back to malloc, and the list costs at most a few hundred KiB.
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
    if (t_spares_gone || t_spares.count == kSpares || st->cells.capacity() * sizeof(ilana_value) > kKeepBytes ||
        st->cap > kKeepBytes) {
        delete st;
        return;
    }
    st->cells.clear();
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
} // namespace

void Result::release() noexcept {
    if (store_ != nullptr) give_back(store_);
    store_ = nullptr;
}

void Result::set_columns(const std::shared_ptr<const ColumnSet> &columns) {
    if (store_ == nullptr) store_ = take_storage();
    if (store_->columns != columns) store_->columns = columns; // the same set again: nothing to count
    set_ = store_->columns.get();
    ncols_ = set_ != nullptr ? set_->columns.size() : 0;
    store_->cells.clear();
    cells_ = store_->cells.data();
    rows_ = 0;
}

void Result::append(const ilana_value *cells, size_t rows, size_t value_size) {
    const size_t total = rows * ncols_;
    if (total == 0) return;
    ResultStorage &st = *store_;
    const size_t base = st.cells.size();
    if (value_size == sizeof(ilana_value)) {
        st.cells.insert(st.cells.end(), cells, cells + total); // one memcpy
    } else {
        // A driver built against another ilana_value size: cell by cell.
        st.cells.resize(base + total);
        const char *src = reinterpret_cast<const char *>(cells);
        for (size_t k = 0; k < total; ++k) {
            ilana_value v{};
            std::memcpy(&v, src + k * value_size, std::min(value_size, sizeof(ilana_value)));
            st.cells[base + k] = v;
        }
    }
    cells_ = st.cells.data();
    rows_ += rows;
    // The cells still point at the driver's bytes: copy them into the arena,
    // one block for the whole batch, sized before copying. Empty strings
    // point at "" (never at the driver's buffer) on the way.
    ilana_value *added = st.cells.data() + base;
    size_t bytes = 0;
    for (size_t k = 0; k < total; ++k) {
        ilana_value &v = added[k];
        if (!holds_bytes(v)) continue;
        if (v.v.str.len == 0) v.v.str.ptr = "";
        bytes += static_cast<size_t>(v.v.str.len);
    }
    if (bytes == 0) return;
    if (st.blocks.empty() || st.used + bytes > st.cap) new_arena_block(st, bytes);
    char *const block = st.blocks.back().get();
    char *dst = block + st.used;
    for (size_t k = 0; k < total; ++k) {
        ilana_value &v = added[k];
        const size_t n = holds_bytes(v) ? static_cast<size_t>(v.v.str.len) : 0;
        if (n == 0) continue;
        std::memcpy(dst, v.v.str.ptr, n);
        v.v.str.ptr = dst;
        dst += n;
    }
    st.used = static_cast<size_t>(dst - block);
}

} // namespace ilana

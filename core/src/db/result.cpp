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
    return columns_ ? columns_->columns : none;
}

void Result::set_columns(std::shared_ptr<const ColumnSet> columns) {
    columns_ = std::move(columns);
    ncols_ = columns_ ? columns_->columns.size() : 0;
}

namespace {
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

// Spare storage of destroyed Results, per thread: a query in a loop then
// reuses the cell array and arena block of the previous one instead of
// allocating both again. Only small buffers are kept (a big result's memory
// goes back to malloc), at most kSpares of each, so the list costs at most
// a few hundred KiB per thread.
constexpr size_t kSpares = 4;
constexpr size_t kKeepBytes = 64 * 1024;

struct SpareList {
    std::vector<ilana_value> cells[kSpares];
    size_t cell_count = 0;
    // Arena block lists holding exactly one block, with its capacity.
    std::vector<std::unique_ptr<char[]>> arenas[kSpares];
    size_t arena_caps[kSpares] = {};
    size_t arena_count = 0;
    ~SpareList();
};
// Trivially destructible, so it can be read after `t_spares` is gone (a
// Result destroyed later in thread exit then simply frees its memory).
thread_local bool t_spares_gone = false;
thread_local SpareList t_spares;
SpareList::~SpareList() { t_spares_gone = true; }

SpareList *spares() noexcept { return t_spares_gone ? nullptr : &t_spares; }
} // namespace

Result::~Result() {
    if (cells_.capacity() == 0 && arena_.empty()) return; // empty or moved from
    SpareList *sp = spares();
    if (sp == nullptr) return;
    if (cells_.capacity() > 0 && cells_.capacity() * sizeof(ilana_value) <= kKeepBytes && sp->cell_count < kSpares) {
        cells_.clear();
        sp->cells[sp->cell_count++] = std::move(cells_);
    }
    if (!arena_.empty() && arena_cap_ <= kKeepBytes && sp->arena_count < kSpares) {
        if (arena_.size() > 1) arena_.erase(arena_.begin(), arena_.end() - 1); // keep the last block
        sp->arena_caps[sp->arena_count] = arena_cap_;
        sp->arenas[sp->arena_count++] = std::move(arena_);
    }
}

void Result::new_arena_block(size_t need) {
    if (arena_.empty()) {
        SpareList *sp = spares();
        if (sp != nullptr && sp->arena_count > 0 && sp->arena_caps[sp->arena_count - 1] >= need) {
            --sp->arena_count;
            arena_ = std::move(sp->arenas[sp->arena_count]);
            arena_cap_ = sp->arena_caps[sp->arena_count];
            arena_used_ = 0;
            return;
        }
    }
    const size_t cap = next_block(need, arena_.size(), arena_cap_);
    arena_.emplace_back(new char[cap]);
    arena_cap_ = cap;
    arena_used_ = 0;
}

void Result::append(const ilana_value *cells, size_t rows, size_t value_size) {
    const size_t total = rows * ncols_;
    if (total == 0) return;
    if (cells_.capacity() == 0) {
        SpareList *sp = spares();
        if (sp != nullptr && sp->cell_count > 0) cells_ = std::move(sp->cells[--sp->cell_count]);
    }
    const size_t base = cells_.size();
    if (value_size == sizeof(ilana_value)) {
        cells_.insert(cells_.end(), cells, cells + total); // one memcpy
    } else {
        // A driver built against another ilana_value size: cell by cell.
        cells_.resize(base + total);
        const char *src = reinterpret_cast<const char *>(cells);
        for (size_t k = 0; k < total; ++k) {
            ilana_value v{};
            std::memcpy(&v, src + k * value_size, std::min(value_size, sizeof(ilana_value)));
            cells_[base + k] = v;
        }
    }
    // The cells still point at the driver's bytes: copy them into the arena,
    // one block for the whole batch, sized before copying. Empty strings
    // point at "" (never at the driver's buffer) on the way.
    ilana_value *added = cells_.data() + base;
    size_t bytes = 0;
    for (size_t k = 0; k < total; ++k) {
        ilana_value &v = added[k];
        if (!holds_bytes(v)) continue;
        if (v.v.str.len == 0) v.v.str.ptr = "";
        bytes += static_cast<size_t>(v.v.str.len);
    }
    if (bytes == 0) return;
    if (arena_used_ + bytes > arena_cap_) new_arena_block(bytes);
    char *const block = arena_.back().get();
    char *dst = block + arena_used_;
    for (size_t k = 0; k < total; ++k) {
        ilana_value &v = added[k];
        const size_t n = holds_bytes(v) ? static_cast<size_t>(v.v.str.len) : 0;
        if (n == 0) continue;
        std::memcpy(dst, v.v.str.ptr, n);
        v.v.str.ptr = dst;
        dst += n;
    }
    arena_used_ = static_cast<size_t>(dst - block);
}

} // namespace ilana

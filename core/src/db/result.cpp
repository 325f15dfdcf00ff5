// Result storage: one cell array plus a chunked byte arena, so views into a
// Result never dangle while it lives and appending never moves old bytes.
#include <ilana/result.hpp>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace ilana {

Field Row::operator[](size_t index) const {
    // names_ has one entry per column (a cheaper size than columns_').
    if (index >= names_->size())
        throw std::out_of_range("row has " + std::to_string(columns_->size()) + " columns; no column at index " +
                                std::to_string(index));
    return Field(cells_ + index, (*names_)[index]);
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

void Result::set_columns(std::vector<Column> columns) {
    columns_ = std::move(columns);
    names_.clear();
    names_.reserve(columns_.size());
    for (const auto &c : columns_) names_.push_back(c.name.c_str());
}

namespace {
bool is_string_type(ilana_type t) {
    return t == ILANA_TYPE_TEXT || t == ILANA_TYPE_BLOB || t == ILANA_TYPE_DECIMAL || t == ILANA_TYPE_UUID ||
           t == ILANA_TYPE_JSON;
}
// The first block holds exactly the first batch's bytes (a point select's
// few bytes are not worth 64 KiB); later blocks grow geometrically.
size_t next_block(size_t need, size_t blocks, size_t last_cap) {
    if (blocks == 0) return std::max<size_t>(need, 64);
    return std::max<size_t>(need, std::max<size_t>(64 * 1024, last_cap * 2));
}
} // namespace

const char *Result::store(const char *p, size_t n) {
    if (n == 0) return "";
    if (arena_used_ + n > arena_cap_) {
        size_t cap = next_block(n, arena_.size(), arena_cap_);
        arena_.emplace_back(new char[cap]);
        arena_cap_ = cap;
        arena_used_ = 0;
    }
    char *dst = arena_.back().get() + arena_used_;
    std::memcpy(dst, p, n);
    arena_used_ += n;
    return dst;
}

void Result::append(const ilana_value *cells, size_t rows, size_t value_size) {
    const size_t ncols = columns_.size();
    const size_t total = rows * ncols;
    size_t base = cells_.size();
    cells_.resize(base + total);
    const char *src = reinterpret_cast<const char *>(cells);
    // One arena block for the whole batch, sized before copying.
    size_t bytes = 0;
    for (size_t k = 0; value_size >= sizeof(ilana_value) && k < total; ++k) {
        const auto *v = reinterpret_cast<const ilana_value *>(src + k * value_size);
        if (!v->is_null && is_string_type(v->type)) bytes += static_cast<size_t>(v->v.str.len);
    }
    if (bytes > 0 && arena_used_ + bytes > arena_cap_) {
        size_t cap = next_block(bytes, arena_.size(), arena_cap_);
        arena_.emplace_back(new char[cap]);
        arena_cap_ = cap;
        arena_used_ = 0;
    }
    for (size_t k = 0; k < total; ++k) {
        ilana_value v{};
        std::memcpy(&v, src + k * value_size, std::min(value_size, sizeof(ilana_value)));
        if (!v.is_null) {
            switch (v.type) {
            case ILANA_TYPE_TEXT:
            case ILANA_TYPE_BLOB:
            case ILANA_TYPE_DECIMAL:
            case ILANA_TYPE_UUID:
            case ILANA_TYPE_JSON:
                v.v.str.ptr = store(v.v.str.ptr, v.v.str.len);
                break;
            default: break;
            }
        }
        cells_[base + k] = v;
    }
}

void Result::clear_rows() noexcept {
    cells_.clear();
    if (arena_.size() > 1) arena_.erase(arena_.begin(), arena_.end() - 1);
    arena_used_ = 0;
}

} // namespace ilana

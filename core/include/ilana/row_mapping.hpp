// ilana/row_mapping.hpp — C++ values from rows: the `fields` mapping that
// Model and QueryBuilder::get_as use, and row_to, which prepared
// statements' typed reads (Statement::query_one, for_each) use.
#pragma once

#include <ilana/result.hpp>

#include <tuple>
#include <type_traits>
#include <utility>

namespace ilana {

// ---- mapping C++ structs to rows (used by Model and get_as) ----------------
//
//   struct User : ilana::Model<User> {
//       static constexpr const char *table = "users";
//       int64_t id = 0; std::string name; std::optional<std::string> email;
//       static constexpr auto fields = std::make_tuple(
//           ilana::field("id", &User::id), ilana::field("name", &User::name),
//           ilana::field("email", &User::email));
//   };
//
// Member types: anything Field::as<T>() converts to and Value is built from
// (integers, double, bool, std::string, Date, Time, Timestamp, TimestampTz,
// Blob, std::optional of those).

template <class C, class M> struct FieldDef {
    const char *name;
    M C::*member;
};
template <class C, class M> constexpr FieldDef<C, M> field(const char *name, M C::*member) noexcept {
    return FieldDef<C, M>{name, member};
}

namespace detail {
template <class T, class = void> struct has_fields : std::false_type {};
template <class T> struct has_fields<T, std::void_t<decltype(T::fields)>> : std::true_type {};
template <class T> void require_fields() {
    static_assert(has_fields<T>::value,
                  "ilana: this type has no field mapping; declare "
                  "`static constexpr auto fields = std::make_tuple(ilana::field(\"id\", &T::id), ...);`");
}
} // namespace detail

// A row to an object: each mapped field from the column of that name;
// columns the row does not have leave the member as it is (value-initialized),
// so partial selects work. Conversion errors throw ConversionError naming
// the column.
template <class T> T from_row(const Row &row) {
    detail::require_fields<T>();
    T obj{};
    std::apply(
        [&](const auto &...f) {
            auto assign = [&](const auto &def) {
                int idx = row.index_of(def.name);
                if (idx < 0) return;
                using M = std::remove_reference_t<decltype(obj.*(def.member))>;
                obj.*(def.member) = row[static_cast<size_t>(idx)].template as<M>();
            };
            (assign(f), ...);
        },
        T::fields);
    return obj;
}


namespace detail {
template <class T> struct is_tuple : std::false_type {};
template <class... A> struct is_tuple<std::tuple<A...>> : std::true_type {};

template <class Tuple, size_t... I> Tuple row_to_tuple(const Row &row, std::index_sequence<I...>) {
    return Tuple{row[I].template as<std::tuple_element_t<I, Tuple>>()...};
}

// A row as T: a std::tuple takes the columns by position (a row narrower
// than the tuple throws std::out_of_range naming the position), a struct
// with a `fields` mapping takes them by name (from_row), any other type is
// the first column's value. Conversions throw ConversionError naming the
// column.
template <class T> T row_to(const Row &row) {
    if constexpr (is_tuple<T>::value) return row_to_tuple<T>(row, std::make_index_sequence<std::tuple_size_v<T>>{});
    else if constexpr (has_fields<T>::value) return from_row<T>(row);
    else return row[size_t{0}].template as<T>();
}

// The parameter type of a callable taking one argument (a lambda, a
// function pointer): what Statement::for_each converts each row to.
template <class F> struct single_argument : single_argument<decltype(&F::operator())> {};
template <class C, class R, class A> struct single_argument<R (C::*)(A) const> { using type = A; };
template <class C, class R, class A> struct single_argument<R (C::*)(A)> { using type = A; };
template <class R, class A> struct single_argument<R (*)(A)> { using type = A; };
template <class R, class A> struct single_argument<R(A)> { using type = A; };
} // namespace detail

} // namespace ilana

#include "output/json.hpp"

#include <cmath>

namespace ilana::cli {

void write_field(JsonWriter &w, const Field &f) {
    if (f.is_null()) {
        w.Null();
        return;
    }
    switch (f.type()) {
    case Type::boolean: w.Bool(f.as<bool>()); break;
    case Type::int64: w.Int64(f.abi()->v.i64); break;
    case Type::uint64: w.Uint64(f.abi()->v.u64); break;
    case Type::float64: {
        double d = f.abi()->v.f64;
        if (std::isfinite(d)) w.Double(d);
        else w.String(f.to_string());
        break;
    }
    default: w.String(f.to_string()); break;
    }
}

void write_rows(JsonWriter &w, const Result &r) {
    w.StartArray();
    for (Row row : r) {
        w.StartObject();
        for (size_t i = 0; i < row.size(); ++i) {
            w.Key(row.columns()[i].name.c_str(), static_cast<rapidjson::SizeType>(row.columns()[i].name.size()));
            write_field(w, row[i]);
        }
        w.EndObject();
    }
    w.EndArray();
}

} // namespace ilana::cli

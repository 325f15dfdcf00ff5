// csv_driver.cpp — the CSV driver's three SDK classes and its one export.
//
//   CsvDriver      who the driver is (id, clients, capabilities) and connect
//   CsvConnection  a directory of NAME.csv tables: execute, ping, introspection
//   CsvResult      one SELECT, streamed record by record from its file
//
// Everything ABI-shaped (entry, descriptor, error records, string
// lifetimes, one open result per connection, unknown parameters) is the
// SDK's job; this file is only the driver's own logic.
#include "csv_query.hpp"
#include "csv_reader.hpp"
#include "csv_tables.hpp"

#include <ilana/sdk/driver.hpp>

#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

namespace csv {

using ilana::sdk::DriverFailure;

namespace {

// One `col = value` test, with the value already converted to the column's
// type so the per-row work is a comparison.
struct Filter {
    size_t column;
    ilana_type type;
    bool never = false; // e.g. an INT64 column compared with 1.5 or NULL
    std::string text;
    int64_t i64 = 0;
    double f64 = 0;

    bool matches(const Field &f) const {
        if (never || f.is_null()) return false;
        switch (type) {
        case ILANA_TYPE_INT64: {
            int64_t v = 0;
            return ilana::sdk::Param::parse_int64(f.text, v) && v == i64;
        }
        case ILANA_TYPE_DOUBLE: {
            double v = 0;
            return ilana::sdk::Param::parse_double(f.text, v) && v == f64;
        }
        default: return f.text == text;
        }
    }
};

// The value of `col = <operand>` as a Filter (DATA error when it cannot be
// compared with the column at all, e.g. 'abc' against an INT64 column).
Filter make_filter(const Table &t, size_t col, const Operand &op, const ilana::sdk::Params &params) {
    const Column &c = t.columns[col];
    Filter f{col, c.type, false, {}, 0, 0};
    auto not_a_number = [&](const std::string &v) {
        return DriverFailure(ILANA_ERR_DATA, "column '" + c.name + "' of " + t.name + " is " +
                                                 ilana::sdk::type_name(c.type) + "; '" + v +
                                                 "' is not a number",
                             "22P02");
    };
    if (op.kind == Operand::Placeholder) {
        const ilana::sdk::Param p = params[op.param_index];
        if (p.is_null()) {
            f.never = true; // col = NULL is never true
            return f;
        }
        switch (c.type) {
        case ILANA_TYPE_INT64:
            if (p.type() == ILANA_TYPE_DOUBLE || p.type() == ILANA_TYPE_DECIMAL ||
                (p.type() == ILANA_TYPE_TEXT && !ilana::sdk::Param::parse_int64(p.bytes(), f.i64))) {
                const double d = p.as_double(); // DATA error for text that is no number
                f.never = d != static_cast<double>(static_cast<int64_t>(d));
                f.i64 = static_cast<int64_t>(d);
            } else {
                f.i64 = p.as_int64();
            }
            break;
        case ILANA_TYPE_DOUBLE:
            if (p.type() == ILANA_TYPE_TEXT) {
                if (!ilana::sdk::Param::parse_double(p.bytes(), f.f64)) throw not_a_number(std::string(p.bytes()));
            } else {
                f.f64 = p.as_double();
            }
            break;
        default: f.text = p.to_text(); break;
        }
        return f;
    }
    // A literal.
    switch (c.type) {
    case ILANA_TYPE_INT64:
        if (!ilana::sdk::Param::parse_int64(op.text, f.i64)) {
            double d = 0;
            if (!ilana::sdk::Param::parse_double(op.text, d)) throw not_a_number(op.text);
            f.never = true; // 1.5 never equals an integer
        }
        break;
    case ILANA_TYPE_DOUBLE:
        if (!ilana::sdk::Param::parse_double(op.text, f.f64)) throw not_a_number(op.text);
        break;
    default: f.text = op.text; break;
    }
    return f;
}

class CsvResult : public ilana::sdk::Result {
public:
    CsvResult(std::shared_ptr<const Table> table, std::vector<size_t> columns, std::vector<Filter> filters,
              std::optional<int64_t> limit, char delimiter)
        : table_(std::move(table)), columns_(std::move(columns)), filters_(std::move(filters)), limit_(limit),
          reader_(table_->path, delimiter) {
        for (size_t i : columns_) {
            const Column &c = table_->columns[i];
            add_column(c.name, c.type, native_type_name(c.type), c.has_null ? 1 : 0);
        }
        reader_.next(fields_); // the header, read when the table was loaded
    }

protected:
    bool fetch(ilana::sdk::Batch &out) override {
        const size_t width = table_->columns.size();
        while (!out.full()) {
            if (limit_ && emitted_ >= *limit_) return true;
            if (!reader_.next(fields_)) return true;
            if (fields_.size() != width)
                throw DriverFailure(ILANA_ERR_DATA, table_->path + " line " + std::to_string(reader_.line()) + ": " +
                                                        std::to_string(fields_.size()) + " fields, the header has " +
                                                        std::to_string(width),
                                    "22P04");
            bool keep = true;
            for (const Filter &f : filters_)
                if (!f.matches(fields_[f.column])) {
                    keep = false;
                    break;
                }
            if (!keep) continue;
            for (size_t i : columns_) emit(out, i);
            out.end_row();
            ++emitted_;
            // Huge fields: end the batch early rather than hold gigabytes.
            if (out.arena_bytes() > (8u << 20)) return limit_ && emitted_ >= *limit_;
        }
        return limit_ && emitted_ >= *limit_;
    }

private:
    void emit(ilana::sdk::Batch &out, size_t i) {
        const Field &f = fields_[i];
        const Column &c = table_->columns[i];
        if (f.is_null()) return out.null();
        switch (c.type) {
        case ILANA_TYPE_INT64: {
            int64_t v = 0;
            if (!ilana::sdk::Param::parse_int64(f.text, v)) changed(c, f);
            return out.int64(v);
        }
        case ILANA_TYPE_DOUBLE: {
            double v = 0;
            if (!ilana::sdk::Param::parse_double(f.text, v)) changed(c, f);
            return out.real(v);
        }
        default: return out.text(f.text);
        }
    }
    [[noreturn]] void changed(const Column &c, const Field &f) const {
        throw DriverFailure(ILANA_ERR_DATA, table_->path + " line " + std::to_string(reader_.line()) + ": '" +
                                                f.text + "' in the " + ilana::sdk::type_name(c.type) + " column '" +
                                                c.name + "' (was the file changed while being read?)",
                            "22P02");
    }

    std::shared_ptr<const Table> table_;
    std::vector<size_t> columns_;
    std::vector<Filter> filters_;
    std::optional<int64_t> limit_;
    Reader reader_;
    std::vector<Field> fields_;
    int64_t emitted_ = 0;
};

class CsvConnection : public ilana::sdk::Connection {
public:
    explicit CsvConnection(Catalog catalog) : catalog_(std::move(catalog)) {}

    std::unique_ptr<ilana::sdk::Result> execute(const ilana::sdk::Statement &stmt) {
        const Query q = parse_query(stmt.sql);
        if (q.placeholders != stmt.params.size())
            throw DriverFailure(ILANA_ERR_SYNTAX, "the statement has " + std::to_string(q.placeholders) +
                                                      " placeholder(s) but " + std::to_string(stmt.params.size()) +
                                                      " parameter(s) were given",
                                "07001", 0, ILANA_ERRF_NOT_SENT);
        std::shared_ptr<const Table> table = catalog_.find(q.table.text, q.table.quoted);
        if (!table) catalog_.no_such_table(q.table.text);

        std::vector<size_t> columns;
        if (q.star) {
            for (size_t i = 0; i < table->columns.size(); ++i) columns.push_back(i);
        } else {
            for (const Name &n : q.columns) columns.push_back(column(*table, n));
        }
        std::vector<Filter> filters;
        for (const Condition &c : q.where)
            filters.push_back(make_filter(*table, column(*table, c.column), c.value, stmt.params));
        std::optional<int64_t> limit;
        if (q.limit) {
            if (q.limit->kind == Operand::Placeholder) {
                limit = stmt.params[q.limit->param_index].as_int64();
                if (*limit < 0) throw DriverFailure(ILANA_ERR_DATA, "LIMIT must not be negative", "2201W");
            } else {
                limit = std::stoll(q.limit->text);
            }
        }
        return std::make_unique<CsvResult>(table, std::move(columns), std::move(filters), limit,
                                           catalog_.delimiter());
    }

    // The directory must still be there.
    void ping(int32_t) {
        struct stat st {};
        if (stat(catalog_.directory().c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            throw DriverFailure(ILANA_ERR_CONNECTION, "the directory " + catalog_.directory() + " is gone", "08006",
                                0, ILANA_ERRF_CONN_BROKEN);
    }

    ilana::sdk::ServerInfo server_info() const { return {"CSV files", "1.0.0", 10000, -1}; }

    // "ilana.introspect/1". CSV files have one unnamed schema: any schema
    // other than NULL or "" lists nothing.
    std::unique_ptr<ilana::sdk::Result> tables(std::optional<std::string_view> schema) {
        auto r = std::make_unique<ilana::sdk::TablesResult>();
        if (schema && !schema->empty()) return r;
        for (const auto &name : catalog_.table_names()) r->add(std::nullopt, name, "table");
        return r;
    }
    std::unique_ptr<ilana::sdk::Result> columns(std::optional<std::string_view> schema,
                                                std::optional<std::string_view> table) {
        auto r = std::make_unique<ilana::sdk::ColumnsResult>();
        if (schema && !schema->empty()) return r;
        for (const auto &t : matching_tables(table)) {
            int64_t ordinal = 0;
            for (const Column &c : t->columns)
                r->add(t->name, c.name, ++ordinal, native_type_name(c.type), c.has_null);
        }
        return r;
    }
    std::unique_ptr<ilana::sdk::Result> indexes(std::optional<std::string_view>, std::optional<std::string_view>) {
        return std::make_unique<ilana::sdk::IndexesResult>(); // files have no indexes
    }

private:
    static size_t column(const Table &t, const Name &n) {
        if (auto i = t.find(n.text, n.quoted)) return *i;
        throw DriverFailure(ILANA_ERR_SYNTAX, "no column '" + n.text + "' in " + t.name + " (columns: " +
                                                  t.column_list() + ")",
                            "42703", 0, ILANA_ERRF_NOT_SENT);
    }
    std::vector<std::shared_ptr<const Table>> matching_tables(std::optional<std::string_view> table) const {
        std::vector<std::shared_ptr<const Table>> out;
        if (table) {
            if (auto t = catalog_.find(std::string(*table), false)) out.push_back(t);
            return out;
        }
        for (const auto &name : catalog_.table_names())
            if (auto t = catalog_.find(name, true)) out.push_back(t);
        return out;
    }

    Catalog catalog_;
};

} // namespace

struct CsvDriver : ilana::sdk::Driver<CsvDriver, CsvConnection, CsvResult> {
    static constexpr const char *id = "org.ilana.example.csv";
    static constexpr const char *name = "CSV files (SDK example)";
    static constexpr const char *version = "1.0.0";
    static constexpr const char *description =
        "read-only: each NAME.csv of a directory is a table; SELECT cols FROM t [WHERE c = ? AND ...] [LIMIT n]";
    static constexpr const char *clients[] = {"csv"};
    // Rows are read from the file batch by batch; no transactions, no cancel.
    static constexpr uint64_t capabilities = ILANA_CAP_STREAMING;
    static constexpr ilana_dialect dialect = {sizeof(ilana_dialect), ILANA_PLACEHOLDER_QUESTION, '"', {0, 0, 0},
                                              ILANA_LIMIT_LIMIT_OFFSET, ILANA_UPSERT_NONE, 0, 65535};

    // The keys connect reads ("ilana.params/1"): the host checks them when
    // the config is opened and lists them (`ilana drivers --json`); connect
    // still checks what a table cannot say (one delimiter character, an
    // existing directory).
    static constexpr ilana_param_decl params[] = {
        ilana::sdk::required(ilana::sdk::param_string(
            "directory", "the folder holding the NAME.csv files (relative to the config file's folder)")),
        ilana::sdk::param_string("delimiter", "one character, or \"tab\"", ","),
        ilana::sdk::param_bool("infer_types", "false: every column is TEXT, files are never scanned ahead", "true"),
    };

    static std::unique_ptr<CsvConnection> connect(ilana::sdk::ConnectParams &settings) {
        const auto dir = settings.get("directory");
        if (!dir || dir->empty())
            throw DriverFailure(ILANA_ERR_CONFIG, "the csv driver needs the connection parameter 'directory' "
                                                  "(the folder holding the NAME.csv files)");
        char delimiter = ',';
        if (auto d = settings.get("delimiter")) {
            if (*d == "\\t" || *d == "tab") delimiter = '\t';
            else if (d->size() == 1 && *d != "\"" && *d != "\n" && *d != "\r") delimiter = (*d)[0];
            else
                throw DriverFailure(ILANA_ERR_CONFIG, "connection parameter 'delimiter' must be one character "
                                                      "(or \"tab\"), got '" + *d + "'");
        }
        const bool infer = settings.get_bool("infer_types").value_or(true);
        settings.finish(name); // unknown keys fail before any file is touched

        const std::string path = settings.resolve_path(*dir);
        struct stat st {};
        if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            throw DriverFailure(ILANA_ERR_CONNECTION, "the csv directory " + path + " does not exist or is not a "
                                                      "directory (parameter 'directory'; relative paths start at "
                                                      "the config file's folder)",
                                "08001", 0, ILANA_ERRF_NOT_SENT);
        return std::make_unique<CsvConnection>(Catalog(path, delimiter, infer));
    }
};

} // namespace csv

ILANA_SDK_EXPORT_DRIVER(csv::CsvDriver)

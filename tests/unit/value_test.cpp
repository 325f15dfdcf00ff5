#include <catch2/catch.hpp>

#include <ilana/value.hpp>

#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <limits>

using namespace ilana;

TEST_CASE("values keep their type and convert with checks", "[value]") {
    CHECK(Value(42).type() == Type::int64);
    CHECK(Value(42).as<int>() == 42);
    CHECK(Value(true).as<bool>());
    CHECK(Value(1.5).as<double>() == 1.5);
    CHECK(Value("héllo").as<std::string>() == "héllo");
    CHECK(Value(nullptr).is_null());
    CHECK(Value(std::optional<int>{}).is_null());
    CHECK(Value(std::optional<int>{7}).as<int64_t>() == 7);
    CHECK(Value(std::numeric_limits<uint64_t>::max()).type() == Type::uint64);
    CHECK(Value(std::numeric_limits<uint64_t>::max()).as<uint64_t>() == std::numeric_limits<uint64_t>::max());

    CHECK_THROWS_AS(Value("abc").as<int64_t>(), ConversionError);
    CHECK_THROWS_WITH(Value("abc").as<int64_t>(), "cannot convert a text value to int64");
    CHECK_THROWS_WITH(Value(nullptr).as<int>(), Catch::Contains("cannot convert NULL to int32") &&
                                                    Catch::Contains("std::optional"));
    CHECK_THROWS_WITH(Value(300).as<int8_t>(), "value 300 does not fit in int8");
    CHECK_THROWS_WITH(Value(-1).as<unsigned>(), Catch::Contains("does not fit in uint"));
    CHECK(Value(nullptr).as<std::optional<int>>() == std::nullopt);
    CHECK(Value::decimal("12.50").as<double>() == 12.5);
    CHECK(Value::decimal("12").as<int>() == 12);
}

TEST_CASE("calendar values format as ISO 8601 and parse back from text", "[value]") {
    Date d = Date::from_ymd(2026, 11, 23);
    CHECK(d.to_string() == "2026-11-23");
    CHECK(Date::from_ymd(1970, 1, 1).days_since_epoch == 0);
    CHECK(Date::from_ymd(1969, 12, 31).days_since_epoch == -1);
    Timestamp ts = Timestamp::from_parts(2026, 11, 23, 13, 45, 7, 250000);
    CHECK(ts.to_string() == "2026-11-23 13:45:07.250000");
    CHECK(Value(ts).as<Timestamp>() == ts);
    CHECK(Value("2026-11-23 13:45:07.25").as<Timestamp>() == ts);
    CHECK(Value("2026-11-23T13:45:07.25+01:00").as<TimestampTz>().to_string() == "2026-11-23T12:45:07.250000Z");
    CHECK(Value("2026-11-23").as<Date>() == d);
    CHECK(Value("13:45:07").as<Time>().to_string() == "13:45:07");
    CHECK(Timestamp{-1}.to_string() == "1969-12-31 23:59:59.999999");
    CHECK_THROWS_AS(Value("not a date").as<Date>(), ConversionError);
}

TEST_CASE("text dates and times: every SQLite and ISO 8601 form, strictly", "[value]") {
    const Timestamp noon = Timestamp::from_parts(2024, 2, 29, 12, 30, 0, 0);
    CHECK(Value("2024-02-29 12:30").as<Timestamp>() == noon); // SQLite's HH:MM form
    CHECK(Value("2024-02-29T12:30:00").as<Timestamp>() == noon);
    CHECK(Value("2024-02-29 12:30:00Z").as<Timestamp>() == noon);
    CHECK(Value("2024-02-29 14:30:00+02").as<Timestamp>() == noon);
    CHECK(Value("2024-02-29 07:00:00-0530").as<Timestamp>() == noon);
    CHECK(Value("2024-02-29 12:30:00.123456789").as<Timestamp>() ==
          Timestamp::from_parts(2024, 2, 29, 12, 30, 0, 123456)); // past micros: truncated
    CHECK(Value("2024-02-29 24:00:00").as<Timestamp>() == Timestamp::from_parts(2024, 3, 1, 0, 0, 0, 0));
    CHECK(Value("0001-01-01 00:00:00").as<Date>() == Date::from_ymd(1, 1, 1));
    CHECK(Value("2024-02-29 12:30:00").as<Date>() == Date::from_ymd(2024, 2, 29));
    // What a lenient reading used to turn into another day, or accept with
    // something left over, is a ConversionError naming the text.
    for (const char *bad : {"2023-02-29", "2024-02-30", "2024-13-01", "2024-00-10", "2024-1-05", "24-01-05",
                            "2024-01-05 25:00:00", "2024-01-05 12:60:00", "2024-01-05 12:00:61", "2024-01-05 12:00:00x",
                            "2024-01-05 12:00:00.", "2024-01-05 24:00:01", "2024-01-05x", " 2024-01-05",
                            "2024-01-05 12:00:00+1", "2024-01-05 12:00:00+16:00", "2024-01-05 12"}) {
        INFO(bad);
        CHECK_THROWS_AS(Value(bad).as<Timestamp>(), ConversionError);
    }
    // Time of day and MySQL's TIME (a duration).
    CHECK(Value("13:45").as<Time>().to_string() == "13:45:00");
    CHECK(Value("13:45:07.5").as<Time>().micros_since_midnight == (13 * 3600 + 45 * 60 + 7) * 1000000LL + 500000);
    CHECK(Value("838:59:59").as<Time>().micros_since_midnight == (838 * 3600LL + 59 * 60 + 59) * 1000000LL);
    CHECK(Value("-01:30:00").as<Time>().micros_since_midnight == -5400LL * 1000000);
    for (const char *bad : {"13", "13:5", "13:45:7", "13:61:00", "13:45:07x", "a:00:00", ":00"}) {
        INFO(bad);
        CHECK_THROWS_AS(Value(bad).as<Time>(), ConversionError);
    }
}

TEST_CASE("blobs keep zero bytes and display as hex", "[value]") {
    Value b(Blob{std::string("a\0b", 3)});
    CHECK(b.type() == Type::blob);
    CHECK(b.as<Blob>().bytes == std::string("a\0b", 3));
    CHECK(b.to_string() == "\\x610062");
}

TEST_CASE("doubles display with round-trip precision", "[value]") {
    CHECK(Value(0.1).to_string() == "0.1");
    CHECK(Value(1e300).to_string() == "1e+300");
    CHECK(std::stod(Value(1.0 / 3).to_string()) == 1.0 / 3);
}

namespace {
// A text cell of a column, as a driver's batch holds it.
struct TextCell {
    ilana_value raw{};
    explicit TextCell(std::string_view s, ilana_type type = ILANA_TYPE_TEXT) {
        raw.type = type;
        raw.v.str.ptr = s.data();
        raw.v.str.len = s.size();
    }
    Field field(const char *column = "created") const { return Field(&raw, column); }
};
ilana_value int_cell(ilana_type type, int64_t v) {
    ilana_value c{};
    c.type = type;
    c.v.i64 = v;
    return c;
}
} // namespace

TEST_CASE("text timestamps: the fixed SQLite forms and the general grammar agree", "[value]") {
    // SQLite's datetime() and date() forms (read at fixed positions) and the
    // same instants written other ways (read by the cursor).
    const Timestamp t = Timestamp::from_parts(2024, 1, 5, 13, 45, 7, 0);
    CHECK(TextCell("2024-01-05 13:45:07").field().as<Timestamp>() == t);
    CHECK(TextCell("2024-01-05T13:45:07").field().as<Timestamp>() == t);
    CHECK(TextCell("2024-01-05 13:45:07.000").field().as<Timestamp>() == t);
    CHECK(TextCell("2024-01-05 14:45:07+01:00").field().as<Timestamp>() == t);
    CHECK(TextCell("2024-01-05 13:45+01").field().as<Timestamp>() ==
          Timestamp::from_parts(2024, 1, 5, 12, 45)); // 19 bytes with a space, but a zone: not the fixed form
    CHECK(TextCell("2024-01-05").field().as<Timestamp>() == Timestamp::from_parts(2024, 1, 5));
    CHECK(TextCell("2024-01-05 13:45:07").field().as<Date>() == Date::from_ymd(2024, 1, 5));
    CHECK(TextCell("2024-01-05").field().as<TimestampTz>().micros_since_epoch ==
          Timestamp::from_parts(2024, 1, 5).micros_since_epoch);
    // Fractions: one to six digits scale, more are truncated.
    CHECK(TextCell("2024-01-05 13:45:07.5").field().as<Timestamp>().micros_since_epoch == t.micros_since_epoch + 500000);
    CHECK(TextCell("2024-01-05 13:45:07.000001").field().as<Timestamp>().micros_since_epoch == t.micros_since_epoch + 1);
    CHECK(TextCell("2024-01-05 13:45:07.9999999").field().as<Timestamp>().micros_since_epoch ==
          t.micros_since_epoch + 999999);
    // Offsets move the instant to UTC, across a day and a year.
    CHECK(TextCell("2024-01-01 01:00:00+02:00").field().as<Timestamp>() == Timestamp::from_parts(2023, 12, 31, 23));
    CHECK(TextCell("2023-12-31 23:30:00-0100").field().as<Timestamp>() == Timestamp::from_parts(2024, 1, 1, 0, 30));
    CHECK(TextCell("2024-06-30 12:00:00Z").field().as<TimestampTz>().to_string() == "2024-06-30T12:00:00Z");
    CHECK(TextCell("2024-06-30 12:00:00+15:59").field().as<Timestamp>() == Timestamp::from_parts(2024, 6, 29, 20, 1));
    // Boundaries: the first and last days four digits write, 24:00:00, leap days.
    CHECK(TextCell("0000-01-01 00:00:00").field().as<Date>().days_since_epoch == -719528);
    CHECK(TextCell("0000-02-29").field().as<Date>() == Date::from_ymd(0, 2, 29)); // year 0 is a leap year
    CHECK(TextCell("9999-12-31 23:59:59").field().as<Timestamp>() == Timestamp::from_parts(9999, 12, 31, 23, 59, 59));
    CHECK(TextCell("1969-12-31 23:59:59").field().as<Timestamp>().micros_since_epoch == -1000000);
    CHECK(TextCell("2024-12-31 24:00:00").field().as<Timestamp>() == Timestamp::from_parts(2025, 1, 1));
    CHECK(TextCell("2000-02-29").field().as<Date>() == Date::from_ymd(2000, 2, 29)); // divisible by 400
    CHECK(TextCell("2024-02-29 23:59:59").field().as<Date>() == Date::from_ymd(2024, 2, 29));
    for (const char *bad : {"1900-02-29", "2100-02-29 00:00:00", "2023-02-29 12:00:00", "2024-04-31", "2024-06-31 00:00:00",
                            "2024-01-00 00:00:00", "2024-00-01 00:00:00", "2024-01-05 23:60:00", "2024-01-05 23:59:60",
                            "2024-01-05 24:00:01", "2024-01-05 24:01:00", "2024-01-05 1:45:07", "2024-01-05  13:45:07",
                            "2024/01/05 13:45:07", "2024-01-05_13:45:07", "2024-01-05 13-45-07", "2024-01-05 13:45:0x",
                            "2024-01-0x 13:45:07", "+024-01-05", "2024-01-05 13:45:07 ", "2024-01-05 13:45:07.",
                            "2024-01-05 13:45:07+", "2024-01-05 13:45:07+16", "2024-01-05 13:45:07+01:60", "",
                            "2024-01-5", "20240105"}) {
        INFO(bad);
        CHECK_THROWS_AS(TextCell(bad).field().as<Timestamp>(), ConversionError);
    }
}

TEST_CASE("a malformed text date or time names the column, the text and the form expected", "[value]") {
    CHECK_THROWS_WITH(TextCell("2024-02-30 10:00:00").field("created").as<Timestamp>(),
                      Catch::StartsWith("column 'created': cannot read text '2024-02-30 10:00:00' as Timestamp") &&
                          Catch::Contains("YYYY-MM-DD"));
    CHECK_THROWS_WITH(TextCell("2023-02-29").field("due").as<Date>(),
                      Catch::StartsWith("column 'due': cannot read text '2023-02-29' as Date"));
    CHECK_THROWS_WITH(TextCell("25:61").field("opens").as<Time>(),
                      Catch::StartsWith("column 'opens': cannot read text '25:61' as Time") && Catch::Contains("HH:MM"));
    CHECK_THROWS_WITH(TextCell("yesterday").field("at").as<TimestampTz>(),
                      Catch::StartsWith("column 'at': cannot read text 'yesterday' as TimestampTz"));
    // A long text is cut in the message.
    const std::string long_text(500, '7');
    CHECK_THROWS_WITH(TextCell(long_text).field().as<Timestamp>(),
                      Catch::Contains(std::string(64, '7') + "...'") && !Catch::Contains(std::string(65, '7')));
    // Without a column (a Value): the text alone.
    CHECK_THROWS_WITH(Value("2024-13-01").as<Date>(), Catch::StartsWith("cannot read text '2024-13-01' as Date"));
    // NULL and other types keep their messages.
    CHECK_THROWS_WITH(Value(nullptr).as<Timestamp>(), Catch::Contains("std::optional<Timestamp>"));
    CHECK_THROWS_WITH(Value(1.5).as<Date>(), "cannot convert a double value to Date");
}

TEST_CASE("text times: the fixed HH:MM:SS form, fractions, and MySQL durations", "[value]") {
    CHECK(TextCell("00:00:00").field().as<Time>().micros_since_midnight == 0);
    CHECK(TextCell("23:59:59").field().as<Time>().micros_since_midnight == 86399LL * 1000000);
    CHECK(TextCell("23:59:59.999999").field().as<Time>().micros_since_midnight == 86399LL * 1000000 + 999999);
    CHECK(TextCell("12:00:00.25").field().as<Time>().micros_since_midnight == 43200LL * 1000000 + 250000);
    CHECK(TextCell("24:00:00").field().as<Time>().micros_since_midnight == 86400LL * 1000000);
    CHECK(TextCell("99:00:00").field().as<Time>().micros_since_midnight == 99 * 3600LL * 1000000);
    CHECK(TextCell("-838:59:59").field().as<Time>().micros_since_midnight == -(838 * 3600LL + 3599) * 1000000);
    for (const char *bad : {"12:60:00", "12:00:60", "12:00:0x", "12-00-00", "12:0:00", "12:00:00.", "12:00:00Z",
                            " 12:00:00", "12:00:00 ", "--12:00:00", "", "1234567890:00:00"}) {
        INFO(bad);
        CHECK_THROWS_AS(TextCell(bad).field().as<Time>(), ConversionError);
    }
}

TEST_CASE("cells the drivers decode read as their types without conversion", "[value]") {
    const ilana_value date = int_cell(ILANA_TYPE_DATE, 19727), time = int_cell(ILANA_TYPE_TIME, 3723000001),
                      ts = int_cell(ILANA_TYPE_TIMESTAMP, -1), tz = int_cell(ILANA_TYPE_TIMESTAMPTZ, 1704067200000000);
    CHECK(Field(&date, "d").as<Date>() == Date::from_ymd(2024, 1, 5));
    CHECK(Field(&date, "d").as<Timestamp>() == Timestamp::from_parts(2024, 1, 5));
    CHECK(Field(&time, "t").as<Time>().to_string() == "01:02:03.000001");
    CHECK(Field(&ts, "ts").as<Timestamp>().micros_since_epoch == -1);
    CHECK(Field(&ts, "ts").as<Date>() == Date::from_ymd(1969, 12, 31)); // floor, not toward zero
    CHECK(Field(&tz, "tz").as<TimestampTz>().to_string() == "2024-01-01T00:00:00Z");
    CHECK(Field(&tz, "tz").as<Timestamp>().micros_since_epoch == 1704067200000000);
    CHECK(Field(&tz, "tz").as<std::optional<Date>>() == Date::from_ymd(2024, 1, 1));
    CHECK_THROWS_WITH(Field(&time, "t").as<Date>(), "column 't': cannot convert a time value to Date");
    CHECK_THROWS_WITH(Field(&date, "d").as<Time>(), "column 'd': cannot convert a date value to Time");
    ilana_value null = int_cell(ILANA_TYPE_DATE, 0);
    null.is_null = 1;
    CHECK(Field(&null, "d").as<std::optional<Date>>() == std::nullopt);
    CHECK_THROWS_WITH(Field(&null, "d").as<Date>(), Catch::StartsWith("column 'd': cannot convert NULL to Date"));
}

TEST_CASE("decimal text reads as double and integers exactly and strictly", "[value]") {
    CHECK(TextCell("-12.50", ILANA_TYPE_DECIMAL).field().as<double>() == -12.5);
    CHECK(TextCell("0.1", ILANA_TYPE_DECIMAL).field().as<double>() == 0.1); // the nearest double, as strtod
    CHECK(TextCell("-0.00", ILANA_TYPE_DECIMAL).field().as<double>() == 0.0);
    CHECK(TextCell("+7.25", ILANA_TYPE_DECIMAL).field().as<double>() == 7.25);
    CHECK(TextCell("99999999999999999999.99", ILANA_TYPE_DECIMAL).field().as<double>() == 1e20);
    CHECK(TextCell("123456789012.34", ILANA_TYPE_TEXT).field().as<double>() == 123456789012.34);
    CHECK(TextCell("1.5e3", ILANA_TYPE_TEXT).field().as<double>() == 1500.0);
    CHECK(std::isnan(TextCell("NaN", ILANA_TYPE_DECIMAL).field().as<double>())); // PostgreSQL's numeric NaN
    CHECK(TextCell("-Infinity", ILANA_TYPE_DECIMAL).field().as<double>() == -std::numeric_limits<double>::infinity());
    CHECK(TextCell("-42", ILANA_TYPE_DECIMAL).field().as<int64_t>() == -42);
    CHECK(TextCell("9223372036854775807", ILANA_TYPE_DECIMAL).field().as<int64_t>() == INT64_MAX);
    CHECK(TextCell("-9223372036854775808", ILANA_TYPE_DECIMAL).field().as<int64_t>() == INT64_MIN);
    CHECK(TextCell("+5", ILANA_TYPE_DECIMAL).field().as<int>() == 5);
    for (const char *bad : {"", " 12.5", "12.5 ", "12,5", "1.2.3", "0x10", "+-1", "++1", "-", "+", "1e400", "abc"}) {
        INFO(bad);
        CHECK_THROWS_AS(TextCell(bad, ILANA_TYPE_DECIMAL).field().as<double>(), ConversionError);
    }
    for (const char *bad : {"", " 12", "12 ", "12.5", "9223372036854775808", "-9223372036854775809", "1e3", "-",
                            "+-1", "--1"}) {
        INFO(bad);
        CHECK_THROWS_AS(TextCell(bad, ILANA_TYPE_DECIMAL).field().as<int64_t>(), ConversionError);
    }
    CHECK_THROWS_WITH(TextCell("12,50", ILANA_TYPE_DECIMAL).field("price").as<double>(),
                      Catch::StartsWith("column 'price': cannot read decimal '12,50' as double"));
    CHECK_THROWS_WITH(TextCell("300", ILANA_TYPE_DECIMAL).field("qty").as<int8_t>(),
                      "column 'qty': value 300 does not fit in int8");
}

namespace {
// The test's own reading of "YYYY-MM-DD( |T)HH:MM:SS" (or its first 10 bytes):
// digits where digits belong, the separators, the ranges.
std::optional<Timestamp> reference_datetime(std::string s) {
    // After the seconds: ".f" (one or more digits, six kept), then "Z".
    int64_t frac = 0;
    if (s.size() > 19 && s.back() == 'Z') s.pop_back();
    if (s.size() > 19) {
        if (s[19] != '.' || s.size() == 20) return std::nullopt;
        for (size_t i = 20; i < s.size(); ++i) {
            if (s[i] < '0' || s[i] > '9') return std::nullopt;
            static constexpr int64_t kWeight[6] = {100000, 10000, 1000, 100, 10, 1};
            if (i < 26) frac += (s[i] - '0') * kWeight[i - 20];
        }
        s.resize(19);
    }
    if (s.size() != 10 && s.size() != 19) return std::nullopt;
    // "YYYY-MM-DD HH:MM+HH" is the one other form of 19 bytes: a zone.
    const bool zone = s.size() == 19 && (s[16] == '+' || s[16] == '-');
    const char *form = zone ? "DDDD-DD-DD DD:DD+DD" : "DDDD-DD-DD DD:DD:DD";
    for (size_t i = 0; i < s.size(); ++i) {
        if (i == 16 && zone) continue;
        const bool digit = s[i] >= '0' && s[i] <= '9';
        if (form[i] == 'D' ? !digit : s[i] != form[i] && !(i == 10 && s[i] == 'T')) return std::nullopt;
    }
    auto num = [&](size_t at, size_t n) { return std::stoi(s.substr(at, n)); };
    const int y = num(0, 4), m = num(5, 2), d = num(8, 2);
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    const int mdays[12] = {31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return std::nullopt;
    if (s.size() == 10) return Timestamp::from_parts(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
    const int h = num(11, 2), mi = num(14, 2), se = zone ? 0 : num(17, 2), offset_h = zone ? num(17, 2) : 0;
    if (mi > 59 || se > 59 || h > 24 || (h == 24 && (mi != 0 || se != 0)) || offset_h > 15) return std::nullopt;
    const Timestamp wall = Timestamp::from_parts(y, static_cast<unsigned>(m), static_cast<unsigned>(d),
                                                 static_cast<unsigned>(h), static_cast<unsigned>(mi),
                                                 static_cast<unsigned>(se));
    if (zone && frac != 0) return std::nullopt;
    return Timestamp{wall.micros_since_epoch + frac - (s[16] == '-' ? -1 : 1) * offset_h * 3600LL * 1000000 * zone};
}
std::optional<Timestamp> read_timestamp(const std::string &s) {
    try {
        return TextCell(s).field().as<Timestamp>();
    } catch (const ConversionError &) {
        return std::nullopt;
    }
}
} // namespace

TEST_CASE("text timestamps: every byte at every position of the fixed forms", "[value]") {
    // Each byte value at each position of the fixed forms: read exactly when the
    // test's own reading accepts it (0x3A-0x3F, 0xB0-0xB9 and the like are
    // refused; a separator is only itself).
    for (const std::string base : {"2024-02-29 23:59:59", "2023-12-31 00:00:00", "2024-02-29", "0000-01-01",
                                   "2024-02-29T23:59:59.123456Z", "2024-12-31 23:59:59.5", "1999-12-31 23:59:59Z",
                                   "2024-06-30 12:00:00.1234567"}) {
        for (size_t pos = 0; pos < base.size(); ++pos) {
            for (int b = 0; b < 256; ++b) {
                std::string s = base;
                s[pos] = static_cast<char>(b);
                const std::optional<Timestamp> want = reference_datetime(s), got = read_timestamp(s);
                INFO(base << " byte " << b << " at " << pos);
                REQUIRE(got.has_value() == want.has_value());
                if (want) REQUIRE(got->micros_since_epoch == want->micros_since_epoch);
            }
        }
    }
}

TEST_CASE("text dates: every day of four centuries and the calendar's edges", "[value]") {
    // Each day from 1900-01-01 to 2300-12-31 and of years 0000-0003 and
    // 9996-9999, written by Date::to_string and read back, alone (the fixed
    // form), with a time (fixed) and with 'T' (the general grammar).
    auto check_range = [](int64_t first, int64_t last) {
        for (int64_t day = first; day <= last; ++day) {
            const std::string text = Date{day}.to_string();
            const int64_t micros = day * 86400LL * 1000000;
            REQUIRE(TextCell(text).field().as<Date>().days_since_epoch == day);
            REQUIRE(TextCell(text + " 00:00:01").field().as<Timestamp>().micros_since_epoch == micros + 1000000);
            REQUIRE(TextCell(text + "T00:00:01").field().as<Timestamp>().micros_since_epoch == micros + 1000000);
        }
    };
    check_range(Date::from_ymd(1900, 1, 1).days_since_epoch, Date::from_ymd(2300, 12, 31).days_since_epoch);
    check_range(Date::from_ymd(0, 1, 1).days_since_epoch, Date::from_ymd(3, 12, 31).days_since_epoch);
    check_range(Date::from_ymd(9996, 1, 1).days_since_epoch, Date::from_ymd(9999, 12, 31).days_since_epoch);
    // Every month/day pair of a leap and a common year, 00 to 39.
    for (int y : {1900, 2000, 2023, 2024}) {
        for (int m = 0; m <= 13; ++m) {
            for (int d = 0; d <= 39; ++d) {
                char text[16];
                std::snprintf(text, sizeof text, "%04d-%02d-%02d", y, m, d);
                INFO(text);
                const std::optional<Timestamp> want = reference_datetime(text), got = read_timestamp(text);
                REQUIRE(got.has_value() == want.has_value());
                if (want) REQUIRE(got->micros_since_epoch == want->micros_since_epoch);
            }
        }
    }
}

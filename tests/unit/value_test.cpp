#include <catch2/catch.hpp>

#include <ilana/value.hpp>

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

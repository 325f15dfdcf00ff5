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

// The error hierarchy without a server: the one factory that picks an
// error's type (common/error_factory), the statement excerpt, context added
// to a caught error keeping its type, and the SDK writing the ABI 1.3 fields
// only where the host's record has them.
#include <catch2/catch.hpp>

#include <ilana/driver.h>
#include <ilana/error.hpp>
#include <ilana/retry.hpp>
#include <ilana/sdk/driver_support.hpp>

#include "common/error_factory.hpp"

#include <cstddef>
#include <cstring>
#include <exception>
#include <string>

using namespace ilana;

namespace {

std::exception_ptr thrown(Error facts, int32_t condition = 0, std::string constraint = {}) {
    try {
        detail::throw_error(std::move(facts), condition, std::move(constraint));
    } catch (...) {
        return std::current_exception();
    }
    return nullptr;
}

template <class E> bool is(const std::exception_ptr &p) {
    try {
        std::rethrow_exception(p);
    } catch (const E &) {
        return true;
    } catch (...) {
        return false;
    }
}

} // namespace

TEST_CASE("throw_error picks the type from class, condition, SQLSTATE and outcome", "[unit][errors]") {
    CHECK(is<ConnectionError>(thrown(Error("m", ErrorClass::connection))));
    CHECK(is<TimeoutError>(thrown(Error("m", ErrorClass::timeout))));
    CHECK_FALSE(is<PoolTimeout>(thrown(Error("m", ErrorClass::timeout))));
    CHECK(is<StatementCanceled>(thrown(Error("m", ErrorClass::canceled))));

    // Constraints: the driver's condition first (MySQL: SQLSTATE 23000 for all).
    CHECK(is<UniqueViolation>(thrown(Error("m", ErrorClass::constraint, "c", "23000"), ILANA_COND_UNIQUE)));
    CHECK(is<ForeignKeyViolation>(thrown(Error("m", ErrorClass::constraint, "c", "23000"), ILANA_COND_FOREIGN_KEY)));
    CHECK(is<NotNullViolation>(thrown(Error("m", ErrorClass::constraint, "c", "23000"), ILANA_COND_NOT_NULL)));
    CHECK(is<CheckViolation>(thrown(Error("m", ErrorClass::constraint, "c", "23000"), ILANA_COND_CHECK)));
    // ... else the standard SQLSTATE (PostgreSQL, SQLite, a driver older than ABI 1.3).
    CHECK(is<UniqueViolation>(thrown(Error("m", ErrorClass::constraint, "c", "23505"))));
    CHECK(is<ForeignKeyViolation>(thrown(Error("m", ErrorClass::constraint, "c", "23503"))));
    CHECK(is<NotNullViolation>(thrown(Error("m", ErrorClass::constraint, "c", "23502"))));
    CHECK(is<CheckViolation>(thrown(Error("m", ErrorClass::constraint, "c", "23514"))));
    const auto other = thrown(Error("m", ErrorClass::constraint, "c", "23P01"), 0, "no_overlap");
    CHECK(is<ConstraintViolation>(other));
    CHECK_FALSE(is<UniqueViolation>(other));
    try {
        std::rethrow_exception(thrown(Error("m", ErrorClass::constraint, "c", "23505"), 0, "users_email_key"));
    } catch (const ConstraintViolation &e) {
        CHECK(e.constraint_name() == "users_email_key");
        CHECK(e.sqlstate() == "23505");
        CHECK(e.connection() == "c");
    }

    // Conflicts: both are SerializationFailure; a deadlock is also DeadlockDetected.
    CHECK(is<DeadlockDetected>(thrown(Error("m", ErrorClass::transient, "c", "40P01"))));
    CHECK(is<DeadlockDetected>(thrown(Error("m", ErrorClass::transient, "c", "40001"), ILANA_COND_DEADLOCK)));
    const auto serialization = thrown(Error("m", ErrorClass::transient, "c", "40001"));
    CHECK(is<SerializationFailure>(serialization));
    CHECK_FALSE(is<DeadlockDetected>(serialization));
    // A transient error that is neither (too many connections) stays a plain Error.
    const auto busy = thrown(Error("m", ErrorClass::transient, "c", "53300"));
    CHECK(is<Error>(busy));
    CHECK_FALSE(is<SerializationFailure>(busy));

    // Outcome unknown wins over the class, and is not a ConnectionError.
    Error lost("m", ErrorClass::connection, "c");
    lost.set_outcome_unknown();
    const auto unknown = thrown(lost);
    CHECK(is<OutcomeUnknown>(unknown));
    CHECK_FALSE(is<ConnectionError>(unknown));

    // Classes without a kind of their own.
    CHECK_FALSE(is<ConnectionError>(thrown(Error("m", ErrorClass::auth))));
    CHECK(is<Error>(thrown(Error("m", ErrorClass::syntax))));
}

TEST_CASE("an error's statement is its start on one line, cut on a UTF-8 boundary", "[unit][errors]") {
    Error e("[db] query failed: boom", ErrorClass::syntax, "db");
    CHECK(e.sql().empty());
    CHECK(std::string(e.what()) == "[db] query failed: boom");
    e.set_sql("  SELECT *\n\tFROM   users\r\n WHERE id = ?  ");
    CHECK(e.sql() == "SELECT * FROM users WHERE id = ?");
    CHECK(std::string(e.what()) == "[db] query failed: boom [SQL: SELECT * FROM users WHERE id = ?]");
    CHECK(e.message() == "[db] query failed: boom");
    e.set_sql("SELECT 2"); // the first statement set stays (the innermost one failed)
    CHECK(e.sql() == "SELECT * FROM users WHERE id = ?");

    Error longer("m");
    std::string sql = "SELECT '";
    while (sql.size() < 300) sql += "\xC3\xA9"; // é, two bytes
    longer.set_sql(sql);
    CHECK(longer.sql().size() <= 123);
    CHECK(longer.sql().size() >= 110);
    CHECK(longer.sql().substr(longer.sql().size() - 3) == "...");
    const std::string body = longer.sql().substr(0, longer.sql().size() - 3);
    CHECK((body.size() - std::string("SELECT '").size()) % 2 == 0); // whole characters only
}

TEST_CASE("context added to a caught error keeps its type and its statement", "[unit][errors]") {
    try {
        try {
            Error facts("dup", ErrorClass::constraint, "db", "23505");
            facts.set_sql("INSERT INTO t VALUES (?)");
            detail::throw_error(std::move(facts), 0, "t_pkey");
        } catch (Error &e) {
            e.add_context("batch row 2 of 3: ");
            throw;
        }
    } catch (const UniqueViolation &e) {
        CHECK(std::string(e.what()) == "batch row 2 of 3: dup [SQL: INSERT INTO t VALUES (?)]");
        CHECK(e.constraint_name() == "t_pkey");
        return;
    }
    FAIL("the type was lost");
}

TEST_CASE("with_retry rethrows the error it caught with its type", "[unit][errors]") {
    int runs = 0;
    try {
        with_retry(
            [&] {
                ++runs;
                detail::throw_error(Error("deadlock", ErrorClass::transient, "db", "40P01"));
            },
            RetrySettings{RetryOptions{3, 1, 1}, {}, {}});
    } catch (const DeadlockDetected &) {
        CHECK(runs == 3);
        return;
    }
    FAIL("the type was lost");
}

TEST_CASE("the SDK writes condition and constraint name only where the host's record has them",
          "[unit][errors][sdk]") {
    ilana_error current{};
    current.struct_size = sizeof current;
    ilana::sdk::DriverFailure f(ILANA_ERR_CONSTRAINT, "duplicate", "23000", 1062);
    f.with_condition(ILANA_COND_UNIQUE, "uq_users_email");
    f.fill(&current);
    CHECK(current.condition == ILANA_COND_UNIQUE);
    CHECK(std::string(current.constraint_name) == "uq_users_email");

    // A host of ABI 1.2: its record ends after the message.
    ilana_error old;
    std::memset(&old, 0x5A, sizeof old);
    old.struct_size = offsetof(ilana_error, condition);
    f.fill(&old);
    CHECK(std::string(old.message) == "duplicate");
    CHECK(old.condition == 0x5A5A5A5A);           // untouched
    CHECK(old.constraint_name[0] == '\x5A');       // untouched

    // A name longer than the field is cut, NUL-terminated.
    f.with_condition(ILANA_COND_CHECK, std::string(200, 'k'));
    f.fill(&current);
    CHECK(std::strlen(current.constraint_name) == ILANA_CONSTRAINT_NAME_CAPACITY - 1);
}

// Calls failing of one cause each get a copy of the same kind
// (detail::copy_error): each writes its SQL into its own.
TEST_CASE("copy_error: a copy of the same kind and facts, a separate object", "[errors]") {
    const std::exception_ptr pool_timeout =
        std::make_exception_ptr(PoolTimeout("[pg] no session within acquireTimeoutMillis=400", ErrorClass::timeout, "pg"));
    const std::exception_ptr copy = detail::copy_error(pool_timeout);
    REQUIRE(copy != pool_timeout);
    const PoolTimeout *original = nullptr;
    try {
        std::rethrow_exception(pool_timeout);
    } catch (const PoolTimeout &e) {
        original = &e;
    }
    try {
        std::rethrow_exception(copy);
        FAIL("not thrown");
    } catch (const PoolTimeout &e) {
        CHECK(&e != original);
        CHECK(std::string(e.what()) == original->what());
        CHECK(e.connection() == "pg");
    }

    const Error facts("duplicate key", ErrorClass::constraint, "pg", "23505");
    try {
        std::rethrow_exception(detail::copy_error(thrown(facts, 0, "users_email_key")));
        FAIL("not thrown");
    } catch (const UniqueViolation &e) {
        CHECK(e.constraint_name() == "users_email_key");
        CHECK(e.sqlstate() == "23505");
    }

    const std::exception_ptr foreign = std::make_exception_ptr(std::runtime_error("not ilana's"));
    CHECK(detail::copy_error(foreign) == foreign);
    CHECK(detail::copy_error(nullptr) == nullptr);
}

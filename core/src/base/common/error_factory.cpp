#include "common/error_factory.hpp"

#include <ilana/driver.h>

#include <utility>

namespace ilana::detail {
namespace {

// The standard SQLSTATE of each condition, for drivers that leave
// ilana_error.condition at 0 (older than ABI 1.3, or whose SQLSTATE says).
int32_t condition_of(const std::string &sqlstate) {
    if (sqlstate == "23505") return ILANA_COND_UNIQUE;
    if (sqlstate == "23503") return ILANA_COND_FOREIGN_KEY;
    if (sqlstate == "23502") return ILANA_COND_NOT_NULL;
    if (sqlstate == "23514") return ILANA_COND_CHECK;
    if (sqlstate == "40001") return ILANA_COND_SERIALIZATION;
    if (sqlstate == "40P01") return ILANA_COND_DEADLOCK;
    return ILANA_COND_NONE;
}

} // namespace

void throw_error(Error facts, int32_t condition, std::string constraint_name) {
    if (facts.outcome_unknown()) throw OutcomeUnknown(std::move(facts));
    if (condition == ILANA_COND_NONE) condition = condition_of(facts.sqlstate());
    switch (facts.error_class()) {
    case ErrorClass::connection: throw ConnectionError(std::move(facts));
    case ErrorClass::timeout: throw TimeoutError(std::move(facts));
    case ErrorClass::canceled: throw StatementCanceled(std::move(facts));
    case ErrorClass::constraint:
        switch (condition) {
        case ILANA_COND_UNIQUE: throw UniqueViolation(std::move(facts), std::move(constraint_name));
        case ILANA_COND_FOREIGN_KEY: throw ForeignKeyViolation(std::move(facts), std::move(constraint_name));
        case ILANA_COND_NOT_NULL: throw NotNullViolation(std::move(facts), std::move(constraint_name));
        case ILANA_COND_CHECK: throw CheckViolation(std::move(facts), std::move(constraint_name));
        default: throw ConstraintViolation(std::move(facts), std::move(constraint_name));
        }
    case ErrorClass::transient:
        if (condition == ILANA_COND_DEADLOCK) throw DeadlockDetected(std::move(facts));
        if (condition == ILANA_COND_SERIALIZATION) throw SerializationFailure(std::move(facts));
        throw facts;
    default: throw facts;
    }
}

std::exception_ptr make_error_ptr(Error facts, int32_t condition, std::string constraint_name) {
    try {
        throw_error(std::move(facts), condition, std::move(constraint_name));
    } catch (...) {
        return std::current_exception();
    }
}

std::exception_ptr copy_error(const std::exception_ptr &error) noexcept {
    if (!error) return error;
    try {
        // Most derived first.
        try {
            std::rethrow_exception(error);
        } catch (const PoolTimeout &e) {
            return std::make_exception_ptr(PoolTimeout(e));
        } catch (const TimeoutError &e) {
            return std::make_exception_ptr(TimeoutError(e));
        } catch (const OutcomeUnknown &e) {
            return std::make_exception_ptr(OutcomeUnknown(e));
        } catch (const ConnectionError &e) {
            return std::make_exception_ptr(ConnectionError(e));
        } catch (const StatementCanceled &e) {
            return std::make_exception_ptr(StatementCanceled(e));
        } catch (const UniqueViolation &e) {
            return std::make_exception_ptr(UniqueViolation(e));
        } catch (const ForeignKeyViolation &e) {
            return std::make_exception_ptr(ForeignKeyViolation(e));
        } catch (const NotNullViolation &e) {
            return std::make_exception_ptr(NotNullViolation(e));
        } catch (const CheckViolation &e) {
            return std::make_exception_ptr(CheckViolation(e));
        } catch (const ConstraintViolation &e) {
            return std::make_exception_ptr(ConstraintViolation(e));
        } catch (const DeadlockDetected &e) {
            return std::make_exception_ptr(DeadlockDetected(e));
        } catch (const SerializationFailure &e) {
            return std::make_exception_ptr(SerializationFailure(e));
        } catch (const ConfigError &e) {
            return std::make_exception_ptr(ConfigError(e));
        } catch (const ConversionError &e) {
            return std::make_exception_ptr(ConversionError(e));
        } catch (const Error &e) {
            return std::make_exception_ptr(Error(e));
        }
    } catch (...) { // not ilana's (nothing writes into it), or out of memory
    }
    return error;
}

} // namespace ilana::detail

// The one place that decides which exception type a failure is thrown as.
//
// Everywhere the core turns a failure into an exception — a driver's
// ilana_error in the ABI adapter, or a condition of its own (a closed pool,
// a lock wait that timed out) — it builds a plain Error with the facts and
// calls throw_error, which throws the subclass of <ilana/error.hpp> the
// facts call for. So `catch (const ilana::TimeoutError &)` sees every
// timeout, whoever noticed it.
#pragma once

#include <ilana/error.hpp>

#include <cstdint>
#include <exception>
#include <string>

namespace ilana::detail {

// Throws `facts` as its kind, in this order:
//   outcome_unknown()                       -> OutcomeUnknown
//   class connection                         -> ConnectionError
//   class timeout                            -> TimeoutError
//   class canceled                           -> StatementCanceled
//   class constraint                         -> UniqueViolation, ForeignKeyViolation,
//       NotNullViolation, CheckViolation by `condition` (ILANA_COND_*), else
//       by SQLSTATE 23505/23503/23502/23514; else ConstraintViolation
//   class transient, deadlock (condition or 40P01)        -> DeadlockDetected
//   class transient, serialization (condition or 40001)   -> SerializationFailure
//   anything else                            -> Error
// `constraint_name` goes to ConstraintViolation (ignored otherwise).
[[noreturn]] void throw_error(Error facts, int32_t condition = 0, std::string constraint_name = {});

// The same exception, held for a completion handler (the async API).
std::exception_ptr make_error_ptr(Error facts, int32_t condition = 0, std::string constraint_name = {});

// A copy of `error` of the same kind (PoolTimeout stays PoolTimeout), for
// each of several calls that fail of one cause: a call adds its SQL to its
// Error and hands it to a caller on another thread, so they must not share
// one object. `error` itself when it is not an ilana::Error or the copy
// cannot be made.
std::exception_ptr copy_error(const std::exception_ptr &error) noexcept;

} // namespace ilana::detail

// The SQL dialect of a connection: the driver's (its descriptor), or the one
// each session reports for the server it reached (ABI 1.3,
// "ilana.conn_dialect/1": a bridge to many databases).
#pragma once

#include <ilana/database.hpp>
#include <ilana/driver.h>

namespace ilana::detail {

class LoadedDriver;

// The C++ view of an ABI dialect of `driver` (transactional DDL is a
// capability of the driver's descriptor, not a dialect fact).
Dialect dialect_from(const ilana_dialect &dialect, const LoadedDriver &driver);

} // namespace ilana::detail

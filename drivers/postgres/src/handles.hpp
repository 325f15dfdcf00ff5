// handles.hpp — the ABI's opaque handles are the driver's own objects.
#pragma once

#include "connection.hpp"
#include "result.hpp"

#include <ilana/driver.h>

namespace ilana::drivers::postgres {

// ilana_conn / ilana_result are never defined: a handle is a pointer to our
// Connection / Result, created and destroyed only by this driver.
inline Connection *from_handle(ilana_conn *h) noexcept { return reinterpret_cast<Connection *>(h); }
inline ilana_conn *to_handle(Connection *c) noexcept { return reinterpret_cast<ilana_conn *>(c); }
inline Result *from_handle(ilana_result *h) noexcept { return reinterpret_cast<Result *>(h); }
inline ilana_result *to_handle(Result *r) noexcept { return reinterpret_cast<ilana_result *>(r); }

// Throws ILANA_ERR_INTERNAL for a NULL handle (host misuse).
Connection &conn_ref(ilana_conn *h);

// Extension tables (introspect.cpp, lock.cpp, namespace.cpp).
const ilana_introspect_api *introspect_api() noexcept;
const ilana_lock_api *lock_api() noexcept;
const ilana_namespace_api *namespace_api() noexcept;
const ilana_ddl_api *ddl_api() noexcept;
const ilana_session_api *session_api() noexcept; // session.cpp

} // namespace ilana::drivers::postgres

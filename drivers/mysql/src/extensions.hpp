// extensions.hpp — the optional capability tables this driver provides.
#pragma once

#include <ilana/driver.h>

namespace ilana::drivers::mysql {

extern const ilana_introspect_api kIntrospectApi; // "ilana.introspect/1" (introspect.cpp)
extern const ilana_lock_api kLockApi;             // "ilana.lock/1"       (lock.cpp)
extern const ilana_namespace_api kNamespaceApi;   // "ilana.namespace/1"  (namespace.cpp)
extern const ilana_ddl_api kDdlApi;               // "ilana.ddl/1"        (ddl.cpp)
extern const ilana_session_api kSessionApi;       // "ilana.session/1"    (session.cpp)

} // namespace ilana::drivers::mysql

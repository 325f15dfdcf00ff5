// expect: compiles
// A db source may include its own layer and every layer below, public
// headers and private ones.
#include <ilana/database.hpp>
#include <ilana/driver_registry.hpp>
#include <ilana/config.hpp>
#include <ilana/error.hpp>

#include "db/database_state.hpp"
#include "db/sticky.hpp"
#include "pool/pool.hpp"
#include "log/call_hook.hpp"

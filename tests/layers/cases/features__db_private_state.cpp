// expect: error db/database_state.hpp is the db layer's own
// A feature reaches the pools through db/pool_access.hpp, never through
// the db layer's own state.
#include "db/database_state.hpp"

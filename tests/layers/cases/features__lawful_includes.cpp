// expect: compiles
// A feature may use the db layer's interface and everything below.
#include <ilana/database.hpp>
#include <ilana/health.hpp>
#include <ilana/query.hpp>

#include "db/pool_access.hpp"
#include "replicas/replica_router.hpp"

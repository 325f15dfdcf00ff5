// The async API's placement of pipelined statements on a connection's lanes
// (core/src/db/async/lane_policy.hpp), and which statements may share a
// session with other callers' (common/sql_kind.hpp).
#include <catch2/catch.hpp>

#include "async/lane_policy.hpp"
#include "common/sql_kind.hpp"

using ilana::detail::may_share_session;
using ilana::detail::lane_policy::place;

TEST_CASE("lane placement: an idle lane first, then one more lane, then the least loaded one", "[async][lanes]") {
    // No lane yet: open one and wait for it.
    auto p = place({}, 0, 4);
    CHECK(p.lane == -1);
    CHECK(p.open);
    // One being opened, room for more: open another (a burst spreads).
    p = place({}, 1, 4);
    CHECK(p.lane == -1);
    CHECK(p.open);
    // The pool's max is reached by the lanes being opened: wait for them.
    p = place({}, 4, 4);
    CHECK(p.lane == -1);
    CHECK_FALSE(p.open);
    // An idle lane: no pipelining, no new lane.
    p = place({3, 0, 5}, 0, 4);
    CHECK(p.lane == 1);
    CHECK_FALSE(p.open);
    // All busy, room for one more: open it, run on the least loaded now.
    p = place({3, 2, 5}, 0, 4);
    CHECK(p.lane == 1);
    CHECK(p.open);
    // All busy and the pool full: the least loaded lane, nothing opened.
    p = place({3, 2, 5, 7}, 0, 4);
    CHECK(p.lane == 1);
    CHECK_FALSE(p.open);
    // Every lane at its depth and the pool full: wait.
    p = place({4, 4}, 0, 2, 4);
    CHECK(p.lane == -1);
    CHECK_FALSE(p.open);
    // A full lane is skipped for one with room.
    p = place({4, 3}, 0, 2, 4);
    CHECK(p.lane == 1);
    // A pool of max 0 (a resize in progress) still has one lane.
    p = place({}, 0, 0);
    CHECK(p.open);
}

TEST_CASE("lane placement: a statement that may be canceled runs alone on its lane", "[async][lanes]") {
    // An idle lane: taken.
    auto p = place({3, 0}, 0, 4, 64, /*alone=*/true);
    CHECK(p.lane == 1);
    CHECK_FALSE(p.open);
    // Busy lanes with room are not shared with it: one more lane, and it waits.
    p = place({3, 2}, 0, 4, 64, true);
    CHECK(p.lane == -1);
    CHECK(p.open);
    // The pool full: it waits for a lane to come idle.
    p = place({3, 2}, 0, 2, 64, true);
    CHECK(p.lane == -1);
    CHECK_FALSE(p.open);
    // A lane running one alone is passed as full: others do not join it.
    p = place({64, 5}, 0, 2, 64);
    CHECK(p.lane == 1);
}

TEST_CASE("lanes: only statements that leave nothing on their session share one", "[async][lanes]") {
    for (const char *sql : {"SELECT id, name FROM t WHERE id = $1", "  /* hint */ select 1", "(SELECT 1) UNION (SELECT 2)",
                            "WITH x AS (SELECT 1) SELECT * FROM x", "INSERT INTO t (a) VALUES ($1) RETURNING id",
                            "UPDATE t SET a = 1 WHERE id = 2", "DELETE FROM t WHERE id = 3", "VALUES (1), (2)",
                            "SELECT 1;", "SELECT * FROM t FOR UPDATE", "SELECT nextval('s')"}) {
        INFO(sql);
        CHECK(may_share_session(sql));
    }
    for (const char *sql : {"BEGIN", "COMMIT", "SET search_path = x", "SET LOCAL a = 1", "RESET ALL",
                            "CREATE TABLE t (a int)", "CREATE TEMP TABLE t (a int)", "SELECT set_config('a', 'b', false)",
                            "SELECT pg_advisory_lock(1)", "SELECT GET_LOCK('x', 1)", "SELECT lastval()",
                            "SELECT currval('s')", "SELECT LAST_INSERT_ID()", "SELECT * INTO t2 FROM t",
                            "SELECT a INTO @x FROM t", "SELECT @@session.autocommit",
                            "SELECT 1; SET a = 1", "LOCK TABLE t", "PREPARE p AS SELECT 1", "LISTEN ch", "CALL p()",
                            "DO $$ BEGIN END $$", "DECLARE c CURSOR FOR SELECT 1", "SHOW search_path", "", "   "}) {
        INFO(sql);
        CHECK_FALSE(may_share_session(sql));
    }
}

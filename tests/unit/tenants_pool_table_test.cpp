// The tenant pool bookkeeping as a state machine, without sockets: slots,
// LRU victims that are never pinned, waiting when every pool is in use, TTL
// sweeps, abandoned creations, closing pools counted until closed.
#include <catch2/catch.hpp>

#include "tenants/pool_table.hpp"
#include "tenants/tenant_id.hpp"

#include <ilana/error.hpp>

using namespace std::chrono_literals;
using Table = ilana::detail::TenantPoolTable<int>;
using Clock = Table::Clock;

namespace {
// Checks out `id` and, when it has to be created, makes it ready at once.
Table::Decision take(Table &t, const std::string &id, Clock::time_point now) {
    auto d = t.checkout(id, now);
    if (d.action == Table::Action::create) t.ready(d.entry, std::make_shared<int>(1));
    if (d.action != Table::Action::wait) t.pin(*d.entry, now);
    return d;
}
} // namespace

TEST_CASE("pool table: free slots first, then the least recently used idle pool", "[tenants][unit]") {
    Table t(3, 0ms);
    auto now = Clock::now();
    auto a = take(t, "a", now);
    auto b = take(t, "b", now + 1ms);
    auto c = take(t, "c", now + 2ms);
    CHECK(a.action == Table::Action::create);
    CHECK_FALSE(a.victim);
    CHECK(t.open() == 3);
    // Released in the order b, a, c: b is the least recently used.
    t.unpin(*b.entry, now + 10ms, true);
    t.unpin(*a.entry, now + 11ms, true);
    t.unpin(*c.entry, now + 12ms, true);
    auto again = take(t, "a", now + 13ms);
    CHECK(again.action == Table::Action::use);
    CHECK(again.entry == a.entry);
    t.unpin(*a.entry, now + 14ms, true);
    auto d = take(t, "d", now + 20ms);
    REQUIRE(d.action == Table::Action::create);
    REQUIRE(d.victim);
    CHECK(d.victim->id == "b");
    CHECK(t.open() == 3);
    CHECK(t.evicted_lru() == 1);
    CHECK_FALSE(t.find("b"));
}

TEST_CASE("pool table: a pinned pool is never the victim, all pinned means wait", "[tenants][unit]") {
    Table t(2, 0ms);
    auto now = Clock::now();
    auto a = take(t, "a", now);
    auto b = take(t, "b", now + 1ms);
    auto c = t.checkout("c", now + 2ms);
    CHECK(c.action == Table::Action::wait);
    CHECK_FALSE(c.entry);
    CHECK(t.open() == 2);
    // b released: it is the only candidate even though a is older.
    t.unpin(*b.entry, now + 3ms, true);
    c = t.checkout("c", now + 4ms);
    REQUIRE(c.action == Table::Action::create);
    CHECK(c.victim->id == "b");
    // c is being made: a second caller for c waits for it, not a new pool.
    auto c2 = t.checkout("c", now + 5ms);
    CHECK(c2.action == Table::Action::wait);
    CHECK(c2.entry == c.entry);
    t.ready(c.entry, std::make_shared<int>(3));
    CHECK(t.checkout("c", now + 6ms).action == Table::Action::use);
    CHECK(t.in_use() == 1); // a
}

TEST_CASE("pool table: an observer release does not count as use", "[tenants][unit]") {
    Table t(2, 100ms);
    auto now = Clock::now();
    auto a = take(t, "a", now);
    t.unpin(*a.entry, now, true);
    t.pin(*a.entry, now + 90ms, false); // a metrics scrape
    t.unpin(*a.entry, now + 95ms, false);
    CHECK(a.entry->last_used == now);
    auto swept = t.sweep(now + 100ms);
    REQUIRE(swept.size() == 1);
    CHECK(swept[0]->id == "a");
}

TEST_CASE("pool table: TTL sweep takes idle pools only and counts them until closed", "[tenants][unit]") {
    Table t(3, 100ms);
    auto now = Clock::now();
    auto a = take(t, "a", now);
    auto b = take(t, "b", now);
    t.unpin(*a.entry, now + 10ms, true);
    CHECK(t.sweep(now + 50ms).empty());     // not expired yet
    auto swept = t.sweep(now + 200ms);      // a expired, b pinned
    REQUIRE(swept.size() == 1);
    CHECK(swept[0]->id == "a");
    CHECK(t.evicted_ttl() == 1);
    CHECK(t.open() == 2);                   // b + a closing
    take(t, "c", now + 201ms);
    CHECK(t.checkout("d", now + 202ms).action == Table::Action::wait); // a still closing, b and c pinned
    t.closed(1);
    CHECK(t.open() == 2);
    CHECK(t.checkout("d", now + 203ms).action == Table::Action::create);
    CHECK(t.open() == 3);
}

TEST_CASE("pool table: no TTL sweeps nothing", "[tenants][unit]") {
    Table t(1, 0ms);
    auto now = Clock::now();
    auto a = take(t, "a", now);
    t.unpin(*a.entry, now, true);
    CHECK(t.sweep(now + std::chrono::hours(24)).empty());
}

TEST_CASE("pool table: abandoned creation frees its slot, remove respects pins unless forced", "[tenants][unit]") {
    Table t(1, 0ms);
    auto now = Clock::now();
    auto a = t.checkout("a", now);
    REQUIRE(a.action == Table::Action::create);
    CHECK(t.checkout("b", now).action == Table::Action::wait);
    t.abandon(a.entry);
    CHECK(t.open() == 0);
    auto b = take(t, "b", now);
    bool pinned = false;
    CHECK_FALSE(t.remove("b", false, &pinned));
    CHECK(pinned);
    auto removed = t.remove("b", true, &pinned);
    REQUIRE(removed);
    CHECK(t.open() == 1); // closing
    t.closed(1);
    CHECK(t.open() == 0);
    CHECK_FALSE(t.remove("zzz", true));
}

TEST_CASE("pool table: open() never exceeds max under any sequence", "[tenants][unit]") {
    Table t(4, 50ms);
    auto now = Clock::now();
    std::vector<Table::EntryPtr> pinned;
    uint64_t seed = 12345;
    auto rnd = [&] {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<unsigned>(seed >> 33);
    };
    std::vector<Table::EntryPtr> closing;
    for (int step = 0; step < 5000; ++step) {
        now += 1ms;
        const unsigned op = rnd() % 10;
        if (op < 5) {
            auto d = t.checkout("t" + std::to_string(rnd() % 12), now);
            if (d.action == Table::Action::create) t.ready(d.entry, std::make_shared<int>(0));
            if (d.action != Table::Action::wait) {
                t.pin(*d.entry, now);
                pinned.push_back(d.entry);
            }
        } else if (op < 8 && !pinned.empty()) {
            size_t i = rnd() % pinned.size();
            t.unpin(*pinned[i], now, true);
            pinned.erase(pinned.begin() + static_cast<long>(i));
        } else if (op == 8) {
            auto s = t.sweep(now);
            closing.insert(closing.end(), s.begin(), s.end());
        } else if (!closing.empty()) {
            closing.pop_back();
            t.closed(1);
        }
        REQUIRE(t.open() <= 4);
        for (const auto &kv : t.entries()) REQUIRE(kv.second->pins >= 0);
    }
}

TEST_CASE("tenant ids: letters, digits, _ and -, 1..63 characters", "[tenants][unit]") {
    using ilana::detail::is_valid_tenant_id;
    CHECK(is_valid_tenant_id("acme"));
    CHECK(is_valid_tenant_id("Tenant_42-eu"));
    CHECK(is_valid_tenant_id(std::string(63, 'a')));
    CHECK_FALSE(is_valid_tenant_id(std::string(64, 'a')));
    CHECK_FALSE(is_valid_tenant_id(""));
    CHECK_FALSE(is_valid_tenant_id("a b"));
    CHECK_FALSE(is_valid_tenant_id("a.b"));
    CHECK_FALSE(is_valid_tenant_id("a;b"));
    CHECK_FALSE(is_valid_tenant_id("caf\xc3\xa9"));
    CHECK_FALSE(is_valid_tenant_id(std::string("a\0b", 3)));
}

TEST_CASE("an injection id is rejected with an Error naming it", "[tenants][unit]") {
    const std::string id = "x\"; DROP SCHEMA public; --";
    try {
        ilana::detail::validate_tenant_id(id);
        FAIL("accepted");
    } catch (const ilana::Error &e) {
        const std::string m = e.what();
        CHECK(m.find("tenant id \"x\\\"; DROP SCHEMA public; --\" is not valid") != std::string::npos);
        CHECK(m.find("letters, digits") != std::string::npos);
        CHECK(e.error_class() == ilana::ErrorClass::config);
    }
    CHECK_THROWS_WITH(ilana::detail::validate_tenant_id(std::string(70, 'a')), Catch::Contains("70 characters"));
    CHECK_THROWS_WITH(ilana::detail::validate_tenant_id("a\nb"), Catch::Contains("\"a\\x0ab\""));
}

TEST_CASE("tenant templates and namespace names", "[tenants][unit]") {
    using namespace ilana::detail;
    CHECK(fill_tenant_template("./tenants/{tenant}.sqlite", "acme") == "./tenants/acme.sqlite");
    CHECK(fill_tenant_template("{tenant}/{tenant}.db", "a") == "a/a.db");
    CHECK(fill_tenant_template("plain.db", "a") == "plain.db");
    CHECK(tenant_from_namespace("tenant_acme", "tenant_") == "acme");
    CHECK(tenant_from_namespace("tenant_", "tenant_").empty());
    CHECK(tenant_from_namespace("other_acme", "tenant_").empty());
    CHECK(tenant_from_namespace("tenant_a.b", "tenant_").empty());
}

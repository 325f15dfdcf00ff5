// Tenants against real databases, one suite for every isolation the
// drivers offer: PostgreSQL (schema), MariaDB (database), SQLite (file).
// Each test uses its own prefix ("t<pid>_<n>_") so parallel runs never
// collide, and drops what it made.
//
//   - LRU at maxPools under threads: open pools (counted from the hooks and
//     sampled) never exceed maxPools, evictions are counted, no query fails;
//     metrics and health list the tenant pools;
//   - TTL: an unused pool closes after poolTtlMs ("ttl_expired"); a held
//     Connection keeps its pool however long;
//   - drift: altering one tenant is found (extra column, missing index);
//   - clone: tables, keys, indexes and defaults recreated (no drift against
//     the source), rows copied in batches, anonymized columns hold none of
//     the original values, the migration history comes along;
//   - clone of related tables (generated ids, a foreign key, CHECK, UNIQUE,
//     an index, a view over a view) through the driver's "ilana.ddl/1":
//     rows equal, counters carried (with data) or fresh (without), keys
//     enforced, views reading the clone's tables;
//   - a system schema / database is refused by every entry point, an empty
//     schemaPrefix at config load;
//   - an injection id is rejected by every entry point without any SQL.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>
#include <ilana/tenants.hpp>

#include "configs.hpp"
#include "test_helpers.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <thread>

using namespace ilana;
using namespace std::chrono;
using namespace std::chrono_literals;
using ilana_test::eventually;
using ilana_test::TempDir;

namespace {

std::string unique_prefix() {
    static std::atomic<int> n{0};
    return "t" + std::to_string(getpid()) + "_" + std::to_string(++n) + "_";
}

struct Backend {
    std::string name;       // for messages
    std::string client;
    std::string isolation;
    std::string drop_index; // SQL dropping ix_users_name
    // The template's "connection" object; `prefix` lets the file template
    // carry it (schema and database isolation use schemaPrefix).
    std::function<std::string(const std::string &prefix)> connection;
};

Backend sqlite_backend() {
    return {"SQLite", "sqlite", "file", "DROP INDEX ix_users_name", [](const std::string &prefix) {
                return R"({"filename": "./tenants/)" + prefix + R"({tenant}.sqlite"})";
            }};
}
Backend pg_backend() {
    return {"PostgreSQL", "postgres", "schema", "DROP INDEX ix_users_name",
            [](const std::string &) { return ilana_test::pg_connection_json(); }};
}
Backend mysql_backend() {
    return {"MariaDB", "mysql", "database", "DROP INDEX ix_users_name ON users",
            [](const std::string &) { return ilana_test::mysql_connection_json(); }};
}

const char *kUsersMigration = R"(-- migrate:up
CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, email VARCHAR(100) NOT NULL, name VARCHAR(100) DEFAULT 'x',
                    phone VARCHAR(30), score DECIMAL(10,2) DEFAULT 0);
CREATE UNIQUE INDEX ux_users_email ON users (email);
CREATE INDEX ix_users_name ON users (name);
-- migrate:down
DROP TABLE users;
)";

// Every pool event of tenant pools ("primary@<id>"), and the most pools
// open at once as the hooks saw it.
struct Recorder {
    std::mutex mu;
    std::vector<std::pair<std::string, std::string>> evicted; // (pool, reason)
    std::atomic<int> open{0}, max_open{0}, created{0}, lru{0}, ttl{0};
    std::atomic<int> queries{0};
    Hooks hooks() {
        Hooks h;
        h.on_pool_created = [this](const std::string &name) {
            if (name.find('@') == std::string::npos) return;
            ++created;
            int now = ++open;
            int seen = max_open.load();
            while (now > seen && !max_open.compare_exchange_weak(seen, now)) {
            }
        };
        h.on_pool_evicted = [this](const std::string &name, const std::string &reason) {
            if (name.find('@') == std::string::npos) return;
            --open;
            if (reason == "lru") ++lru;
            if (reason == "ttl_expired") ++ttl;
            std::lock_guard<std::mutex> lock(mu);
            evicted.emplace_back(name, reason);
        };
        h.on_query = [this](const std::string &, const std::string &, microseconds) { ++queries; };
        return h;
    }
    bool was_evicted(const std::string &pool, const std::string &reason) {
        std::lock_guard<std::mutex> lock(mu);
        for (const auto &e : evicted)
            if (e.first == pool && e.second == reason) return true;
        return false;
    }
};

// A config with a "tenants" section over `b`, the users migration, and the
// database opened with the recorder's hooks. Drops every tenant it made.
struct Fixture {
    Backend backend;
    TempDir dir;
    std::string prefix = unique_prefix();
    Recorder rec;
    std::optional<Database> db;
    std::optional<TenantManager> tm;

    Fixture(Backend b, int max_pools, int64_t ttl_ms, const std::string &tenant_pool = R"({"min": 0, "max": 1})")
        : backend(std::move(b)) {
        dir.write("migrations/20260101000000_users.sql", kUsersMigration);
        dir.write("ilana.config.json",
                  R"({"connections": {"primary": {"client": ")" + backend.client + R"(", "connection": )" +
                      backend.connection(prefix) + R"(, "pool": {"max": 4}}},
                      "tenants": {"connection": "primary", "isolation": ")" +
                      backend.isolation + R"(", "schemaPrefix": ")" + prefix + R"(", "maxPools": )" +
                      std::to_string(max_pools) + R"(, "poolTtlMs": )" + std::to_string(ttl_ms) +
                      R"(, "pool": )" + tenant_pool + R"(, "migrations": {"directory": "./migrations"}}})");
        db.emplace(Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, rec.hooks()}));
        tm.emplace(*db);
    }
    ~Fixture() {
        try {
            for (const auto &id : tm->discover()) tm->drop_tenant(id);
        } catch (const std::exception &e) {
            WARN("cleanup of " << prefix << " tenants failed: " << e.what());
        }
    }
    void create(const std::vector<std::string> &ids, bool migrate = true) {
        for (const auto &id : ids) tm->create_tenant(id, CreateTenantOptions{migrate});
    }
};

// ---- the suite ------------------------------------------------------------------

void suite_lru_threads(const Backend &b) {
    Fixture f(b, 4, 0);
    std::vector<std::string> ids;
    for (int i = 0; i < 12; ++i) ids.push_back("lru" + std::to_string(i));
    f.create(ids);
    // Each tenant holds its own number of rows: a pool scoped to the wrong
    // tenant would be caught.
    for (size_t i = 0; i < ids.size(); ++i)
        for (size_t r = 0; r <= i % 3; ++r)
            f.tm->get(ids[i]).execute("INSERT INTO users (id, email) VALUES (?, ?)",
                                      {static_cast<int>(r), "u" + std::to_string(r) + "@x.test"});

    std::atomic<bool> stop{false};
    std::atomic<int> max_sampled{0}, errors{0}, wrong{0}, done{0};
    std::thread watcher([&] {
        while (!stop) {
            int n = f.tm->stats().open_pools;
            if (n > max_sampled) max_sampled = n;
            std::this_thread::sleep_for(1ms);
        }
    });
    std::vector<std::thread> workers;
    for (int t = 0; t < 6; ++t)
        workers.emplace_back([&, t] {
            std::mt19937 rng(static_cast<unsigned>(t) * 7919u + 1u);
            for (int q = 0; q < 60; ++q) {
                const size_t i = rng() % ids.size();
                try {
                    auto n = f.tm->get(ids[i]).query("SELECT COUNT(*) AS n FROM users").front()["n"].as<int64_t>();
                    if (n != static_cast<int64_t>(i % 3 + 1)) ++wrong;
                    ++done;
                } catch (const std::exception &) {
                    ++errors;
                }
            }
        });
    for (auto &w : workers) w.join();
    stop = true;
    watcher.join();

    CHECK(errors == 0);
    CHECK(wrong == 0);
    CHECK(done == 6 * 60);
    CHECK(max_sampled <= 4);
    CHECK(f.rec.max_open <= 4);
    const TenantPoolStats s = f.tm->stats();
    CHECK(s.open_pools <= 4);
    CHECK(s.evicted_lru > 0);
    CHECK(static_cast<uint64_t>(f.rec.lru.load()) == s.evicted_lru);
    CHECK(s.created == static_cast<uint64_t>(f.rec.created.load()));
    CHECK(s.in_use == 0);

    // Metrics and health list the tenant pools with their tenant.
    MetricsSnapshot m = f.db->metrics();
    int tenant_pools = 0;
    for (const auto &p : m.pools)
        if (!p.tenant.empty()) {
            ++tenant_pools;
            CHECK(p.connection == "primary");
            CHECK(p.max == 1);
        }
    CHECK(tenant_pools == s.open_pools);
    CHECK(m.pools_active >= tenant_pools);
    CHECK(m.pools_active <= tenant_pools + 1); // + the template's own pool, when it was used
    HealthReport h = f.db->health_check();
    int healthy_tenants = 0;
    for (const auto &p : h.pools)
        if (!p.tenant.empty() && p.status != "unhealthy") ++healthy_tenants;
    CHECK(healthy_tenants == tenant_pools);
    CHECK(h.to_json().find("\"tenantId\":\"lru") != std::string::npos);
    const std::string text = f.db->prometheus_text();
    CHECK(text.find("ilana_pool_connections{connection=\"primary\",tenant=\"lru") != std::string::npos);
    CHECK(text.find("ilana_pools_active " + std::to_string(f.db->metrics().pools_active) + "\n") != std::string::npos);
    CHECK(text.find("ilana_pools_max 5\n") != std::string::npos); // 1 connection + maxPools 4
    // LRU evictions are counted in the metrics and the exposition.
    CHECK(m.tenant_pools_evicted_lru == s.evicted_lru);
    CHECK(text.find("ilana_tenant_pools_evicted_total{reason=\"lru\"} " + std::to_string(s.evicted_lru) + "\n") !=
          std::string::npos);
    // An observer (metrics, health) is not a user: nothing stays in use
    // (health's ping threads let go just after the report is made).
    CHECK(eventually([&] { return f.tm->stats().in_use == 0; }));
}

void suite_ttl(const Backend &b) {
    Fixture f(b, 10, 300);
    f.create({"ttl_a", "ttl_b"}, false);
    f.tm->get("ttl_a").query("SELECT 1");
    CHECK(f.tm->is_warm("ttl_a"));
    const auto t0 = steady_clock::now();
    REQUIRE(eventually([&] { return !f.tm->is_warm("ttl_a"); }, 3000ms));
    CHECK(steady_clock::now() - t0 >= 250ms);
    CHECK(eventually([&] { return f.rec.was_evicted("primary@ttl_a", "ttl_expired"); }));

    {
        // A Connection held past the TTL keeps its pool; so does a Session.
        Connection c = f.tm->get("ttl_b");
        std::this_thread::sleep_for(700ms);
        CHECK(f.tm->is_warm("ttl_b"));
        Session s = c.acquire();
        std::this_thread::sleep_for(400ms);
        CHECK(f.tm->is_warm("ttl_b"));
        s.query("SELECT 1");
    }
    REQUIRE(eventually([&] { return !f.tm->is_warm("ttl_b"); }, 3000ms));
    CHECK(f.tm->stats().evicted_ttl == 2);
    CHECK(f.db->metrics().tenant_pools_evicted_ttl == 2);
    CHECK(f.db->prometheus_text().find("ilana_tenant_pools_evicted_total{reason=\"ttl\"} 2\n") != std::string::npos);
    // The sweeper leaves the table first and closes the pool (the hook)
    // after, outside the table's lock: the hook may come a moment later.
    CHECK(eventually([&] { return f.rec.ttl == 2; }));
    // Back on demand.
    f.tm->get("ttl_a").query("SELECT 1");
    CHECK(f.tm->is_warm("ttl_a"));
}

void suite_drift(const Backend &b) {
    Fixture f(b, 10, 0);
    f.create({"da", "db", "dc"});
    SchemaDriftResult clean = f.tm->drift();
    CHECK(clean.reference_tenant == "da");
    CHECK(clean.total == 3);
    CHECK(clean.no_drift == 3);
    CHECK(clean.with_drift == 0);
    CHECK(clean.error == 0);

    f.tm->get("dc").execute("ALTER TABLE users ADD COLUMN nickname VARCHAR(20)");
    f.tm->get("dc").execute(b.drop_index);
    SchemaDriftResult r = f.tm->drift();
    CHECK(r.total == 3);
    CHECK(r.no_drift == 2);
    CHECK(r.with_drift == 1);
    const TenantSchemaDrift *dc = nullptr;
    for (const auto &d : r.details)
        if (d.tenant_id == "dc") dc = &d;
    REQUIRE(dc != nullptr);
    CHECK(dc->has_drift);
    CHECK(dc->namespace_name == f.tm->namespace_of("dc"));
    REQUIRE(dc->tables.size() == 1);
    const TableDrift &t = dc->tables[0];
    CHECK(t.table == "users");
    CHECK(t.status == "drifted");
    REQUIRE(t.columns.size() == 1);
    CHECK(t.columns[0].column == "nickname");
    CHECK(t.columns[0].type == "extra");
    REQUIRE(t.indexes.size() == 1);
    CHECK(t.indexes[0].index == "ix_users_name");
    CHECK(t.indexes[0].type == "missing");
    CHECK(dc->issue_count == 2);
    const std::string j = r.to_json();
    CHECK(j.find("\"withDrift\":1") != std::string::npos);
    CHECK(j.find("\"referenceTenant\":\"da\"") != std::string::npos);

    // With dc as the reference, the other two drift the other way round.
    DriftOptions o;
    o.reference = "dc";
    SchemaDriftResult r2 = f.tm->drift(o);
    CHECK(r2.with_drift == 2);
    TenantSchemaDrift one = f.tm->compare("da", "dc");
    REQUIRE(one.tables.size() == 1);
    CHECK(one.tables[0].columns[0].type == "missing");
    CHECK(one.tables[0].indexes[0].type == "extra");

    // A tenant that cannot be introspected is an error entry, not an exception.
    o = DriftOptions{};
    o.tenant_ids = {"da", "bad id!"};
    SchemaDriftResult r3 = f.tm->drift(o);
    CHECK(r3.error == 1);
    CHECK(r3.no_drift == 1);
}

void suite_clone(const Backend &b) {
    Fixture f(b, 10, 0);
    f.create({"src"});
    const std::vector<std::string> emails = {"ann@acme.test", "bob@acme.test", "cy@acme.test", "di@acme.test",
                                             "ed@acme.test"};
    const std::vector<std::string> names = {"Ann Real", "Bob Real", "Cy Real", "Di Real", "Ed Real"};
    const std::vector<std::string> phones = {"+44 1", "+44 2", "+44 3", "+44 4", "+44 5"};
    TenantSeedResult seeded = f.tm->seed_tenant("src", [&](Connection &c, const std::string &id) {
        CHECK(id == "src");
        for (size_t i = 0; i < emails.size(); ++i)
            c.execute("INSERT INTO users (id, email, name, phone, score) VALUES (?, ?, ?, ?, ?)",
                      {static_cast<int>(i + 1), emails[i], names[i], phones[i], Value::decimal(std::to_string(i) + ".50")});
    });
    REQUIRE(seeded.success);

    CloneOptions opts;
    opts.include_data = true;
    opts.batch_rows = 2; // several batches
    opts.anonymize = AnonymizeOptions::from_json(R"({"users": {"email": "email", "phone": null, "name": "name"}})");
    CloneResult r = f.tm->clone_tenant("src", "dst", opts);
    CHECK(r.tables == std::vector<std::string>{"ilana_migrations", "users"});
    CHECK(r.rows_copied == 6); // 5 users + 1 migration row
    CHECK(r.views.empty());

    // The clone has the same schema...
    TenantSchemaDrift d = f.tm->compare("dst", "src");
    CHECK_FALSE(d.has_drift);
    for (const auto &t : d.tables)
        for (const auto &c : t.columns) FAIL_CHECK(t.table << ": " << c.description);
    DriftOptions all_tables;
    all_tables.exclude_tables = std::vector<std::string>{};
    CHECK_FALSE(f.tm->compare("dst", "src", all_tables).has_drift);
    // ...the same migration state...
    for (const auto &s : f.tm->migrator("dst").status()) CHECK(s.state == MigrationState::applied);
    // ...and rows with none of the original personal data.
    Result rows = f.tm->get("dst").query("SELECT id, email, name, phone, score FROM users ORDER BY id");
    REQUIRE(rows.size() == 5);
    std::set<std::string> seen_emails;
    for (size_t i = 0; i < rows.size(); ++i) {
        Row row = rows[i];
        CHECK(row["id"].as<int64_t>() == static_cast<int64_t>(i + 1));
        const std::string email = row["email"].as<std::string>();
        CHECK(std::find(emails.begin(), emails.end(), email) == emails.end());
        CHECK(email.find("@example.invalid") != std::string::npos);
        seen_emails.insert(email);
        const auto name = row["name"].as<std::optional<std::string>>();
        REQUIRE(name);
        CHECK(std::find(names.begin(), names.end(), *name) == names.end());
        CHECK(row["phone"].is_null());
        CHECK(row["score"].to_string().rfind(std::to_string(i) + ".5", 0) == 0);
    }
    CHECK(seen_emails.size() == 5); // still unique (ux_users_email holds)

    // Schema only: empty tables, migration rows still copied.
    CloneResult empty = f.tm->clone_tenant("src", "dst2");
    CHECK(empty.rows_copied == 1);
    CHECK(f.tm->get("dst2").query("SELECT COUNT(*) AS n FROM users").front()["n"].as<int64_t>() == 0);
    CHECK_FALSE(f.tm->compare("dst2", "src").has_drift);

    // A target that has tables is refused and left as it was.
    CHECK_THROWS_WITH(f.tm->clone_tenant("src", "dst"), Catch::Contains("already has tables"));
    CHECK(f.tm->exists("dst"));
    CHECK(f.tm->get("dst").query("SELECT COUNT(*) AS n FROM users").front()["n"].as<int64_t>() == 5);
    // A rule naming a column that does not exist is an error before anything is made.
    opts.anonymize = AnonymizeOptions::from_json(R"({"users": {"mail": "email"}})");
    CHECK_THROWS_WITH(f.tm->clone_tenant("src", "dst3", opts), Catch::Contains("users.mail"));
    CHECK_FALSE(f.tm->exists("dst3"));
    CHECK_THROWS_WITH(f.tm->clone_tenant("nosuch", "dst3"), Catch::Contains("does not exist"));
}


// users (generated ids), orders (generated ids, foreign key to users, CHECK,
// UNIQUE, an index), a view joining them and a view over that view (created
// second but named first: dependency order, not name order). User 3 is
// deleted, so the next id (4) is the counter's, not max(id) + 1.
struct RelatedSchema {
    std::vector<std::string> statements;
};

RelatedSchema related_schema(const Backend &b) {
    std::vector<std::string> s;
    if (b.client == "postgres") {
        s = {"CREATE TABLE users (id serial PRIMARY KEY, email varchar(100) NOT NULL UNIQUE, name varchar(100))",
             "CREATE TABLE orders (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id integer NOT NULL "
             "REFERENCES users (id), total numeric(10,2) NOT NULL CHECK (total >= 0), ref varchar(20) NOT NULL UNIQUE)"};
    } else if (b.client == "mysql") {
        s = {"CREATE TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(100) NOT NULL UNIQUE, name "
             "VARCHAR(100))",
             "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, user_id INT NOT NULL, total DECIMAL(10,2) NOT "
             "NULL CHECK (total >= 0), ref VARCHAR(20) NOT NULL UNIQUE, CONSTRAINT fk_orders_user FOREIGN KEY "
             "(user_id) REFERENCES users (id))"};
    } else {
        s = {"CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL UNIQUE, name TEXT)",
             "CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL REFERENCES users "
             "(id), total NUMERIC NOT NULL CHECK (total >= 0), ref TEXT NOT NULL UNIQUE)"};
    }
    s.push_back("CREATE INDEX ix_orders_total ON orders (total)");
    s.push_back("CREATE VIEW user_totals AS SELECT u.id, u.email, SUM(o.total) AS total FROM users u JOIN orders o "
                "ON o.user_id = u.id GROUP BY u.id, u.email");
    s.push_back("CREATE VIEW big_spenders AS SELECT id, email FROM user_totals WHERE total > 10");
    s.push_back("INSERT INTO users (email, name) VALUES ('ann@acme.test', 'Ann'), ('bob@acme.test', 'Bob'), "
                "('cy@acme.test', 'Cy')");
    s.push_back("DELETE FROM users WHERE id = 3");
    s.push_back("INSERT INTO orders (user_id, total, ref) VALUES (1, 5, 'r1'), (1, 7, 'r2'), (2, 20, 'r3')");
    return {s};
}

int64_t count(Connection c, const std::string &sql) { return c.query(sql).front()["n"].as<int64_t>(); }

void suite_clone_related(const Backend &b) {
    Fixture f(b, 10, 0);
    f.create({"src"}, false);
    Connection src = f.tm->get("src");
    for (const auto &sql : related_schema(b).statements) src.execute(sql);

    CloneOptions opts;
    opts.include_data = true;
    opts.anonymize = AnonymizeOptions::from_json(R"({"users": {"email": "email"}})");
    CloneResult r = f.tm->clone_tenant("src", "dst", opts);
    CHECK(std::set<std::string>(r.tables.begin(), r.tables.end()) == std::set<std::string>{"orders", "users"});
    CHECK(r.views == std::vector<std::string>{"user_totals", "big_spenders"});
    CHECK(r.rows_copied == 5);
    Connection dst = f.tm->get("dst");

    // Rows equal, but the anonymized column.
    const std::string orders_sql = "SELECT id, user_id, total, ref FROM orders ORDER BY id";
    Result so = src.query(orders_sql), dso = dst.query(orders_sql);
    REQUIRE(dso.size() == 3);
    for (size_t i = 0; i < 3; ++i)
        for (const char *col : {"id", "user_id", "total", "ref"}) CHECK(so[i][col].to_string() == dso[i][col].to_string());
    Result du = dst.query("SELECT id, email, name FROM users ORDER BY id");
    REQUIRE(du.size() == 2);
    CHECK(du[0]["id"].as<int64_t>() == 1);
    CHECK(du[1]["id"].as<int64_t>() == 2);
    CHECK(du[0]["name"].as<std::string>() == "Ann");
    CHECK(du[0]["email"].as<std::string>() == "anon1@example.invalid");
    CHECK(du[1]["email"].as<std::string>() == "anon2@example.invalid");

    // The counters came along: the next ids are the source's next ids.
    dst.execute("INSERT INTO users (email, name) VALUES ('new@acme.test', 'New')");
    CHECK(count(dst, "SELECT id AS n FROM users WHERE email = 'new@acme.test'") == 4);
    dst.execute("INSERT INTO orders (user_id, total, ref) VALUES (4, 50, 'r4')");
    CHECK(count(dst, "SELECT id AS n FROM orders WHERE ref = 'r4'") == 4);
    // Foreign key, CHECK and UNIQUE hold in the clone.
    CHECK_THROWS_AS(dst.execute("INSERT INTO orders (user_id, total, ref) VALUES (999, 1, 'r5')"), Error);
    CHECK_THROWS_AS(dst.execute("INSERT INTO orders (user_id, total, ref) VALUES (1, -1, 'r6')"), Error);
    CHECK_THROWS_AS(dst.execute("INSERT INTO orders (user_id, total, ref) VALUES (1, 1, 'r1')"), Error);
    CHECK(count(dst, "SELECT COUNT(*) AS n FROM orders") == 4);
    // The views read the clone's tables, not the source's.
    CHECK(count(dst, "SELECT COUNT(*) AS n FROM user_totals") == 3);
    CHECK(count(src, "SELECT COUNT(*) AS n FROM user_totals") == 2);
    CHECK(count(dst, "SELECT COUNT(*) AS n FROM big_spenders WHERE email = 'new@acme.test'") == 1);
    CHECK(count(src, "SELECT COUNT(*) AS n FROM big_spenders") == 2); // Ann 12, Bob 20
    // The source is untouched.
    CHECK(count(src, "SELECT COUNT(*) AS n FROM users") == 2);
    CHECK(count(src, "SELECT COUNT(*) AS n FROM users WHERE email LIKE '%@example.invalid'") == 0);
    // The source's own counter goes on from where it was.
    src.execute("INSERT INTO users (email) VALUES ('src-new@acme.test')");
    CHECK(count(src, "SELECT id AS n FROM users WHERE email = 'src-new@acme.test'") == 4);
    CHECK_FALSE(f.tm->compare("dst", "src").has_drift);

    // Schema only: the same objects, no rows, ids start afresh.
    CloneResult empty = f.tm->clone_tenant("src", "bare");
    CHECK(empty.rows_copied == 0);
    CHECK(empty.views.size() == 2);
    Connection bare = f.tm->get("bare");
    CHECK(count(bare, "SELECT COUNT(*) AS n FROM users") == 0);
    bare.execute("INSERT INTO users (email) VALUES ('first@acme.test')");
    CHECK(count(bare, "SELECT id AS n FROM users") == 1);
    bare.execute("INSERT INTO orders (user_id, total, ref) VALUES (1, 11, 'b1')");
    CHECK(count(bare, "SELECT id AS n FROM orders") == 1);
    CHECK_THROWS_AS(bare.execute("INSERT INTO orders (user_id, total, ref) VALUES (7, 1, 'b2')"), Error);
    CHECK(count(bare, "SELECT COUNT(*) AS n FROM big_spenders") == 1);
    CHECK_FALSE(f.tm->compare("bare", "src").has_drift);
}


// A tenant id that, with the prefix, names one of the server's own
// namespaces is refused by every entry point before any SQL, and a list
// never shows one.
void suite_system_namespace(const Backend &b, const std::string &prefix, const std::string &id,
                            const std::string &system_name) {
    TempDir dir;
    dir.write("ilana.config.json", R"({"connections": {"primary": {"client": ")" + b.client +
                                       R"(", "connection": )" + b.connection("") + R"(}},
        "tenants": {"connection": "primary", "isolation": ")" + b.isolation + R"(", "schemaPrefix": ")" + prefix +
                                       R"("}})");
    Recorder rec;
    Database db = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, rec.hooks()});
    TenantManager tm(db);
    const int before = rec.queries;
    auto refused = [&](auto &&call) {
        try {
            call();
            FAIL_CHECK("accepted " << system_name);
        } catch (const Error &e) {
            CHECK_THAT(e.what(), Catch::Contains("names \"" + system_name + "\", a system"));
            CHECK(e.error_class() == ErrorClass::config);
        }
    };
    refused([&] { tm.namespace_of(id); });
    refused([&] { tm.get(id); });
    refused([&] { tm.get_validated(id); });
    refused([&] { tm.create_tenant(id); });
    refused([&] { tm.drop_tenant(id); });
    refused([&] { tm.exists(id); });
    refused([&] { tm.migrator(id); });
    refused([&] { tm.introspect(id); });
    refused([&] { tm.clone_tenant(id, "copy"); });
    CHECK_FALSE(tm.migrate_tenant(id).success);
    CHECK_FALSE(tm.seed_tenant(id, [](Connection &, const std::string &) {}).success);
    CHECK(tm.warmup({id}).failed == 1);
    TenantsMigrateOptions mo;
    mo.tenant_ids = {id};
    CHECK(tm.migrate_all(mo).failed == 1);
    CHECK(rec.queries == before);
    // Listing reaches the server but never shows the system namespace.
    const auto ids = tm.discover();
    CHECK(std::find(ids.begin(), ids.end(), id) == ids.end());
}

void suite_injection(const Backend &b) {
    Fixture f(b, 10, 0);
    f.create({"safe"});
    const std::string bad = "x\"; DROP SCHEMA public; --";
    const std::string shown = "x\\\"; DROP SCHEMA public; --";
    const int before = f.rec.queries;
    auto rejected = [&](auto &&call) {
        try {
            call();
            FAIL_CHECK("accepted " << bad);
        } catch (const Error &e) {
            CHECK(std::string(e.what()).find(shown) != std::string::npos);
            CHECK(e.error_class() == ErrorClass::config);
        }
    };
    rejected([&] { f.tm->get(bad); });
    rejected([&] { f.tm->get_validated(bad); });
    rejected([&] { f.tm->get_async(bad).get(); });
    rejected([&] { f.tm->create_tenant(bad); });
    rejected([&] { f.tm->drop_tenant(bad); });
    rejected([&] { f.tm->exists(bad); });
    rejected([&] { f.tm->namespace_of(bad); });
    rejected([&] { f.tm->migrator(bad); });
    rejected([&] { f.tm->clone_tenant("safe", bad); });
    rejected([&] { f.tm->introspect(bad); });
    rejected([&] { f.tm->evict(bad); });
    // Batch operations report it per tenant.
    WarmupResult w = f.tm->warmup({bad, "safe"});
    CHECK(w.failed == 1);
    CHECK(w.succeeded + w.already_warm == 1);
    CHECK(w.details[0].error.find(shown) != std::string::npos);
    bool called = false;
    TenantSeedResult s = f.tm->seed_tenant(bad, [&](Connection &, const std::string &) { called = true; });
    CHECK_FALSE(s.success);
    CHECK_FALSE(called);
    TenantMigrateResult m = f.tm->migrate_tenant(bad);
    CHECK_FALSE(m.success);
    CHECK(m.error.find(shown) != std::string::npos);
    // No statement ever reached a server for the bad id (warmup's ping of
    // "safe" is not a statement either).
    CHECK(f.rec.queries == before);
    CHECK(f.tm->get("safe").query("SELECT COUNT(*) AS n FROM users").front()["n"].as<int64_t>() == 0);
}

} // namespace

// ---- SQLite (file isolation) ----------------------------------------------------

TEST_CASE("tenants (SQLite): maxPools under threads, LRU eviction, metrics and health", "[tenants][sqlite][threads]") {
    suite_lru_threads(sqlite_backend());
}
TEST_CASE("tenants (SQLite): TTL eviction", "[tenants][sqlite]") { suite_ttl(sqlite_backend()); }
TEST_CASE("tenants (SQLite): schema drift after altering one tenant", "[tenants][sqlite]") {
    suite_drift(sqlite_backend());
}
TEST_CASE("tenants (SQLite): clone with anonymization", "[tenants][sqlite]") { suite_clone(sqlite_backend()); }
TEST_CASE("tenants (SQLite): an injection id is rejected everywhere", "[tenants][sqlite]") {
    suite_injection(sqlite_backend());
}

TEST_CASE("tenants (SQLite): clone carries AUTOINCREMENT counters, foreign keys, checks, indexes and views",
          "[tenants][sqlite][clone]") {
    suite_clone_related(sqlite_backend());
}
TEST_CASE("tenants (PostgreSQL): clone carries serial and identity sequences, keys, checks, indexes and views",
          "[tenants][pg][clone]") {
    ILANA_REQUIRE_PG();
    suite_clone_related(pg_backend());
    // GENERATED ALWAYS is restored after the copy.
    Fixture f(pg_backend(), 5, 0);
    f.create({"idsrc"}, false);
    f.tm->get("idsrc").execute("CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text)");
    f.tm->get("idsrc").execute("INSERT INTO t (v) VALUES ('a'), ('b')");
    CloneOptions opts;
    opts.include_data = true;
    f.tm->clone_tenant("idsrc", "iddst", opts);
    CHECK_THROWS_WITH(f.tm->get("iddst").execute("INSERT INTO t (id, v) VALUES (10, 'x')"), Catch::Contains("GENERATED ALWAYS"));
    f.tm->get("iddst").execute("INSERT INTO t (v) VALUES ('c')");
    CHECK(count(f.tm->get("iddst"), "SELECT max(id) AS n FROM t") == 3);
    // What the driver does not carry is an error naming it, and the target goes.
    f.tm->get("idsrc").execute("CREATE TYPE mood AS ENUM ('ok', 'sad')");
    CHECK_THROWS_WITH(f.tm->clone_tenant("idsrc", "idbad"), Catch::Contains("type mood"));
    CHECK_FALSE(f.tm->exists("idbad"));
}
TEST_CASE("tenants (MariaDB): clone carries AUTO_INCREMENT, keys, checks, foreign keys, indexes and views",
          "[tenants][mysql][clone]") {
    ILANA_REQUIRE_MYSQL();
    suite_clone_related(mysql_backend());
}

TEST_CASE("tenants (PostgreSQL): system schemas are never tenants, whatever the prefix", "[tenants][pg][system]") {
    ILANA_REQUIRE_PG();
    suite_system_namespace(pg_backend(), "pu", "blic", "public");
    suite_system_namespace(pg_backend(), "pg_", "catalog", "pg_catalog");
    suite_system_namespace(pg_backend(), "pg_", "toast", "pg_toast");
    suite_system_namespace(pg_backend(), "pg_temp_", "1", "pg_temp_1");
    suite_system_namespace(pg_backend(), "information_", "schema", "information_schema");
}
TEST_CASE("tenants (MariaDB): system databases are never tenants, whatever the prefix", "[tenants][mysql][system]") {
    ILANA_REQUIRE_MYSQL();
    suite_system_namespace(mysql_backend(), "my", "sql", "mysql");
    suite_system_namespace(mysql_backend(), "information_", "schema", "information_schema");
    suite_system_namespace(mysql_backend(), "performance_", "schema", "performance_schema");
    suite_system_namespace(mysql_backend(), "s", "ys", "sys");
    suite_system_namespace(mysql_backend(), "INFORMATION_", "SCHEMA", "INFORMATION_SCHEMA");
}
TEST_CASE("tenants: an empty schemaPrefix is refused at config load, file isolation needs none",
          "[tenants][sqlite][system]") {
    TempDir dir;
    for (const char *isolation : {"schema", "database"}) {
        dir.write("c.json", std::string(R"({"connections": {"main": {"client": "sqlite", "connection": {"filename": "./a.db"}}},
            "tenants": {"connection": "main", "isolation": ")") + isolation + R"(", "schemaPrefix": ""}})");
        try {
            Database::open(dir.file("c.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
            FAIL_CHECK("accepted an empty schemaPrefix with isolation " << isolation);
        } catch (const ConfigError &e) {
            CHECK(e.json_path() == "/tenants/schemaPrefix");
            CHECK_THAT(e.what(), Catch::Contains("would be a tenant"));
        }
    }
    dir.write("f.json", R"({"connections": {"main": {"client": "sqlite", "connection": {"filename": "./t/{tenant}.db"}}},
        "tenants": {"connection": "main", "isolation": "file", "schemaPrefix": ""}})");
    Database db = Database::open(dir.file("f.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    TenantManager tm(db);
    tm.create_tenant("a");
    CHECK(tm.discover() == std::vector<std::string>{"a"});
}

// ---- PostgreSQL (schema isolation) ----------------------------------------------

TEST_CASE("tenants (PostgreSQL): maxPools under threads, LRU eviction, metrics and health",
          "[tenants][pg][threads]") {
    ILANA_REQUIRE_PG();
    suite_lru_threads(pg_backend());
}
TEST_CASE("tenants (PostgreSQL): TTL eviction", "[tenants][pg]") {
    ILANA_REQUIRE_PG();
    suite_ttl(pg_backend());
}
TEST_CASE("tenants (PostgreSQL): schema drift after altering one tenant", "[tenants][pg]") {
    ILANA_REQUIRE_PG();
    suite_drift(pg_backend());
}
TEST_CASE("tenants (PostgreSQL): clone with anonymization", "[tenants][pg]") {
    ILANA_REQUIRE_PG();
    suite_clone(pg_backend());
}
TEST_CASE("tenants (PostgreSQL): an injection id is rejected everywhere", "[tenants][pg]") {
    ILANA_REQUIRE_PG();
    suite_injection(pg_backend());
}

// ---- MariaDB (database isolation) -------------------------------------------------

TEST_CASE("tenants (MariaDB): maxPools under threads, LRU eviction, metrics and health",
          "[tenants][mysql][threads]") {
    ILANA_REQUIRE_MYSQL();
    suite_lru_threads(mysql_backend());
}
TEST_CASE("tenants (MariaDB): TTL eviction", "[tenants][mysql]") {
    ILANA_REQUIRE_MYSQL();
    suite_ttl(mysql_backend());
}
TEST_CASE("tenants (MariaDB): schema drift after altering one tenant", "[tenants][mysql]") {
    ILANA_REQUIRE_MYSQL();
    suite_drift(mysql_backend());
}
TEST_CASE("tenants (MariaDB): clone with anonymization", "[tenants][mysql]") {
    ILANA_REQUIRE_MYSQL();
    suite_clone(mysql_backend());
}
TEST_CASE("tenants (MariaDB): an injection id is rejected everywhere", "[tenants][mysql]") {
    ILANA_REQUIRE_MYSQL();
    suite_injection(mysql_backend());
}

// ---- semantics that are the same everywhere (SQLite: no server needed) ----------

TEST_CASE("tenants: when every pool is in use, get() waits for a release, then times out", "[tenants][sqlite][threads]") {
    Fixture f(sqlite_backend(), 2, 0, R"({"min": 0, "max": 1, "acquireTimeoutMillis": 1500})");
    f.create({"wa", "wb", "wc"}, false);
    std::optional<Connection> a = f.tm->get("wa");
    // A Session pins its pool even when the Connection it came from is gone.
    std::optional<Session> b = f.tm->get("wb").acquire();
    std::atomic<bool> got{false};
    std::thread waiter([&] {
        f.tm->get("wc").query("SELECT 1");
        got = true;
    });
    REQUIRE(eventually([&] { return f.tm->stats().waits == 1; }));
    std::this_thread::sleep_for(100ms);
    CHECK_FALSE(got);
    CHECK(f.tm->stats().open_pools == 2);
    a.reset(); // wa is free: it is the victim
    waiter.join();
    CHECK(got);
    CHECK(f.rec.was_evicted("primary@wa", "lru"));
    CHECK(f.tm->is_warm("wb"));
    CHECK(f.tm->is_warm("wc"));

    // Everything pinned until the timeout: PoolTimeout naming maxPools.
    Connection c = f.tm->get("wc");
    const auto t0 = steady_clock::now();
    try {
        f.tm->get("wa");
        FAIL("no timeout");
    } catch (const PoolTimeout &e) {
        const auto waited = duration_cast<milliseconds>(steady_clock::now() - t0).count();
        CHECK(waited >= 1400);
        CHECK(waited < 3000);
        const std::string m = e.what();
        CHECK(m.find("[primary@wa] tenant pools exhausted") != std::string::npos);
        CHECK(m.find("maxPools=2") != std::string::npos);
        CHECK(e.error_class() == ErrorClass::timeout);
    }
    CHECK(f.tm->stats().wait_timeouts == 1);
    // A pool in use cannot be evicted or dropped.
    CHECK_THROWS_WITH(f.tm->evict("wc"), Catch::Contains("in use"));
    CHECK_THROWS_WITH(f.tm->drop_tenant("wb"), Catch::Contains("in use"));
    b.reset();
    CHECK(f.tm->evict("wb"));
    CHECK(f.rec.was_evicted("primary@wb", "manual"));
    CHECK_FALSE(f.tm->evict("wb"));
}

TEST_CASE("tenants: handles share one set of pools per Database, warmup, async get, close", "[tenants][sqlite]") {
    Fixture f(sqlite_backend(), 3, 0);
    f.create({"h1", "h2", "h3", "h4"}, false);
    TenantManager other(*f.db);
    f.tm->get("h1").query("SELECT 1");
    CHECK(other.is_warm("h1"));
    CHECK(other.get("h1").name() == "primary@h1");
    CHECK(f.tm->namespace_of("h1") == f.dir.file("tenants/" + f.prefix + "h1.sqlite"));

    std::vector<std::string> progress;
    WarmupOptions wo;
    wo.concurrency = 2;
    wo.on_progress = [&](const std::string &id, const std::string &status) { progress.push_back(id + ":" + status); };
    WarmupResult w = f.tm->warmup({"h1", "h2"}, wo);
    CHECK(w.total == 2);
    CHECK(w.already_warm == 1);
    CHECK(w.succeeded == 1);
    CHECK(w.failed == 0);
    CHECK(w.details[0].tenant_id == "h1");
    CHECK(w.details[0].status == "already_warm");
    CHECK(progress.size() == 2);

    Connection c = f.tm->get_async("h3").get();
    CHECK(c.query("SELECT 1 AS one").front()["one"].as<int>() == 1);
    CHECK(f.tm->shared().name() == "primary");
    CHECK(f.tm->discover() == std::vector<std::string>{"h1", "h2", "h3", "h4"});
    CHECK(f.tm->discovery_source() == "namespace");
    CHECK(f.tm->warm_tenants() == std::vector<std::string>{"h1", "h2", "h3"});

    // Seeding every tenant, one failing.
    SeedOptions so;
    so.concurrency = 3;
    SeedResult sr = f.tm->seed_all(
        [](Connection &conn, const std::string &id) {
            if (id == "h4") throw std::runtime_error("no seed for h4");
            conn.execute("CREATE TABLE seeded (v TEXT)");
            conn.execute("INSERT INTO seeded VALUES (?)", {id});
        },
        so);
    CHECK(sr.total == 4);
    CHECK(sr.succeeded == 3);
    CHECK(sr.failed == 1);
    CHECK(sr.details[3].error == "no seed for h4");
    CHECK(f.tm->get("h2").query("SELECT v FROM seeded").front()["v"].as<std::string>() == "h2");
    CHECK(f.tm->stats().open_pools <= 3);

    f.tm->close();
    CHECK(f.tm->stats().open_pools == 0);
    CHECK_THROWS_WITH(other.get("h1"), Catch::Contains("closed"));
}

TEST_CASE("tenants: Database::close closes the tenant pools too, health never opens the file template",
          "[tenants][sqlite]") {
    Fixture f(sqlite_backend(), 3, 0);
    f.create({"c1", "c2"}, false);
    f.tm->get("c1").query("SELECT 1");
    f.tm->get("c2").query("SELECT 1");
    REQUIRE(f.tm->stats().open_pools == 2);

    // The template's filename holds {tenant}: a health check of the default
    // set reports the tenant pools and leaves the template alone (pinging
    // it would create a file literally named "<prefix>{tenant}.sqlite").
    HealthReport h = f.db->health_check({});
    CHECK(h.healthy);
    int tenant_pools = 0;
    for (const auto &p : h.pools) {
        CHECK(p.connection == "primary");
        CHECK_FALSE(p.tenant.empty());
        ++tenant_pools;
    }
    CHECK(tenant_pools == 2);
    CHECK_FALSE(std::filesystem::exists(f.dir.file("tenants/" + f.prefix + "{tenant}.sqlite")));
    HealthOptions named;
    named.connections = {"primary"};
    CHECK_THROWS_WITH(f.db->health_check(named), Catch::Contains("{tenant}"));

    f.db->close();
    CHECK(f.tm->stats().open_pools == 0);
    CHECK(f.rec.was_evicted("primary@c1", "shutdown"));
    CHECK(f.rec.was_evicted("primary@c2", "shutdown"));
    CHECK_THROWS_WITH(f.tm->get("c1"), Catch::Contains("closed"));
}

TEST_CASE("tenants: migrate every tenant, one failing does not stop the others", "[tenants][sqlite]") {
    Fixture f(sqlite_backend(), 3, 0);
    f.create({"m1", "m2", "m3", "m4", "m5"}, false);
    // m3 already has a users table: its migration fails.
    f.tm->get("m3").execute("CREATE TABLE users (id INTEGER)");
    TenantsMigrateOptions o;
    o.concurrency = 4;
    std::atomic<int> progressed{0};
    o.on_progress = [&](const TenantMigrateResult &) { ++progressed; };
    TenantsMigrateResult r = f.tm->migrate_all(o);
    CHECK(r.total == 5);
    CHECK(r.succeeded == 4);
    CHECK(r.failed == 1);
    CHECK(progressed == 5);
    for (const auto &d : r.details) {
        if (d.tenant_id == "m3") {
            CHECK_FALSE(d.success);
            CHECK(d.error.find("users") != std::string::npos);
        } else {
            CHECK(d.success);
            CHECK(d.applied.size() == 1);
        }
    }
    CHECK(r.to_json().find("\"failed\":1") != std::string::npos);
    // Again: nothing left for the four.
    TenantsMigrateResult again = f.tm->migrate_all(o);
    for (const auto &d : again.details)
        if (d.tenant_id != "m3") CHECK(d.applied.empty());
}

TEST_CASE("tenants: discovery from a list and from a query", "[tenants][sqlite]") {
    TempDir dir;
    dir.write("ilana.config.json", R"({"default": "meta", "connections": {
        "main": {"client": "sqlite", "connection": {"filename": "./t/{tenant}.db"}},
        "meta": {"client": "sqlite", "connection": {"filename": "./meta.db"}}},
      "tenants": {"connection": "main", "isolation": "file", "discovery": {"query": "SELECT id FROM tenants", "connection": "meta"}}})");
    Database db = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    db.on("meta").execute("CREATE TABLE tenants (id TEXT)");
    db.on("meta").execute("INSERT INTO tenants VALUES ('b'), ('a'), ('not valid!'), (NULL), ('a')");
    TenantManager tm(db);
    CHECK(tm.discovery_source() == "query");
    CHECK(tm.discover() == std::vector<std::string>{"a", "b"});

    dir.write("list.json", R"({"connections": {"main": {"client": "sqlite", "connection": {"filename": "./t/{tenant}.db"}}},
      "tenants": {"connection": "main", "isolation": "file", "discovery": {"list": ["z", "y"]}}})");
    Database db2 = Database::open(dir.file("list.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    TenantManager tm2(db2);
    CHECK(tm2.discovery_source() == "list");
    CHECK(tm2.discover() == std::vector<std::string>{"y", "z"});
}

TEST_CASE("tenants: the config must match the driver's isolation", "[tenants][sqlite]") {
    TempDir dir;
    auto open = [&](const std::string &json) {
        dir.write("c.json", json);
        return Database::open(dir.file("c.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    };
    Database wrong = open(R"({"connections": {"main": {"client": "sqlite", "connection": {"filename": "./{tenant}.db"}}},
        "tenants": {"connection": "main", "isolation": "schema"}})");
    try {
        TenantManager tm(wrong);
        FAIL("accepted");
    } catch (const ConfigError &e) {
        const std::string m = e.what();
        CHECK(m.find("\"isolation\": \"schema\" does not match") != std::string::npos);
        CHECK(m.find("set \"isolation\": \"file\"") != std::string::npos);
        CHECK(e.json_path() == "/tenants/isolation");
    }
    Database no_token = open(R"({"connections": {"main": {"client": "sqlite", "connection": {"filename": "./app.db"}}},
        "tenants": {"connection": "main", "isolation": "file"}})");
    CHECK_THROWS_WITH(TenantManager(no_token), Catch::Contains("containing {tenant}") && Catch::Contains("./app.db"));
    Database none = open(R"({"connections": {"main": {"client": "sqlite", "connection": {"filename": "./app.db"}}}})");
    CHECK_THROWS_WITH(TenantManager(none), Catch::Contains("no \"tenants\" section"));
}

TEST_CASE("tenants: PostgreSQL refuses database isolation with a clear error", "[tenants][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    dir.write("c.json", R"({"connections": {"pg": {"client": "postgres", "connection": )" +
                            ilana_test::pg_connection_json() + R"(}},
        "tenants": {"connection": "pg", "isolation": "database"}})");
    Database db = Database::open(dir.file("c.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    CHECK_THROWS_WITH(TenantManager(db), Catch::Contains("isolates tenants by schema (parameter 'search_path')"));
}


// Tenant namespaces through the driver's "ilana.namespace/1" (create,
// drop, list), and discovery of tenants. With file isolation the files the
// template names are the namespaces: the driver cannot list them (only we
// know the template), so they are found here.
#include "common/error_factory.hpp"
#include "tenants/tenant_state.hpp"

#include <ilana/logging.hpp>

#include "tenants/tenant_id.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <set>

namespace ilana::detail {

namespace {

namespace fs = std::filesystem;

// A path the SQLite-like driver would resolve against the config's folder.
bool is_relative_file(const std::string &p) {
    return !p.empty() && p[0] != '/' && p.rfind("file:", 0) != 0 && p != ":memory:";
}

} // namespace

bool TenantState::is_system_namespace(const std::string &name) const {
    const bool covered = ns->struct_size >= offsetof(ilana_namespace_api, is_system) + sizeof(ns->is_system);
    return covered && ns->is_system != nullptr && ns->is_system(name.c_str()) != 0;
}

std::string TenantState::namespace_of(const std::string &id) const {
    validate_tenant_id(id);
    if (isolation == ILANA_NAMESPACE_FILE) {
        std::string path = fill_tenant_template(file_template, id);
        if (is_relative_file(path)) path = (fs::path(config->base_dir()) / path).lexically_normal().string();
        return path;
    }
    std::string name = options.schema_prefix + id;
    if (name.size() > kMaxTenantIdLength)
        throw Error("tenant id " + shown_tenant_id(id) + " with schemaPrefix \"" + options.schema_prefix +
                        "\" makes the namespace name \"" + name + "\" longer than 63 characters",
                    ErrorClass::config);
    if (is_system_namespace(name))
        throw Error("tenant id " + shown_tenant_id(id) + " with schemaPrefix \"" + options.schema_prefix +
                        "\" names \"" + name + "\", a system " + (isolation == ILANA_NAMESPACE_SCHEMA ? "schema" : "database") +
                        " of driver " + driver->id() + ": it is never a tenant (not listed, created, migrated, seeded, "
                        "cloned or dropped)",
                    ErrorClass::config);
    return name;
}

void TenantState::create_namespace(const std::string &id) const {
    const std::string name = namespace_of(id);
    ilana_error err = fresh_error();
    if (isolation == ILANA_NAMESPACE_FILE) {
        if (ns->create(nullptr, name.c_str(), &err) != ILANA_OK)
            throw_abi_error(err, pool_name(id), [c = config](std::string s) { return c->redact(std::move(s)); },
                            "creating the tenant's file failed");
        return;
    }
    Session s = template_conn.acquire();
    NativeConnection &nc = native(s);
    if (ns->create(nc.handle(), name.c_str(), &err) != ILANA_OK) nc.fail(err, "creating the tenant's namespace failed");
}

void TenantState::drop_namespace(const std::string &id) const {
    const std::string name = namespace_of(id);
    ilana_error err = fresh_error();
    if (isolation == ILANA_NAMESPACE_FILE) {
        if (ns->drop(nullptr, name.c_str(), &err) != ILANA_OK)
            throw_abi_error(err, pool_name(id), [c = config](std::string s) { return c->redact(std::move(s)); },
                            "dropping the tenant's file failed");
        return;
    }
    Session s = template_conn.acquire();
    NativeConnection &nc = native(s);
    if (ns->drop(nc.handle(), name.c_str(), &err) != ILANA_OK) nc.fail(err, "dropping the tenant's namespace failed");
}

std::vector<std::string> TenantState::list_namespaces_tenants() const {
    std::set<std::string> ids;
    if (isolation == ILANA_NAMESPACE_FILE) {
        // The template up to {tenant} names a folder and a file-name prefix;
        // the rest of that path component is the suffix.
        std::string tmpl = file_template;
        if (is_relative_file(tmpl)) tmpl = (fs::path(config->base_dir()) / tmpl).lexically_normal().string();
        const size_t at = tmpl.find("{tenant}");
        const size_t slash = tmpl.rfind('/', at);
        const fs::path dir = slash == std::string::npos ? fs::path(".") : fs::path(tmpl.substr(0, slash + 1));
        const std::string head = tmpl.substr(slash == std::string::npos ? 0 : slash + 1,
                                             at - (slash == std::string::npos ? 0 : slash + 1));
        std::string tail = tmpl.substr(at + std::strlen("{tenant}"));
        tail = tail.substr(0, tail.find('/'));
        std::error_code ec;
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
            const std::string name = it->path().filename().string();
            if (name.size() <= head.size() + tail.size() || name.compare(0, head.size(), head) != 0 ||
                name.compare(name.size() - tail.size(), tail.size(), tail) != 0)
                continue;
            const std::string id = name.substr(head.size(), name.size() - head.size() - tail.size());
            if (!is_valid_tenant_id(id)) continue;
            std::error_code ec2;
            if (fs::is_regular_file(fill_tenant_template(tmpl, id), ec2)) ids.insert(id);
        }
        return {ids.begin(), ids.end()};
    }
    if (ns->list == nullptr)
        throw Error("tenants: the driver " + driver->id() + " cannot list namespaces; configure \"discovery\"",
                    ErrorClass::config);
    Session s = template_conn.acquire();
    NativeConnection &nc = native(s);
    ilana_error err = fresh_error();
    ilana_result *res = nullptr;
    const ilana_status st = ns->list(nc.handle(), options.schema_prefix.c_str(), &res, &err);
    if (st == ILANA_UNSUPPORTED)
        throw Error("tenants: the driver " + driver->id() + " cannot list namespaces; configure \"discovery\"",
                    ErrorClass::config);
    if (st != ILANA_OK) nc.fail(err, "listing tenant namespaces failed");
    NativeResult native(&nc, res);
    Result r;
    native.read_all(r);
    for (Row row : r) {
        const std::string name = row[0].as<std::string>();
        const std::string id = tenant_from_namespace(name, options.schema_prefix);
        if (!id.empty() && !is_system_namespace(name)) ids.insert(id);
    }
    return {ids.begin(), ids.end()};
}

bool TenantState::namespace_exists(const std::string &id) const {
    const std::string name = namespace_of(id);
    if (isolation == ILANA_NAMESPACE_FILE) {
        std::error_code ec;
        return fs::is_regular_file(name, ec);
    }
    const auto all = list_namespaces_tenants();
    return std::binary_search(all.begin(), all.end(), id);
}

std::vector<std::string> TenantState::discover() const {
    std::set<std::string> ids;
    if (!options.discovery_list.empty()) {
        for (const auto &id : options.discovery_list) {
            validate_tenant_id(id);
            ids.insert(id);
        }
    } else if (!options.discovery_query.empty()) {
        auto dbs = db.lock();
        if (!dbs) detail::throw_error(Error("tenants: the Database is closed", ErrorClass::connection));
        Connection c = database_of(dbs).on(options.discovery_connection);
        Result r = c.query(options.discovery_query);
        if (r.columns().empty())
            throw Error("tenants: the discovery query returned no columns; it must return the tenant ids in its "
                        "first column",
                        ErrorClass::config, options.discovery_connection);
        for (Row row : r) {
            Field f = row[0];
            if (f.is_null()) continue;
            const std::string id = f.to_string();
            if (is_valid_tenant_id(id)) {
                ids.insert(id);
            } else {
                ilana::logger()->warn("tenants: discovery query returned {} which is not a valid tenant id (left out)",
                                      shown_tenant_id(id));
            }
        }
    } else {
        return list_namespaces_tenants();
    }
    return {ids.begin(), ids.end()};
}

} // namespace ilana::detail

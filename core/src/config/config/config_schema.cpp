#include "config/config_schema.hpp"

#include <rapidjson/pointer.h>

#include <stdexcept>
#include <string>

namespace ilana::config_detail {

namespace {

const char *const kSchema = R"SCHEMA({
  "$schema": "http://json-schema.org/draft-04/schema#",
  "title": "ilana.config.json",
  "type": "object",
  "properties": {
    "$schema": { "type": "string" },
    "default": { "type": "string", "minLength": 1, "x-expect": "the name of a connection" },
    "connections": {
      "type": "object",
      "minProperties": 1,
      "additionalProperties": { "$ref": "#/definitions/connection" },
      "x-expect": "an object of named connections",
      "x-messages": { "minProperties": "must define at least one connection" }
    },
    "environments": { "type": "object", "x-expect": "an object of per-environment sections" },
    "plugins": {
      "type": "object",
      "properties": {
        "paths": { "type": "array", "items": { "$ref": "#/definitions/nonEmptyString" } }
      },
      "additionalProperties": false
    },
    "retry": { "$ref": "#/definitions/retry" },
    "debug": {
      "type": "object",
      "properties": {
        "enabled": { "$ref": "#/definitions/flag" },
        "logQueries": { "$ref": "#/definitions/flag" },
        "logPoolEvents": { "$ref": "#/definitions/flag" },
        "slowQueryThreshold": { "$ref": "#/definitions/millis" }
      },
      "additionalProperties": false
    },
    "metrics": {
      "type": "object",
      "properties": {
        "listen": {
          "type": "string",
          "pattern": "^[^/ ]*:[0-9]+$",
          "x-expect": "\"host:port\" (e.g. \"127.0.0.1:9464\")"
        },
        "includeRuntime": { "$ref": "#/definitions/flag" },
        "healthMaxAgeMs": { "$ref": "#/definitions/millis" },
        "pingTimeoutMs": { "$ref": "#/definitions/positive" },
        "auth": {
          "type": "object",
          "properties": {
            "username": { "$ref": "#/definitions/nonEmptyString" },
            "password": { "type": "string" }
          },
          "required": ["username", "password"],
          "additionalProperties": false
        }
      },
      "additionalProperties": false
    },
    "reload": {
      "type": "object",
      "properties": {
        "watch": { "$ref": "#/definitions/flag" },
        "intervalMs": { "type": "integer", "minimum": 100, "maximum": 86400000, "x-coerce": true }
      },
      "additionalProperties": false
    },
    "servers": {
      "type": "object",
      "additionalProperties": {
        "type": "object",
        "properties": {
          "maxConnections": {
            "type": "integer",
            "minimum": 1,
            "maximum": 2147483647,
            "x-coerce": true,
            "x-expect": "a connection budget of 1 or more (the sessions all pools of this server may hold open together)"
          }
        },
        "required": ["maxConnections"],
        "additionalProperties": false
      },
      "x-expect": "an object of named servers, each with its connection budget {\"maxConnections\": N}"
    },
    "tenants": {
      "type": "object",
      "properties": {
        "connection": { "type": "string", "minLength": 1, "x-expect": "the name of the template connection" },
        "isolation": { "type": "string", "enum": ["schema", "database", "file"] },
        "schemaPrefix": { "type": "string" },
        "maxPools": { "$ref": "#/definitions/positive" },
        "poolTtlMs": { "$ref": "#/definitions/millis" },
        "pool": { "$ref": "#/definitions/pool" },
        "discovery": {
          "type": "object",
          "properties": {
            "query": { "$ref": "#/definitions/nonEmptyString" },
            "connection": { "$ref": "#/definitions/name" },
            "list": { "type": "array", "items": { "$ref": "#/definitions/nonEmptyString" }, "uniqueItems": true }
          },
          "additionalProperties": false
        },
        "migrations": {
          "type": "object",
          "properties": { "directory": { "$ref": "#/definitions/nonEmptyString" } },
          "additionalProperties": false
        }
      },
      "required": ["connection", "isolation"],
      "additionalProperties": false
    }
  },
  "required": ["connections"],
  "additionalProperties": false,

  "definitions": {
    "nonEmptyString": { "type": "string", "minLength": 1 },
    "name": { "type": "string", "minLength": 1 },
    "flag": { "type": "boolean", "x-coerce": true },
    "count": { "type": "integer", "minimum": 0, "maximum": 2147483647, "x-coerce": true },
    "positive": { "type": "integer", "minimum": 1, "maximum": 2147483647, "x-coerce": true },
    "millis": { "type": "integer", "minimum": 0, "maximum": 9007199254740991, "x-coerce": true },

    "connection": {
      "type": "object",
      "properties": {
        "client": {
          "type": "string",
          "minLength": 1,
          "x-expect": "a driver client name (\"pg\", \"mysql2\", \"sqlite3\", ...)"
        },
        "connection": {
          "type": ["object", "string"],
          "minLength": 1,
          "properties": {
            "port": { "$ref": "#/definitions/port" },
            "password": { "$ref": "#/definitions/password" }
          },
          "additionalProperties": { "$ref": "#/definitions/param" },
          "x-expect": "an object of connection parameters or a URL string"
        },
        "pool": { "$ref": "#/definitions/pool" },
        "retry": { "$ref": "#/definitions/retry" },
        "migrations": {
          "type": "object",
          "properties": {
            "directory": { "$ref": "#/definitions/nonEmptyString" },
            "tableName": { "$ref": "#/definitions/nonEmptyString" },
            "schemaName": { "type": "string" }
          },
          "additionalProperties": false
        },
        "read": {
          "type": "array",
          "items": { "$ref": "#/definitions/name" },
          "uniqueItems": true,
          "x-expect": "a list of replica connection names"
        },
        "readStrategy": { "type": "string", "enum": ["round_robin", "random", "least_busy"] },
        "stickyAfterWriteMs": { "$ref": "#/definitions/millis" },
        "statementTimeoutMs": {
          "type": "integer",
          "minimum": 0,
          "maximum": 2147483647,
          "x-coerce": true,
          "x-expect": "milliseconds from 0 (no statement timeout) to 2147483647"
        },
        "useNullAsDefault": { "$ref": "#/definitions/flag" },
        "pgbouncer": { "$ref": "#/definitions/flag" },
        "server": { "type": "string", "minLength": 1, "x-expect": "the name of an entry of \"servers\"" }
      },
      "required": ["client"],
      "additionalProperties": false
    },

    "port": {
      "type": ["integer", "string"],
      "minimum": 1,
      "maximum": 65535,
      "pattern": "^[0-9]{1,5}$",
      "x-coerce": true,
      "x-expect": "a port number (1-65535)"
    },

    "password": {
      "type": ["string", "number", "object", "null"],
      "properties": {
        "passwordFile": {
          "type": "string",
          "minLength": 1,
          "x-expect": "the path of a file holding the password (e.g. \"/run/secrets/db\")"
        },
        "passwordCommand": {
          "type": "array",
          "minItems": 1,
          "items": { "$ref": "#/definitions/nonEmptyString" },
          "x-expect": "the command as a list of arguments, run without a shell (e.g. [\"/usr/local/bin/get-token\", \"primary\"])"
        },
        "ttlMs": { "$ref": "#/definitions/millis" },
        "timeoutMs": { "$ref": "#/definitions/positive" }
      },
      "additionalProperties": false,
      "x-expect": "a string, or a provider object: {\"passwordFile\": \"...\"} or {\"passwordCommand\": [...], \"ttlMs\": ..., \"timeoutMs\": ...}"
    },

    "param": {
      "type": ["string", "number", "boolean", "object", "null"],
      "additionalProperties": { "$ref": "#/definitions/param" },
      "x-expect": "a string, number, boolean or object"
    },

    "pool": {
      "type": "object",
      "properties": {
        "min": { "$ref": "#/definitions/count" },
        "max": { "$ref": "#/definitions/positive" },
        "acquireTimeoutMillis": { "$ref": "#/definitions/millis" },
        "createTimeoutMillis": { "$ref": "#/definitions/millis" },
        "destroyTimeoutMillis": { "$ref": "#/definitions/millis" },
        "idleTimeoutMillis": { "$ref": "#/definitions/millis" },
        "reapIntervalMillis": { "$ref": "#/definitions/millis" },
        "createRetryIntervalMillis": { "$ref": "#/definitions/millis" },
        "maxLifetimeMillis": { "$ref": "#/definitions/millis" },
        "validateIdleAfterMillis": { "$ref": "#/definitions/millis" },
        "leakDetectionMillis": { "$ref": "#/definitions/millis" }
      },
      "additionalProperties": false
    },

    "retry": {
      "type": "object",
      "properties": {
        "maxAttempts": { "$ref": "#/definitions/positive" },
        "initialDelayMs": { "$ref": "#/definitions/millis" },
        "maxDelayMs": { "$ref": "#/definitions/millis" },
        "backoffMultiplier": { "type": "number", "minimum": 1, "maximum": 1000, "x-coerce": true },
        "jitter": { "$ref": "#/definitions/flag" }
      },
      "additionalProperties": false
    }
  }
})SCHEMA";

void coerce_string(Value &value, const Value &node) {
    const std::string s = str(value);
    if (has_type(node, "integer")) {
        int64_t i = 0;
        if (parse_integer_text(s, i)) {
            value.SetInt64(i);
            return;
        }
    }
    if (has_type(node, "number")) {
        double d = 0;
        if (parse_number_text(s, d)) {
            value.SetDouble(d);
            return;
        }
    }
    if (has_type(node, "boolean")) {
        if (s == "true") value.SetBool(true);
        if (s == "false") value.SetBool(false);
    }
}

void coerce_node(Value &value, const Value *node, int depth) {
    node = resolve_schema_ref(node);
    if (node == nullptr || !node->IsObject() || depth > kMaxDepth) return;
    if (value.IsString()) {
        const Value *flag = member(*node, "x-coerce");
        if (flag != nullptr && flag->IsTrue()) coerce_string(value, *node);
        return;
    }
    if (value.IsObject()) {
        const Value *properties = member(*node, "properties");
        const Value *additional = member(*node, "additionalProperties");
        for (auto it = value.MemberBegin(); it != value.MemberEnd(); ++it) {
            const Value *sub = properties != nullptr ? member(*properties, view(it->name)) : nullptr;
            if (sub == nullptr && additional != nullptr && additional->IsObject()) sub = additional;
            if (sub != nullptr) coerce_node(it->value, sub, depth + 1);
        }
    } else if (value.IsArray()) {
        const Value *items = member(*node, "items");
        if (items != nullptr && items->IsObject())
            for (auto it = value.Begin(); it != value.End(); ++it) coerce_node(*it, items, depth + 1);
    }
}

} // namespace

const char *config_schema_text() { return kSchema; }

const Document &config_schema_json() {
    static const Document doc = [] {
        Document d;
        d.Parse(kSchema);
        if (d.HasParseError()) throw std::logic_error("ilana: the built-in config schema is not valid JSON");
        return d;
    }();
    return doc;
}

const rapidjson::SchemaDocument &config_schema() {
    static const rapidjson::SchemaDocument schema(config_schema_json());
    return schema;
}

const Value *resolve_schema_ref(const Value *node) {
    // Chains are short; the bound only guards against a broken schema.
    for (int hops = 0; node != nullptr && hops < 8; ++hops) {
        const Value *ref = member(*node, "$ref");
        if (ref == nullptr || !ref->IsString()) return node;
        const std::string target = str(*ref);
        if (target.empty() || target[0] != '#') return nullptr;
        node = rapidjson::Pointer(target.c_str() + 1).Get(config_schema_json());
    }
    return node;
}

void coerce_to_schema(Value &value, Allocator &) { coerce_node(value, &config_schema_json(), 0); }

} // namespace ilana::config_detail

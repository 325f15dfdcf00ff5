// expect: compiles
#include <ilana/error.hpp>
#include <ilana/result.hpp>

#include "common/redact.hpp"
#include "log/call_hook.hpp"

// ilana/ilana.hpp — everything a host application needs, in one include.
#pragma once

#include <ilana/config.hpp>
#include <ilana/database.hpp>
#include <ilana/driver_registry.hpp>
#include <ilana/error.hpp>
#include <ilana/hooks.hpp>
#include <ilana/logging.hpp>
#include <ilana/model.hpp>
#include <ilana/query.hpp>
#include <ilana/result.hpp>
#include <ilana/value.hpp>

// expect: refused ilana/config.hpp
// The config's public header belongs to the config layer, above base.
#include <ilana/config.hpp>

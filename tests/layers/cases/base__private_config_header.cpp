// expect: refused config/json_util.hpp
#include "config/json_util.hpp"

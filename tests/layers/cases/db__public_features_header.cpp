// expect: refused ilana/tenants.hpp
// The tenants' public header belongs to the features layer, above db.
#include <ilana/tenants.hpp>

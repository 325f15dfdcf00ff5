// expect: refused tenants/tenant_state.hpp
// A features area's private header, above db.
#include "tenants/tenant_state.hpp"

// driver_entry.cpp — the driver class's init, and the one exported symbol.
//
// Driver<> (<ilana/sdk/driver.hpp>) builds the entry, the descriptor, the
// function table and the extension tables from PostgresDriver
// (postgres_driver.hpp) and the members of Connection and Result. Built
// with hidden visibility (ilana_add_driver), so `ilana_entry` is the only
// symbol the host can see.
#include "postgres_driver.hpp"

#include <libpq-fe.h>

namespace ilana::drivers::postgres {

void PostgresDriver::on_init(const ilana_host &host) {
    if (!ILANA_COVERS(host.struct_size, ilana_host, free))
        throw sdk::DriverFailure(ILANA_ERR_INTERNAL, "ilana_host.struct_size is too small for ABI 1.0");
    // The pool moves connections between threads: libpq must be built
    // thread-safe (it is on every current platform).
    if (PQisthreadsafe() == 0) throw sdk::DriverFailure(ILANA_ERR_INTERNAL, "libpq was built without thread safety");
}

} // namespace ilana::drivers::postgres

ILANA_SDK_EXPORT_DRIVER(ilana::drivers::postgres::PostgresDriver)

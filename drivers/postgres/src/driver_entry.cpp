// driver_entry.cpp — the driver class's init, and the one exported symbol.
//
// Driver<> (<ilana/sdk/driver.hpp>) builds the entry, the descriptor, the
// function table and the extension tables from PostgresDriver
// (postgres_driver.hpp) and the members of Connection and Result. Built
// with hidden visibility (ilana_add_driver), so `ilana_entry` is the only
// symbol the host can see.
#include "postgres_driver.hpp"

#include <libpq-fe.h>
#include <openssl/crypto.h>

namespace ilana::drivers::postgres {

void PostgresDriver::on_init(const ilana_host &host) {
    if (!ILANA_COVERS(host.struct_size, ilana_host, free))
        throw sdk::DriverFailure(ILANA_ERR_INTERNAL, "ilana_host.struct_size is too small for ABI 1.0");
    // The pool moves connections between threads: libpq must be built
    // thread-safe (it is on every current platform).
    if (PQisthreadsafe() == 0) throw sdk::DriverFailure(ILANA_ERR_INTERNAL, "libpq was built without thread safety");
    // libpq uses libcrypto (SCRAM, TLS), which registers its exit handler
    // at its first use. Made here, at load, that handler is registered
    // before the core's exit gate, which therefore runs first and waits
    // for a connect still running on an async worker when the process
    // exits (DESIGN-NOTES "Lifetimes"); initialized only at the first
    // SCRAM handshake, libcrypto would free its tables under that connect.
    if (OPENSSL_init_crypto(0, nullptr) == 0)
        throw sdk::DriverFailure(ILANA_ERR_INTERNAL, "libcrypto (used by libpq) failed to initialize");
}

} // namespace ilana::drivers::postgres

ILANA_SDK_EXPORT_DRIVER(ilana::drivers::postgres::PostgresDriver)

// driver_entry.cpp — the driver class's init/deinit, and the one exported
// symbol.
//
// Driver<> builds the entry, the descriptor, the function table and the
// extension tables from MysqlDriver (driver.hpp) and the members of
// Connection and Result. Built with hidden visibility (ilana_add_driver), so
// `ilana_entry` is the only symbol the host can see.
#include "driver.hpp"
#include "runtime.hpp"

namespace ilana::drivers::mysql {

void MysqlDriver::on_init(const ilana_host & /*host*/) {
    // mysql_library_init is not thread-safe: it belongs in [exclusive] init.
    if (mysql_library_init(0, nullptr, nullptr) != 0)
        throw DriverFailure(ILANA_ERR_INTERNAL, "mysql_library_init failed");
}

void MysqlDriver::on_deinit() { mysql_library_end(); }

} // namespace ilana::drivers::mysql

ILANA_SDK_EXPORT_DRIVER(ilana::drivers::mysql::MysqlDriver)

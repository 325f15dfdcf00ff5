// Read-your-writes for connections with read replicas: after a write through
// a builder or Connection of a connection whose stickyAfterWriteMs > 0,
// reads from the same thread go to the primary for that long.
//
// Per thread, not per handle: Connection handles are cheap copies made
// anywhere (db.on("x") makes a new one each time), while "my own write" is
// what one thread of work just did. Another thread's reads are not held back.
#pragma once

namespace ilana::detail {

struct ConnectionState;

// Records a write on `cs` by this thread (no-op when stickyAfterWriteMs is 0).
void note_write(const ConnectionState &cs) noexcept;
// True while a write of this thread on `cs` is younger than stickyAfterWriteMs.
bool reads_pinned_to_primary(const ConnectionState &cs) noexcept;

} // namespace ilana::detail

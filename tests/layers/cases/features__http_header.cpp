// expect: refused ilana/http_server.hpp
// The HTTP server is the top layer: features do not know it.
#include <ilana/http_server.hpp>

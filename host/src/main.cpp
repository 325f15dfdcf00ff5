// ilana — the command-line program: the commands of ilana::cli with no code
// migrations of its own (ilana/cli.hpp).
#include <ilana/cli.hpp>

int main(int argc, char **argv) { return ilana::cli::main(argc, argv); }

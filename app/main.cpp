// The one hotlead binary and its subcommands. Each subcommand lives in its
// own file (serve.cpp, snapshot.cpp); this file only dispatches and prints
// usage.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "app/commands.hpp"

namespace {

constexpr const char* usage = R"(hotlead — real-time lead scoring server

usage: hotlead <command> [options]

commands:
  serve      run a node (HTTP API on --port, data in --data)
  snapshot   make a RocksDB checkpoint of a data directory, or of a running server
  restore    copy a snapshot into a fresh data directory
  import     import leads from a CSV or NDJSON file into a running server
  demo       fill an org of a running server with synthetic leads and activity
  config     print every configuration key with its default
  version    print the version

hotlead <command> --help shows the options of a command.
)";

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(usage, stderr);
    return 2;
  }
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "serve")
    return hotlead::cmd_serve(args);
  if (cmd == "snapshot")
    return hotlead::cmd_snapshot(args);
  if (cmd == "restore")
    return hotlead::cmd_restore(args);
  if (cmd == "demo")
    return hotlead::cmd_demo(args);
  if (cmd == "import")
    return hotlead::cmd_import(args);
  if (cmd == "config")
    return hotlead::cmd_config(args);
  if (cmd == "version" || cmd == "--version") {
    std::printf("hotlead %s\n", HOTLEAD_VERSION);
    return 0;
  }
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    std::fputs(usage, stdout);
    return 0;
  }
  std::fprintf(stderr, "hotlead: unknown command '%s'\n\n%s", cmd.c_str(), usage);
  return 2;
}

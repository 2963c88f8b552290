// Subcommands of the hotlead binary. Each returns the process exit code
// (0 ok, 1 runtime failure, 2 usage error) and prints its own errors.
#pragma once

#include <string>
#include <vector>

namespace hotlead {

int cmd_serve(const std::vector<std::string>& args);
int cmd_snapshot(const std::vector<std::string>& args);
int cmd_restore(const std::vector<std::string>& args);
int cmd_config(const std::vector<std::string>& args);
int cmd_import(const std::vector<std::string>& args);
int cmd_demo(const std::vector<std::string>& args);

/// Parses "--flag value" / "--flag=value" pairs; flags without value get "".
/// Returns an error message for a flag not in `known` ("" when all is well).
std::string parse_flags(const std::vector<std::string>& args,
                        const std::vector<std::string>& known,
                        const std::vector<std::string>& switches,
                        std::vector<std::pair<std::string, std::string>>& out);

} // namespace hotlead

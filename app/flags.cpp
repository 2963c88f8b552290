// Command-line flag parsing shared by the subcommands.
#include <algorithm>

#include "app/commands.hpp"

namespace hotlead {

std::string parse_flags(const std::vector<std::string>& args,
                        const std::vector<std::string>& known,
                        const std::vector<std::string>& switches,
                        std::vector<std::pair<std::string, std::string>>& out) {
  for (size_t i = 0; i < args.size(); ++i) {
    auto a = args[i];
    if (a.rfind("--", 0) != 0)
      return "unexpected argument '" + a + "'";
    std::string name = a.substr(2), value;
    auto eq = name.find('=');
    bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    bool is_switch = std::find(switches.begin(), switches.end(), name) != switches.end();
    if (!is_switch && std::find(known.begin(), known.end(), name) == known.end())
      return "unknown option '--" + name + "'";
    if (!is_switch && !inline_value) {
      if (i + 1 >= args.size())
        return "option '--" + name + "' needs a value";
      value = args[++i];
    }
    out.emplace_back(name, value);
  }
  return {};
}

} // namespace hotlead

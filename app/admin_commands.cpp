// `hotlead snapshot`, `hotlead restore` and `hotlead config`.
// snapshot works offline on a data directory (the server must not hold it)
// or online against a running server through POST /admin/snapshot.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <filesystem>

#include "app/commands.hpp"
#include "app/config.hpp"
#include "persistence/store.hpp"
#include "protocol/json_out.hpp"
#include "protocol/time.hpp"

namespace hotlead {

namespace {

int usage_error(const char* cmd, const std::string& err, const char* help) {
  std::fprintf(stderr, "hotlead %s: %s\n\n%s", cmd, err.c_str(), help);
  return 2;
}

std::string flag(const std::vector<std::pair<std::string, std::string>>& flags,
                 const std::string& name) {
  for (auto& [k, v] : flags)
    if (k == name)
      return v;
  return {};
}

// POST /admin/snapshot on a running server (host:port) with the root key.
int online_snapshot(const std::string& hostport, const std::string& key, const std::string& name) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  auto colon = hostport.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "hotlead snapshot: --server takes HOST:PORT\n");
    return 2;
  }
  try {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::resolver resolver{ioc};
    beast::tcp_stream stream{ioc};
    stream.connect(resolver.resolve(hostport.substr(0, colon), hostport.substr(colon + 1)));
    http::request<http::string_body> req{http::verb::post, "/admin/snapshot", 11};
    req.set(http::field::host, hostport);
    req.set(http::field::authorization, "Bearer " + key);
    req.set(http::field::content_type, "application/json");
    if (!name.empty()) {
      req.body() = "{\"name\":";
      append_json_string(req.body(), name);
      req.body() += '}';
    }
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    std::printf("%s\n", res.body().c_str());
    return res.result_int() == 201 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hotlead snapshot: cannot reach %s: %s\n", hostport.c_str(), e.what());
    return 1;
  }
}

} // namespace

int cmd_snapshot(const std::vector<std::string>& args) {
  static const char* help =
    "usage: hotlead snapshot --data DIR --to SNAPDIR     (server stopped)\n"
    "       hotlead snapshot --server HOST:PORT --key ROOT_KEY [--name NAME]\n"
    "The online form writes into DATA/snapshots/NAME on the server's machine.\n";
  std::vector<std::pair<std::string, std::string>> flags;
  auto err = parse_flags(args, {"data", "to", "server", "key", "name"}, {"help"}, flags);
  if (!err.empty())
    return usage_error("snapshot", err, help);
  if (!flag(flags, "server").empty())
    return online_snapshot(flag(flags, "server"), flag(flags, "key"), flag(flags, "name"));
  auto data = flag(flags, "data"), to = flag(flags, "to");
  if (data.empty() || to.empty())
    return usage_error("snapshot", "needs --data and --to (or --server and --key)", help);
  std::optional<problem> e;
  auto db = store::open((std::filesystem::path{data} / "db").string(), e);
  if (!db) {
    std::fprintf(stderr, "hotlead snapshot: %s\n(for a running server use --server)\n",
                 e->detail.c_str());
    return 1;
  }
  if (auto ce = db->checkpoint(to)) {
    std::fprintf(stderr, "hotlead snapshot: %s\n", ce->detail.c_str());
    return 1;
  }
  std::printf("snapshot written to %s\n", to.c_str());
  return 0;
}

int cmd_restore(const std::vector<std::string>& args) {
  static const char* help =
    "usage: hotlead restore --from SNAPDIR --data DIR [--force]\n"
    "Copies a snapshot into DIR (which must be empty unless --force, which\n"
    "moves the old database aside); then start with: hotlead serve --data DIR\n";
  std::vector<std::pair<std::string, std::string>> flags;
  auto err = parse_flags(args, {"from", "data"}, {"force", "help"}, flags);
  if (!err.empty())
    return usage_error("restore", err, help);
  auto from = flag(flags, "from"), data = flag(flags, "data");
  if (from.empty() || data.empty())
    return usage_error("restore", "needs --from and --data", help);
  namespace fs = std::filesystem;
  auto db_dir = fs::path{data} / "db";
  bool force = false;
  for (auto& [k, v] : flags)
    force |= k == "force";
  if (force && fs::exists(db_dir) && !fs::is_empty(db_dir)) {
    auto aside = db_dir.string() + ".before-restore-" + std::to_string(now_ms());
    fs::rename(db_dir, aside);
    std::printf("moved the old database to %s\n", aside.c_str());
  }
  if (auto e = restore_checkpoint(from, db_dir.string())) {
    std::fprintf(stderr, "hotlead restore: %s\n", e->detail.c_str());
    return 1;
  }
  std::printf("restored %s into %s; start it with: hotlead serve --data %s\n", from.c_str(),
              db_dir.c_str(), data.c_str());
  return 0;
}

int cmd_config(const std::vector<std::string>&) {
  for (auto& [k, v] : known_keys())
    std::printf("%s = %s\n", k.c_str(), v.c_str());
  return 0;
}

} // namespace hotlead

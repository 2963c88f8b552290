// `hotlead import FILE`: streams a CSV or NDJSON file to a running server's
// POST /v1/leads:import with a progress bar (bytes and rows sent, rows/s:
// the server reads the upload only as fast as it stores rows, so what is
// sent is what is being imported), then prints the outcome and each bad
// row. Blocking I/O on one socket; one file per run.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <filesystem>

#include "app/commands.hpp"

namespace hotlead {

namespace {

constexpr const char* import_help =
  "usage: hotlead import FILE [--server HOST:PORT] [--key KEY] [--format csv|ndjson]\n"
  "                           [--upsert email|external_id|none] [--mapping JSON] [--quiet]\n"
  "Imports FILE (CSV with a header row, or NDJSON: one lead object per line) into the\n"
  "org of KEY (or $HOTLEAD_KEY) on a running server (default 127.0.0.1:8080). The format\n"
  "follows the file name (.csv, .ndjson/.jsonl) unless given. Rows are upserted by email\n"
  "by default. Exit status: 0 all rows imported, 1 some rows failed or the request did,\n"
  "2 usage.\n";

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

struct progress {
  using clock = std::chrono::steady_clock;
  uint64_t total = 0, sent = 0, lines = 0;
  clock::time_point start = clock::now(), last{};
  bool enabled = true;

  void show(bool final) {
    if (!enabled)
      return;
    auto now = clock::now();
    if (!final && now - last < std::chrono::milliseconds{200})
      return;
    last = now;
    double secs = std::chrono::duration<double>(now - start).count();
    double frac = total ? static_cast<double>(sent) / static_cast<double>(total) : 1;
    int width = 30, filled = static_cast<int>(frac * width);
    std::fprintf(stderr, "\r[%.*s%*s] %5.1f%%  %.1f/%.1f MB  %llu rows  %.0f rows/s ", filled,
                 "##############################", width - filled, "", frac * 100,
                 static_cast<double>(sent) / 1e6, static_cast<double>(total) / 1e6,
                 static_cast<unsigned long long>(lines),
                 secs > 0 ? static_cast<double>(lines) / secs : 0.0);
    if (final)
      std::fputc('\n', stderr);
    std::fflush(stderr);
  }
};

// A member the answer may lack keeps the default it was given.
void ignore(simdjson::error_code) {}

// Prints the import's answer; returns the exit status.
int report(unsigned status, const std::string& body, bool quiet) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc)) {
    std::fprintf(stderr, "hotlead import: the server answered %u: %s\n", status, body.c_str());
    return 1;
  }
  if (status != 200) {
    std::string_view detail = "(no detail)";
    ignore(doc["detail"].get(detail));
    std::fprintf(stderr, "hotlead import: the server refused the import (%u): %.*s\n", status,
                 static_cast<int>(detail.size()), detail.data());
    return 1;
  }
  auto num = [&](const char* k) {
    uint64_t v = 0;
    ignore(doc[k].get(v));
    return static_cast<unsigned long long>(v);
  };
  std::string_view job;
  ignore(doc["job"].get(job));
  std::printf("imported %llu rows: %llu created, %llu updated, %llu unchanged, %llu failed "
              "(job %.*s)\n",
              num("rows"), num("created"), num("updated"), num("unchanged"), num("failed"),
              static_cast<int>(job.size()), job.data());
  simdjson::dom::array errors;
  if (!quiet && !doc["errors"].get(errors)) {
    for (auto e : errors) {
      int64_t row = 0;
      std::string_view code, detail;
      bool has_row = !e["row"].get(row);
      ignore(e["code"].get(code));
      ignore(e["detail"].get(detail));
      if (has_row)
        std::printf("  row %lld: %.*s: %.*s\n", static_cast<long long>(row),
                    static_cast<int>(code.size()), code.data(), static_cast<int>(detail.size()),
                    detail.data());
      else
        std::printf("  %.*s: %.*s\n", static_cast<int>(code.size()), code.data(),
                    static_cast<int>(detail.size()), detail.data());
    }
    bool truncated = false;
    ignore(doc["errors_truncated"].get(truncated));
    if (truncated)
      std::printf("  (more failed rows than listed)\n");
  }
  return num("failed") == 0 ? 0 : 1;
}

} // namespace

int cmd_import(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help")
    return std::fputs(import_help, args.empty() ? stderr : stdout), args.empty() ? 2 : 0;
  auto file = args[0];
  std::vector<std::pair<std::string, std::string>> flags;
  auto err = parse_flags({args.begin() + 1, args.end()},
                         {"server", "key", "format", "upsert", "mapping"}, {"quiet", "help"},
                         flags);
  if (!err.empty()) {
    std::fprintf(stderr, "hotlead import: %s\n\n%s", err.c_str(), import_help);
    return 2;
  }
  std::string server = "127.0.0.1:8080", key, format, query;
  const char* env_key = std::getenv("HOTLEAD_KEY");
  key = env_key ? env_key : "";
  bool quiet = false;
  for (auto& [k, v] : flags) {
    if (k == "server")
      server = v;
    else if (k == "key")
      key = v;
    else if (k == "format")
      format = v;
    else if (k == "quiet")
      quiet = true;
    else if (k == "upsert" || k == "mapping")
      query += "&" + k + "=" + url_encode(v);
  }
  if (format.empty()) {
    auto ext = std::filesystem::path{file}.extension().string();
    format = ext == ".ndjson" || ext == ".jsonl" ? "ndjson" : "csv";
  }
  if (key.empty()) {
    std::fprintf(stderr, "hotlead import: give an API key (--key or $HOTLEAD_KEY)\n");
    return 2;
  }
  std::ifstream in{file, std::ios::binary};
  std::error_code size_ec;
  auto size = std::filesystem::file_size(file, size_ec);
  if (!in || size_ec) {
    std::fprintf(stderr, "hotlead import: cannot read %s\n", file.c_str());
    return 2;
  }
  auto colon = server.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "hotlead import: --server takes HOST:PORT\n");
    return 2;
  }
  namespace beast = boost::beast;
  namespace http = beast::http;
  try {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::resolver resolver{ioc};
    boost::asio::ip::tcp::socket sock{ioc};
    boost::asio::connect(sock, resolver.resolve(server.substr(0, colon), server.substr(colon + 1)));
    std::string head = "POST /v1/leads:import?format=" + format + query + " HTTP/1.1\r\nHost: " +
                       server + "\r\nAuthorization: Bearer " + key + "\r\nContent-Type: " +
                       (format == "csv" ? "text/csv" : "application/x-ndjson") +
                       "\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n";
    boost::asio::write(sock, boost::asio::buffer(head));
    progress bar;
    bar.total = size;
    bar.enabled = !quiet && isatty(STDERR_FILENO);
    std::vector<char> chunk(256 * 1024);
    beast::error_code ec;
    while (in && !ec) {
      in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      auto n = static_cast<size_t>(in.gcount());
      if (n == 0)
        break;
      boost::asio::write(sock, boost::asio::buffer(chunk.data(), n), ec);
      bar.sent += n;
      bar.lines += static_cast<uint64_t>(std::count(chunk.data(), chunk.data() + n, '\n'));
      bar.show(false);
    }
    bar.show(true);
    // An early answer (a refused key, a bad mapping) may have closed the
    // upload; it is read all the same.
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(sock, buf, parser);
    auto& res = parser.get();
    return report(res.result_int(), res.body(), quiet);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hotlead import: cannot complete the import on %s: %s\n",
                 server.c_str(), e.what());
    return 1;
  }
}

} // namespace hotlead

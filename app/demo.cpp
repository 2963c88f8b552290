#include "app/demo.hpp"

#include "app/commands.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>
#include <vector>

#include "protocol/csv.hpp"
#include "protocol/demo_data.hpp"
#include "protocol/ids.hpp"
#include "protocol/json_out.hpp"

namespace hotlead {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;

constexpr uint64_t leads_per_import = 5000;
constexpr size_t events_per_batch = 4000; // under limits.max_batch and the 1 MiB body limit

class client {
public:
  explicit client(const demo_fill& d) : d_(d), stream_(ioc_) {
    boost::asio::ip::tcp::resolver resolver{ioc_};
    stream_.connect(resolver.resolve(d.host, d.port));
  }

  // One request on the kept-alive connection: (status, body).
  std::pair<unsigned, std::string> call(http::verb method, const std::string& target,
                                        std::string_view content_type, std::string body) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, d_.host);
    req.set(http::field::authorization, "Bearer " + d_.key);
    if (!content_type.empty())
      req.set(http::field::content_type, std::string{content_type});
    req.body() = std::move(body);
    req.prepare_payload();
    beast::error_code write_ec, read_ec;
    http::write(stream_, req, write_ec); // an early answer (a refused key) may cut the upload
    http::response_parser<http::string_body> parser;
    parser.body_limit(4ULL << 30);
    http::read(stream_, buf_, parser, read_ec);
    if (read_ec)
      throw beast::system_error{write_ec ? write_ec : read_ec};
    return {parser.get().result_int(), std::move(parser.get().body())};
  }

private:
  const demo_fill& d_;
  boost::asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buf_;
};

void text_member(std::string& out, std::string_view name, const field<std::string>& f) {
  if (!f.has_value())
    return;
  out += ",\"";
  out += name;
  out += "\":";
  append_json_string(out, f.value);
}

// The create body of a generated lead.
std::string lead_body(const lead_patch& p) {
  std::string out = "{\"status\":\"";
  out += to_string(p.status.has_value() ? p.status.value : lead_status::new_);
  out += '"';
  text_member(out, "external_id", p.external_id);
  text_member(out, "email", p.email);
  text_member(out, "first_name", p.first_name);
  text_member(out, "last_name", p.last_name);
  text_member(out, "company", p.company);
  text_member(out, "title", p.title);
  text_member(out, "phone", p.phone);
  text_member(out, "owner", p.owner);
  text_member(out, "source", p.source);
  if (p.tags.has_value()) {
    out += ",\"tags\":[";
    for (size_t i = 0; i < p.tags.value.size(); ++i) {
      if (i)
        out += ',';
      append_json_string(out, p.tags.value[i]);
    }
    out += ']';
  }
  if (!p.attributes.empty()) {
    out += ",\"attributes\":{";
    bool first = true;
    for (auto& [k, v] : p.attributes) {
      if (!v)
        continue;
      if (!first)
        out += ',';
      first = false;
      append_json_string(out, k);
      out += ':';
      append_attr_value(out, *v);
    }
    out += '}';
  }
  out += '}';
  return out;
}

std::string event_line(uint64_t lead_id, const event_input& ev) {
  std::string out = "{\"lead_id\":\"";
  append_id(out, lead_id);
  out += "\",\"type\":";
  append_json_string(out, ev.type);
  out += ",\"ts\":\"";
  append_time(out, ev.ts);
  out += "\",\"properties\":";
  out += ev.properties_json.empty() ? "{}" : ev.properties_json;
  out += "}\n";
  return out;
}

// email → id of every lead of the org, from a CSV export (its columns: id,
// external_id, email, ...).
std::unordered_map<std::string, uint64_t> lead_ids(client& c) {
  auto [status, body] = c.call(http::verb::get, "/v1/leads:export?format=csv", "", {});
  if (status != 200)
    throw std::runtime_error("GET /v1/leads:export answered " + std::to_string(status) + ": " +
                             body.substr(0, 300));
  std::unordered_map<std::string, uint64_t> out;
  csv_reader csv;
  csv_reader::sink on_row = [&](const csv_reader::record& r) {
    if (r.row == 1 || r.cells.size() < 3)
      return; // the header
    if (auto id = parse_id(r.cells[0]))
      out.emplace(std::string{r.cells[2]}, *id);
  };
  csv.feed(body, on_row);
  csv.finish(on_row);
  return out;
}

} // namespace

std::optional<std::string> fill_demo(const demo_fill& d, uint64_t* events_out) {
  try {
    auto start = std::chrono::steady_clock::now();
    client c{d};
    demo_options o;
    o.seed = d.seed;
    o.now = now_ms();
    for (uint64_t first = 0; first < d.leads; first += leads_per_import) {
      std::string body;
      for (uint64_t i = first; i < std::min(d.leads, first + leads_per_import); ++i) {
        body += lead_body(make_demo_lead(i, o).patch);
        body += '\n';
      }
      auto [status, rep] = c.call(http::verb::post, "/v1/leads:import?format=ndjson&upsert=email",
                                  "application/x-ndjson", std::move(body));
      if (status != 200)
        return "POST /v1/leads:import answered " + std::to_string(status) + ": " + rep.substr(0, 300);
      if (d.progress)
        std::fprintf(stderr, "demo: %llu of %llu leads\n",
                     static_cast<unsigned long long>(std::min(d.leads, first + leads_per_import)),
                     static_cast<unsigned long long>(d.leads));
    }
    auto ids = lead_ids(c);
    std::string batch;
    size_t in_batch = 0;
    uint64_t events = 0;
    auto flush = [&]() -> std::optional<std::string> {
      if (in_batch == 0)
        return std::nullopt;
      auto [status, rep] =
        c.call(http::verb::post, "/v1/events:batch", "application/x-ndjson", std::move(batch));
      batch.clear();
      in_batch = 0;
      if (status != 200)
        return "POST /v1/events:batch answered " + std::to_string(status) + ": " + rep.substr(0, 300);
      return std::nullopt;
    };
    for (uint64_t i = 0; i < d.leads; ++i) {
      auto l = make_demo_lead(i, o);
      auto id = ids.find(l.patch.email.value);
      if (id == ids.end())
        continue;
      for (auto& ev : l.events) {
        batch += event_line(id->second, ev);
        ++events;
        if (++in_batch == events_per_batch)
          if (auto e = flush())
            return e;
      }
    }
    if (auto e = flush())
      return e;
    if (events_out)
      *events_out = events;
    if (d.progress)
      std::fprintf(stderr, "demo: %llu events in %.1f s\n", static_cast<unsigned long long>(events),
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return std::nullopt;
  } catch (const std::exception& e) {
    return std::string{"cannot reach the server at "} + d.host + ":" + d.port + ": " + e.what();
  }
}

} // namespace hotlead

namespace hotlead {

int cmd_demo(const std::vector<std::string>& args) {
  static const char* help =
    "usage: hotlead demo [--server HOST:PORT] [--key KEY] [--leads N] [--seed S]\n"
    "Fills the org of KEY (or $HOTLEAD_KEY; an admin or member key) on a running server\n"
    "(default 127.0.0.1:8080) with N synthetic leads (default 10000) and their activity:\n"
    "page views, e-mail opens and clicks, form fills, webinars, demo requests, over the\n"
    "last 90 days. Leads are upserted by email, so a second run with the same seed adds\n"
    "activity, not leads. A new server fills its demo org this way on its first start.\n";
  std::vector<std::pair<std::string, std::string>> flags;
  auto err = parse_flags(args, {"server", "key", "leads", "seed"}, {"help"}, flags);
  if (!err.empty()) {
    std::fprintf(stderr, "hotlead demo: %s\n\n%s", err.c_str(), help);
    return 2;
  }
  demo_fill d;
  d.progress = true;
  if (const char* k = std::getenv("HOTLEAD_KEY"))
    d.key = k;
  std::string server = "127.0.0.1:8080";
  for (auto& [k, v] : flags) {
    if (k == "help")
      return std::fputs(help, stdout), 0;
    if (k == "server")
      server = v;
    else if (k == "key")
      d.key = v;
    else if (k == "leads" || k == "seed") {
      char* end = nullptr;
      auto n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end) {
        std::fprintf(stderr, "hotlead demo: --%s takes a number\n", k.c_str());
        return 2;
      }
      (k == "leads" ? d.leads : d.seed) = n;
    }
  }
  auto colon = server.rfind(':');
  if (colon == std::string::npos || d.key.empty()) {
    std::fprintf(stderr, "hotlead demo: %s\n\n%s",
                 d.key.empty() ? "give an API key (--key or $HOTLEAD_KEY)"
                               : "--server takes HOST:PORT",
                 help);
    return 2;
  }
  d.host = server.substr(0, colon);
  d.port = server.substr(colon + 1);
  uint64_t events = 0;
  if (auto e = fill_demo(d, &events)) {
    std::fprintf(stderr, "hotlead demo: %s\n", e->c_str());
    return 1;
  }
  std::printf("demo: %llu leads with %llu events; try GET /v1/leads?sort=-updated_at&limit=5\n",
              static_cast<unsigned long long>(d.leads), static_cast<unsigned long long>(events));
  return 0;
}

} // namespace hotlead

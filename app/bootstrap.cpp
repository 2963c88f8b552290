#include "app/bootstrap.hpp"

#include <caf/all.hpp>

#include <cstdio>
#include <future>

#include "actors/messages.hpp"
#include "actors/node.hpp"
#include "app/config.hpp"
#include "gateway/auth.hpp"
#include "gateway/problem.hpp"
#include "persistence/journal.hpp"
#include "persistence/keys.hpp"
#include "persistence/log.hpp"
#include "persistence/store.hpp"
#include "protocol/codec.hpp"
#include "protocol/ids.hpp"
#include "protocol/json_out.hpp"

#include <spdlog/pattern_formatter.h>

namespace hotlead {

namespace {

std::optional<problem> write_sync(journal& jr, std::vector<write_op> ops) {
  std::promise<std::optional<problem>> done;
  jr.append(std::move(ops), [&](const std::optional<problem>& e) { done.set_value(e); });
  return done.get_future().get();
}

std::optional<problem> make_demo_org(caf::actor_system& sys, node& nd, key_table& keys,
                                     uint16_t port, std::string& demo_key) {
  caf::scoped_actor self{sys};
  std::optional<problem> err;
  org o;
  o.name = "Demo Org";
  o.industry = "software";
  o.plan = "free";
  self->request(nd.catalog(), std::chrono::seconds{10}, msg::new_org{o})
    .receive([&](org& created) { o = std::move(created); },
             [&](caf::error& e) { err = to_problem(e); });
  if (err)
    return err;
  api_key k;
  auto secret = new_key_secret();
  k.hash = sha256_hex(secret);
  k.id = new_id();
  k.org = o.id;
  k.key_role = role::admin;
  k.name = "demo admin";
  k.created_at = now_ms();
  self->request(nd.catalog(), std::chrono::seconds{10}, msg::new_key{k})
    .receive([&](msg::key_grant& g) { keys.add(g.record, g.org_actor); },
             [&](caf::error& e) { err = to_problem(e); });
  if (err)
    return err;
  std::printf("\nDemo org created: %s (id %s)\n"
              "Demo admin key (shown once, keep it): %s\n\n"
              "Try:\n"
              "  curl -s -X POST localhost:%u/v1/leads -H 'Authorization: Bearer %s' \\\n"
              "       -H 'Content-Type: application/json' \\\n"
              "       -d '{\"email\":\"ada@example.com\",\"first_name\":\"Ada\"}'\n\n",
              o.name.c_str(), id_to_hex(o.id).c_str(), secret.c_str(), port, secret.c_str());
  std::fflush(stdout);
  demo_key = secret;
  return std::nullopt;
}

} // namespace

std::optional<problem> bootstrap(const config& c, store& db, journal& jr, caf::actor_system& sys,
                                 node& nd, key_table& keys, uint16_t port, std::string& demo_key) {
  if (db.get_meta("bootstrapped"))
    return std::nullopt;
  bool given = !c.bootstrap_key.empty();
  auto secret = given ? c.bootstrap_key : new_key_secret();
  if (secret.size() < 16 || secret.size() > 256)
    return problem{errc::invalid_field,
                   "the bootstrap key must be 16 to 256 characters (--bootstrap-key)"};
  api_key root;
  root.hash = sha256_hex(secret);
  root.id = new_id();
  root.key_role = role::root;
  root.name = "root";
  root.created_at = now_ms();
  std::string value;
  encode(value, root);
  if (auto e = write_sync(jr, {{write_op::put, keys::api_key(root.hash), value}}))
    return e;
  keys.add(root, {});
  if (c.demo)
    if (auto e = make_demo_org(sys, nd, keys, port, demo_key))
      return e;
  if (auto e = write_sync(jr, {{write_op::put, keys::meta("bootstrapped"), format_time(now_ms())}}))
    return e;
  if (given)
    std::printf("Root key set from --bootstrap-key / HOTLEAD_BOOTSTRAP_KEY.\n");
  else
    std::printf("Root key (shown once, keep it): %s\n", secret.c_str());
  std::printf("Make an org:  curl -s -X POST localhost:%u/v1/orgs -H 'Authorization: Bearer "
              "<root key>' -H 'Content-Type: application/json' -d '{\"name\":\"Acme\"}'\n"
              "Then a key:   curl -s -X POST localhost:%u/v1/orgs/<org id>/keys -H "
              "'Authorization: Bearer <root key>' -H 'Content-Type: application/json' -d "
              "'{\"role\":\"admin\"}'\n",
              port, port);
  std::fflush(stdout);
  return std::nullopt;
}

namespace {

// %j: the log message as the inside of a JSON string (quotes, backslashes and
// control characters escaped), so each line of log.format = json parses.
class json_message_flag : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string quoted;
    append_json_string(quoted, std::string_view{msg.payload.data(), msg.payload.size()});
    dest.append(quoted.data() + 1, quoted.data() + quoted.size() - 1);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<json_message_flag>();
  }
};

} // namespace

void setup_logging(const config& c) {
  for (auto name : {"app", "gateway", "shard", "store", "cluster"})
    component_log(name);
  spdlog::set_level(spdlog::level::from_str(c.log_level));
  if (c.log_format == "json") {
    auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    f->add_flag<json_message_flag>('j').set_pattern(
      R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"%n","msg":"%j"})");
    spdlog::set_formatter(std::move(f));
  } else
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
}

} // namespace hotlead

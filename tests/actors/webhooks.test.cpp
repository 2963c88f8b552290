// Webhooks: the threshold rule, the webhook and delivery records, and the
// outbox: the journal's tap writes a delivery into the batch of the change
// that caused it, with real RocksDB, and threshold views survive a restart.
#include <doctest/doctest.h>

#include <future>
#include <mutex>

#include "actors/webhooks.hpp"
#include "persistence/journal.hpp"
#include "persistence/keys.hpp"
#include "persistence/store.hpp"
#include "protocol/feed.hpp"
#include "protocol/webhook.hpp"
#include "tests/support/store.hpp"
#include "tests/support/temp_dir.hpp"

using namespace hotlead;
using testing::open_store;
using testing::temp_dir;

namespace {

write_op change(uint64_t org, uint64_t lead, int64_t total, int64_t previous,
                feed_type type = feed_type::lead_updated) {
  return {write_op::feed, feed_op_key(org, lead, type, total, previous),
          "\"type\":\"" + std::string{feed_type_name(type)} + "\",\"lead_id\":\"" +
            std::to_string(lead) + "\""};
}

void write(journal& jr, std::vector<write_op> ops) {
  std::promise<std::optional<problem>> done;
  auto f = done.get_future();
  jr.append(std::move(ops), [&](const std::optional<problem>& e) { done.set_value(e); });
  REQUIRE_FALSE(f.get());
}

webhook hook(uint64_t id, uint64_t org, uint8_t kinds, std::optional<threshold_rule> t = {}) {
  webhook w;
  w.id = id;
  w.org = org;
  w.url = "http://127.0.0.1:9/x";
  w.kinds = kinds;
  w.threshold = t;
  w.secret = "0123456789abcdef";
  return w;
}

// The deliveries RocksDB holds for a webhook, oldest first.
std::vector<delivery> stored(store& db, uint64_t hook) {
  std::string under;
  put_be64(under, hook);
  std::vector<delivery> out;
  REQUIRE_FALSE(db.visit_tag('Y', under, [&](std::string_view, std::string_view v) {
    auto d = decode_delivery(v);
    REQUIRE(d);
    out.push_back(*d);
    return true;
  }));
  return out;
}

} // namespace

TEST_CASE("threshold crossings: up at the score, down only below score - hysteresis") {
  threshold_rule r{8000, 500};
  CHECK(threshold_step(r, false, 7999) == crossing::none);
  CHECK(threshold_step(r, false, 8000) == crossing::up);
  CHECK(threshold_step(r, true, 7600) == crossing::none); // hovering: still hot
  CHECK(threshold_step(r, true, 7500) == crossing::none);
  CHECK(threshold_step(r, true, 7499) == crossing::down);
  CHECK(threshold_step(r, true, 9000) == crossing::none);
  feed_message m;
  m.type = feed_type::lead_updated;
  m.json = std::make_shared<const std::string>(
    R"({"seq":4,"type":"lead.updated","lead_id":"00000000000000aa","score":{"total":81}})");
  CHECK(threshold_json(m, r, crossing::up) ==
        R"({"seq":4,"type":"lead.threshold_crossed","direction":"up","threshold":80,)"
        R"("hysteresis":5,"change":"lead.updated","lead_id":"00000000000000aa","score":{"total":81}})");
}

TEST_CASE("webhook bodies: validated, stored and read back") {
  webhook w;
  CHECK_FALSE(parse_webhook(R"({"url":"http://hooks.local:8081/in?a=1",
    "events":["lead.created","lead.threshold_crossed"],"threshold":{"score":72.5}})", false, w));
  CHECK(w.kinds == (kind_lead_created | kind_threshold));
  REQUIRE(w.threshold);
  CHECK(w.threshold->score == 7250);
  CHECK(w.threshold->hysteresis == 500);
  CHECK(w.secret.rfind("whsec_", 0) == 0);
  w.id = 77;
  std::string text;
  write_webhook(text, w, true);
  auto back = decode_webhook(text, 3);
  REQUIRE(back);
  CHECK(back->org == 3);
  CHECK(back->url == w.url);
  CHECK(back->kinds == w.kinds);
  CHECK(back->secret == w.secret);
  CHECK(back->threshold->score == 7250);
  std::string why;
  auto ep = parse_endpoint(w.url, why);
  REQUIRE(ep);
  CHECK(ep->host == "hooks.local");
  CHECK(ep->port == "8081");
  CHECK(ep->target == "/in?a=1");
  CHECK(parse_endpoint("http://h", why)->target == "/");
  CHECK_FALSE(parse_endpoint("http://h:99999/", why));
  CHECK_FALSE(parse_endpoint("http://user:pw@h/", why));
  auto patch = w;
  CHECK_FALSE(parse_webhook(R"({"active":false})", true, patch));
  CHECK_FALSE(patch.active);
  CHECK(patch.url == w.url);
  auto p = parse_webhook(R"({"url":"http://h/","events":["lead.created"],"threshold":{"score":1}})",
                         false, patch);
  REQUIRE(p);
  CHECK(p->detail.find("lead.threshold_crossed") != std::string::npos);
}

TEST_CASE("delivery records round-trip with their attempts") {
  delivery d;
  d.id = 1234;
  d.hook = 77;
  d.seq = 9;
  d.type = "lead.updated";
  d.created_at = 1'700'000'000'000;
  d.next_at = 1'700'000'000'500;
  d.attempts = 2;
  d.recent = {{1'700'000'000'100, 500, "the receiver answered 500", 12}, {1'700'000'000'300, 0, "no answer", 300}};
  d.body = R"({"id":"x","data":{"seq":9}})";
  auto back = decode_delivery(encode_delivery(d));
  REQUIRE(back);
  CHECK(back->id == 1234);
  CHECK(back->hook == 77);
  CHECK(back->next_at == d.next_at);
  CHECK(back->attempts == 2);
  REQUIRE(back->recent.size() == 2);
  CHECK(back->recent[0].status == 500);
  CHECK(back->recent[1].error == "no answer");
  CHECK(back->body == d.body);
}

TEST_CASE("the outbox: deliveries are written in the change's batch, views survive restarts") {
  temp_dir dir;
  const uint64_t org = 5, other = 6;
  {
    auto db = open_store(dir.path);
    webhook_book book;
    REQUIRE_FALSE(book.load(*db));
    journal jr{*db, true};
    for (auto& w : {hook(100, org, kind_lead_created | kind_lead_updated),
                    hook(200, org, kind_threshold, threshold_rule{8000, 500})}) {
      std::string text; // as POST /v1/webhooks stores it
      write_webhook(text, w, true);
      write(jr, {{write_op::put, keys::webhook(org, w.id), text}});
      book.put(w, false);
    }
    std::mutex mtx;
    std::vector<webhook_book::due> taken;
    book.on_deliveries([&](std::vector<webhook_book::due>&& d) {
      std::lock_guard lock{mtx};
      taken.insert(taken.end(), d.begin(), d.end());
    });
    jr.set_feed({10, {}, nullptr,
                 [&](const feed_message& m, std::vector<write_op>& ops) { book.tap(m, ops); },
                 [&](bool durable) { book.settled(durable); }});
    write(jr, {change(org, 1, 5000, 5000, feed_type::lead_created)});
    write(jr, {change(org, 1, 8100, 5000)});   // up
    write(jr, {change(org, 1, 7600, 8100)});   // hovering: nothing
    write(jr, {change(other, 9, 9000, 0)});    // another org: no webhook
    jr.stop();
    auto all = stored(*db, 100);
    REQUIRE(all.size() == 3); // created + two updates
    CHECK(all[0].type == "lead.created");
    CHECK(all[0].seq == 1);
    CHECK(all[2].seq == 3);
    auto alerts = stored(*db, 200);
    REQUIRE(alerts.size() == 1);
    CHECK(alerts[0].type == "lead.threshold_crossed");
    CHECK(alerts[0].body.find("\"direction\":\"up\"") != std::string::npos);
    std::lock_guard lock{mtx};
    CHECK(taken.size() == 4);
  }
  {
    // After a restart lead 1 is still hot in webhook 200's view: a change
    // at 7600 is no crossing, one at 7400 is the single down.
    auto db = open_store(dir.path);
    webhook_book book;
    REQUIRE_FALSE(book.load(*db));
    REQUIRE(book.find(org, 200));
    CHECK_FALSE(book.find(other, 200));
    journal jr{*db, true};
    jr.set_feed({10, {{org, 3}, {other, 1}}, nullptr,
                 [&](const feed_message& m, std::vector<write_op>& ops) { book.tap(m, ops); },
                 [&](bool durable) { book.settled(durable); }});
    write(jr, {change(org, 1, 7600, 7600)});
    write(jr, {change(org, 1, 7400, 7600)});
    jr.stop();
    auto alerts = stored(*db, 200);
    REQUIRE(alerts.size() == 2);
    CHECK(alerts[1].seq == 5);
    CHECK(alerts[1].body.find("\"direction\":\"down\"") != std::string::npos);
    CHECK(alerts[1].id > alerts[0].id); // ids keep growing across the restart
  }
}

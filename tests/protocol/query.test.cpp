#include <doctest/doctest.h>

#include "protocol/query.hpp"

using namespace hotlead;

TEST_CASE("list queries parse filters, sort and limit") {
  list_query q;
  REQUIRE_FALSE(parse_list_query(
    "status=new,contacted&source=web&tag=vip&sort=email&limit=20&created_after=2026-01-01", q));
  CHECK(q.status_mask == 0b11);
  CHECK(q.source == "web");
  CHECK(q.sort == sort_field::email);
  CHECK_FALSE(q.descending);
  CHECK(q.limit == 20);
  CHECK(q.created_after == *parse_time("2026-01-01"));
  list_query d;
  REQUIRE_FALSE(parse_list_query("", d));
  CHECK(d.sort == sort_field::created_at);
  CHECK(d.descending);
  CHECK(d.limit == 50);
}

TEST_CASE("bad list parameters are invalid_query") {
  for (auto bad : {"limit=0", "limit=1001", "limit=x", "sort=score", "status=won", "colour=red",
                   "created_after=yesterday", "owner=%zz"}) {
    list_query q;
    auto p = parse_list_query(bad, q);
    REQUIRE_MESSAGE(p, bad);
    CHECK(p->code == errc::invalid_query);
  }
}

TEST_CASE("a cursor resumes after its lead and only with its own sort") {
  list_query q;
  REQUIRE_FALSE(parse_list_query("sort=-updated_at", q));
  sort_key k{1795000000000, {}, 0xabcULL};
  auto c = encode_cursor(k, q);
  list_query next;
  REQUIRE_FALSE(parse_list_query("sort=-updated_at&cursor=" + c, next));
  CHECK(next.has_cursor);
  CHECK(next.after.num == k.num);
  CHECK(next.after.id == k.id);
  list_query other;
  CHECK(parse_list_query("sort=updated_at&cursor=" + c, other)->code == errc::invalid_cursor);
  list_query junk;
  CHECK(parse_list_query("cursor=garbage", junk)->code == errc::invalid_cursor);
}

TEST_CASE("email cursors carry the email through hex") {
  list_query q;
  REQUIRE_FALSE(parse_list_query("sort=email", q));
  sort_key k{0, "a.b+c@example.com", 5};
  list_query next;
  REQUIRE_FALSE(parse_list_query("sort=email&cursor=" + encode_cursor(k, q), next));
  CHECK(next.after.str == "a.b+c@example.com");
}

TEST_CASE("ordering breaks ties by id so pages never overlap") {
  list_query q; // -created_at
  sort_key a{10, {}, 1}, b{10, {}, 2}, c{9, {}, 3};
  CHECK(comes_before(b, a, q));
  CHECK(comes_before(a, c, q));
  CHECK_FALSE(comes_before(a, a, q));
}

TEST_CASE("filters match on org, status, tag and time ranges") {
  lead l;
  l.org = 1;
  l.status = lead_status::contacted;
  l.tags = {intern("vip")};
  l.created_at = l.updated_at = 100;
  list_query q;
  q.org = 1;
  CHECK(matches(l, q));
  q.tag = "vip";
  CHECK(matches(l, q));
  q.tag = "eu";
  CHECK_FALSE(matches(l, q));
  q.tag.clear();
  q.status_mask = 1; // new only
  CHECK_FALSE(matches(l, q));
  q.status_mask = 0;
  q.created_before = 100; // exclusive
  CHECK_FALSE(matches(l, q));
  q.created_before = INT64_MAX;
  q.org = 2;
  CHECK_FALSE(matches(l, q));
}

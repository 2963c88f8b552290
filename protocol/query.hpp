// GET /v1/leads: filters, sort order and cursor pagination. A query is
// parsed once at the edge, sent to every shard, and each shard answers its
// best `limit + 1` matches; the edge merges them. A cursor is the sort key of
// the last lead of a page, so pages stay stable while leads are added.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/errors.hpp"
#include "protocol/lead.hpp"

namespace hotlead {

enum class sort_field : uint8_t { created_at, updated_at, last_activity_at, email };

struct sort_key {
  int64_t num = 0;
  std::string str; // only for sort_field::email
  uint64_t id = 0;
};

struct list_query {
  uint64_t org = 0;
  uint8_t status_mask = 0; // bit per lead_status; 0 = any
  std::string source, owner, tag;
  millis created_after = INT64_MIN, created_before = INT64_MAX;
  millis updated_after = INT64_MIN, updated_before = INT64_MAX;
  sort_field sort = sort_field::created_at;
  bool descending = true;
  uint32_t limit = 50;
  bool has_cursor = false;
  sort_key after;
};

/// Parses "status=new,contacted&sort=-updated_at&limit=20&cursor=..." .
std::optional<problem> parse_list_query(std::string_view query_string, list_query& q);

bool matches(const lead& l, const list_query& q);
sort_key key_of(const lead& l, sort_field f);

/// True when `a` comes before `b` in the query's order.
bool comes_before(const sort_key& a, const sort_key& b, const list_query& q);

std::string encode_cursor(const sort_key& k, const list_query& q);

/// Decodes %XX and '+' of a query-string component; nullopt when malformed.
std::optional<std::string> url_decode(std::string_view s);

} // namespace hotlead

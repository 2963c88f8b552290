// Webhooks (issue 4): an org's HTTP endpoints that receive its change feed
// (protocol/feed.hpp) as signed POSTs, and the record of each delivery.
// What a webhook is, how a request body describes one, how both are stored
// and shown. The matching runs in actors/webhooks, the sending in
// gateway/webhook_sender.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/errors.hpp"
#include "protocol/feed.hpp"
#include "protocol/time.hpp"

namespace hotlead {

/// The kinds a webhook subscribes to (a bit each).
enum webhook_kind : uint8_t {
  kind_lead_created = 1,
  kind_lead_updated = 2,
  kind_lead_deleted = 4,
  kind_threshold = 8, // lead.threshold_crossed, with the webhook's threshold rule
  kind_job_progress = 16,
  kind_lead_scored = 32, // decay or a model version moved a score across a watched threshold
};

/// The kind bit of a feed message's type.
uint8_t kind_of(feed_type t);

/// An http:// URL split for a client.
struct endpoint {
  std::string host, port, target;
};

/// Splits an http:// URL; nullopt with `why` when it is not one.
std::optional<endpoint> parse_endpoint(std::string_view url, std::string& why);

struct webhook {
  uint64_t id = 0;
  uint64_t org = 0;
  std::string url;
  uint8_t kinds = 0;
  std::optional<threshold_rule> threshold; // with kind_threshold
  std::string secret;                      // signs each delivery
  bool active = true;                      // a paused webhook gets no new deliveries
  millis created_at = 0, updated_at = 0;
};

/// A create (`is_patch` false: url and events required; secret generated
/// when absent) or a patch of `out` (only the fields given change).
std::optional<problem> parse_webhook(std::string_view body, bool is_patch, webhook& out);

/// The webhook as JSON; the secret only when `with_secret` (its creation,
/// and storage).
void write_webhook(std::string& out, const webhook& w, bool with_secret);

/// A stored webhook (write_webhook with the secret) read back.
std::optional<webhook> decode_webhook(std::string_view stored, uint64_t org);

/// One delivery of one feed message to one webhook. Stored as its JSON
/// (write_delivery without the body; times to the millisecond), a newline,
/// then the body.
struct delivery {
  enum state_t : uint8_t { pending, delivered, parked };
  struct attempt {
    millis at = 0;
    int status = 0;    // the HTTP status, 0 when there was none
    std::string error; // what went wrong, "" on success
    uint32_t ms = 0;   // how long it took
  };
  uint64_t id = 0; // the idempotency id, unique on this server
  uint64_t hook = 0;
  uint64_t seq = 0; // of the feed message
  std::string type; // the event: "lead.updated", "lead.threshold_crossed", ...
  millis created_at = 0;
  state_t state = pending;
  uint32_t attempts = 0; // since it was created or last replayed
  millis next_at = 0;    // when a pending one is tried next
  std::vector<attempt> recent; // the last few attempts, oldest first
  std::string body;            // what is POSTed
};

inline constexpr size_t delivery_recent_attempts = 5;

std::string_view state_name(delivery::state_t s);
/// The state a name stands for (state_name's inverse); none for another name.
std::optional<delivery::state_t> parse_state(std::string_view name);

/// The delivery as JSON (the body as a "body" member when `with_body`).
void write_delivery(std::string& out, const delivery& d, bool with_body);

std::string encode_delivery(const delivery& d);
std::optional<delivery> decode_delivery(std::string_view stored);

/// POST /v1/webhooks/{id}/deliveries:replay: {"ids": [delivery ids]}
/// (optional: every parked delivery).
std::optional<problem> parse_replay_request(std::string_view body, std::vector<uint64_t>& ids);

/// The body POSTed for feed message JSON `data` (a message, or a threshold
/// alert built from one).
std::string delivery_body(uint64_t id, uint64_t hook, std::string_view type, millis at,
                          std::string_view data);

} // namespace hotlead

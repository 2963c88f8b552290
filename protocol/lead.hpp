// The lead: a person who showed interest, as held hot in a shard's memory.
// Plain data, owned by exactly one shard actor and touched only from it.
// Repetitive strings (source, tags, attribute keys, event types) are interned
// symbols (protocol/intern.hpp) to keep a lead well under 1 KiB.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/intern.hpp"
#include "protocol/time.hpp"

namespace hotlead {

enum class lead_status : uint8_t { new_, contacted, qualified, unqualified, converted, lost };

std::string_view to_string(lead_status s);
std::optional<lead_status> parse_status(std::string_view text);

/// A custom attribute value: string, number or bool.
using attr_value = std::variant<std::string, double, bool>;

struct attribute {
  symbol key = 0;
  attr_value value;
};

/// Per-type activity counter: the compacted form of a lead's events.
struct event_counter {
  symbol type = 0;
  uint32_t count = 0;
  millis first_at = 0;
  millis last_at = 0;
};

/// One engagement rule's state on one lead (protocol/score.hpp): the decayed
/// points as of `ref` and the points earned in the current cap window.
/// Sparse: only rules that have fired for the lead have one.
struct engagement_state {
  uint16_t rule = 0;   // index into the model's engagement rules
  float value = 0;     // points (not hundredths) as of ref
  uint32_t ref = 0;    // seconds since the epoch
  uint32_t window = 0; // cap window index (epoch-aligned)
  int32_t earned = 0;  // hundredths earned in that window
};

/// The eight text fields of a lead.
enum class text : uint8_t {
  external_id,
  email, // lower-case; unique per org when set
  first_name,
  last_name,
  company,
  title,
  phone,
  owner,
};
inline constexpr size_t text_count = 8;

/// The API names of the text fields, indexed by `text`.
inline constexpr std::array<std::string_view, text_count> text_names{
  "external_id", "email", "first_name", "last_name", "company", "title", "phone", "owner"};

/// A lead's text fields in one heap block: eight 32-bit end offsets, then
/// the bytes. 8 bytes inline and one allocation instead of eight
/// std::strings (256 bytes inline plus one allocation per long value):
/// memory per lead is what decides how many leads a node holds.
class text_fields {
public:
  text_fields() = default;
  text_fields(const text_fields& other);
  text_fields& operator=(const text_fields& other);
  text_fields(text_fields&&) noexcept = default;
  text_fields& operator=(text_fields&&) noexcept = default;

  std::string_view get(text f) const;

  /// Replaces every field at once (one allocation).
  void assign(const std::array<std::string_view, text_count>& values);
  void set(text f, std::string_view value);

  /// Whether no field needs a JSON escape (checked once, when stored).
  bool plain() const;

  /// The bytes of all fields together.
  size_t size() const;

  /// Bytes allocated on the heap.
  size_t heap_bytes() const;

  /// The heap block (for prefetching), null when every field is empty.
  const void* heap_block() const {
    return block_.get();
  }

private:
  std::unique_ptr<char[]> block_; // null when every field is empty
};

struct lead {
  uint64_t id = 0;
  uint64_t org = 0;
  text_fields texts;
  symbol source = 0;
  lead_status status = lead_status::new_;
  // Events recorded since the stored lead record was written (they are in
  // RocksDB as event records and replayed at start-up; see keys.hpp 'D').
  // Not encoded; saturates.
  uint16_t unsaved_events = 0;
  // Its score state is stored in an 'R' record newer than the lead record
  // (a re-score wrote it; persistence/keys.hpp): the next write of the
  // record deletes it. Not encoded.
  bool score_apart = false;
  std::vector<symbol> tags;
  std::vector<attribute> attributes;
  millis created_at = 0;
  millis updated_at = 0;
  millis last_activity_at = 0;
  uint64_t event_seq = 0; // events ever recorded; names the next journal key
  std::vector<event_counter> counters;
  // Scoring (protocol/score.hpp): the engagement state is in terms of the
  // org's model version `model_version` (0: none yet); a re-score moves it
  // to the active version. `scored_total` is the total of the last score
  // history entry (hundredths) and `history_seq` names the next one.
  uint32_t model_version = 0;
  uint32_t history_seq = 0;
  int64_t scored_total = 0;
  std::vector<engagement_state> engagement;

  std::string_view get(text f) const {
    return texts.get(f);
  }
  void set(text f, std::string_view v) {
    texts.set(f, v);
  }
  std::string_view email() const {
    return texts.get(text::email);
  }
  std::string_view external_id() const {
    return texts.get(text::external_id);
  }
  std::string_view owner() const {
    return texts.get(text::owner);
  }
};

// -- input ------------------------------------------------------------------

/// One field of a create or patch body: absent, explicitly null, or a value.
template <class T>
struct field {
  bool present = false;
  bool null = false;
  T value{};

  void set(T v) {
    present = true;
    null = false;
    value = std::move(v);
  }
  void clear() {
    present = true;
    null = true;
  }
  bool has_value() const {
    return present && !null;
  }
};

/// A validated create/patch body. Attributes with a null value are removed.
struct lead_patch {
  field<std::string> external_id, email, first_name, last_name, company, title, phone,
    owner, source;
  field<lead_status> status;
  field<std::vector<std::string>> tags;
  std::vector<std::pair<std::string, std::optional<attr_value>>> attributes;
};

/// A validated activity event.
struct event_input {
  std::string type;
  millis ts = 0;
  std::string properties_json; // the raw JSON object, "{}" when absent
};

// -- rules --------------------------------------------------------------------

/// How many attributes `l` would have after `p` (the limit applies to the
/// merged lead, not only to one request).
size_t attributes_after(const lead& l, const lead_patch& p);

/// Applies a validated patch; returns true when something changed.
bool apply(lead& l, const lead_patch& p);

/// Records an event in the lead's counters, event_seq and last_activity_at
/// (the engagement state is the scorer's: protocol/score.hpp).
void record_event(lead& l, const event_input& ev);

/// The attribute with that key, or nullptr.
const attribute* find_attribute(const lead& l, symbol key);

/// Bytes of heap and inline storage a lead holds (for memory metrics).
size_t footprint(const lead& l);

} // namespace hotlead

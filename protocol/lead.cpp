#include "protocol/lead.hpp"

#include <algorithm>
#include <cstring>

#include "protocol/json_escape.hpp"

namespace hotlead {

namespace {

constexpr std::string_view status_names[] = {"new",         "contacted", "qualified",
                                             "unqualified", "converted", "lost"};

template <class T>
bool assign_field(T& dst, const field<T>& f) {
  if (!f.present)
    return false;
  T v = f.null ? T{} : f.value;
  if (dst == v)
    return false;
  dst = std::move(v);
  return true;
}

size_t heap(const std::string& s) {
  return s.capacity() > 15 ? s.capacity() + 1 : 0;
}

constexpr size_t header_bytes = text_count * sizeof(uint32_t);
// The top bit of the last end offset: some field needs a JSON escape.
constexpr uint32_t escape_bit = 0x80000000u;

uint32_t raw_end(const char* block, size_t i) {
  uint32_t v;
  std::memcpy(&v, block + i * sizeof(uint32_t), sizeof v);
  return v;
}

uint32_t end_of(const char* block, size_t i) {
  return raw_end(block, i) & ~escape_bit;
}

} // namespace

// -- text_fields ----------------------------------------------------------------

text_fields::text_fields(const text_fields& other) {
  *this = other;
}

text_fields& text_fields::operator=(const text_fields& other) {
  if (this == &other)
    return *this;
  if (!other.block_) {
    block_.reset();
    return *this;
  }
  auto n = other.heap_bytes();
  block_.reset(new char[n]);
  std::memcpy(block_.get(), other.block_.get(), n);
  return *this;
}

std::string_view text_fields::get(text f) const {
  if (!block_)
    return {};
  auto i = static_cast<size_t>(f);
  uint32_t begin = i == 0 ? 0 : end_of(block_.get(), i - 1);
  return {block_.get() + header_bytes + begin, end_of(block_.get(), i) - begin};
}

void text_fields::assign(const std::array<std::string_view, text_count>& values) {
  size_t total = 0;
  for (auto v : values)
    total += v.size();
  if (total == 0) {
    block_.reset();
    return;
  }
  std::unique_ptr<char[]> block{new char[header_bytes + total]};
  uint32_t end = 0;
  bool escape = false;
  for (size_t i = 0; i < text_count; ++i) {
    std::memcpy(block.get() + header_bytes + end, values[i].data(), values[i].size());
    end += static_cast<uint32_t>(values[i].size());
    escape = escape || needs_json_escape(values[i]);
    uint32_t stored = i + 1 == text_count && escape ? end | escape_bit : end;
    std::memcpy(block.get() + i * sizeof(uint32_t), &stored, sizeof stored);
  }
  block_ = std::move(block);
}

bool text_fields::plain() const {
  return !block_ || (raw_end(block_.get(), text_count - 1) & escape_bit) == 0;
}

size_t text_fields::size() const {
  return block_ ? end_of(block_.get(), text_count - 1) : 0;
}

void text_fields::set(text f, std::string_view value) {
  std::array<std::string_view, text_count> values;
  for (size_t i = 0; i < text_count; ++i)
    values[i] = get(static_cast<text>(i));
  values[static_cast<size_t>(f)] = value;
  std::string copy{value}; // `value` may point into the block being replaced
  values[static_cast<size_t>(f)] = copy;
  assign(values);
}

size_t text_fields::heap_bytes() const {
  return block_ ? header_bytes + size() : 0;
}

// -- lead -------------------------------------------------------------------------

std::string_view to_string(lead_status s) {
  return status_names[static_cast<size_t>(s)];
}

std::optional<lead_status> parse_status(std::string_view text) {
  for (size_t i = 0; i < std::size(status_names); ++i)
    if (status_names[i] == text)
      return static_cast<lead_status>(i);
  return std::nullopt;
}

size_t attributes_after(const lead& l, const lead_patch& p) {
  size_t n = l.attributes.size();
  for (auto& [name, value] : p.attributes) {
    bool has = find_attribute(l, intern(name)) != nullptr;
    if (value && !has)
      ++n;
    else if (!value && has)
      --n;
  }
  return n;
}

bool apply(lead& l, const lead_patch& p) {
  bool changed = false;
  // Text fields: compute all eight, rebuild the block once if one changed.
  const field<std::string>* patch_texts[text_count] = {
    &p.external_id, &p.email, &p.first_name, &p.last_name,
    &p.company,     &p.title, &p.phone,      &p.owner};
  std::array<std::string_view, text_count> values;
  bool texts_changed = false;
  for (size_t i = 0; i < text_count; ++i) {
    values[i] = l.get(static_cast<text>(i));
    auto& f = *patch_texts[i];
    if (!f.present)
      continue;
    std::string_view v = f.null ? std::string_view{} : std::string_view{f.value};
    if (v != values[i]) {
      values[i] = v;
      texts_changed = true;
    }
  }
  if (texts_changed) {
    l.texts.assign(values); // the views point into `p` or the old block: both alive here
    changed = true;
  }
  changed |= assign_field(l.status, p.status);
  if (p.source.present) {
    symbol s = p.source.null ? 0 : intern(p.source.value);
    changed |= s != l.source;
    l.source = s;
  }
  if (p.tags.present) {
    std::vector<symbol> tags;
    if (!p.tags.null)
      for (auto& t : p.tags.value)
        if (std::find(tags.begin(), tags.end(), intern(t)) == tags.end())
          tags.push_back(intern(t));
    changed |= tags != l.tags;
    tags.shrink_to_fit();
    l.tags = std::move(tags);
  }
  bool attrs_changed = false;
  for (auto& [name, value] : p.attributes) {
    auto key = intern(name);
    auto i = std::find_if(l.attributes.begin(), l.attributes.end(),
                          [key](const attribute& a) { return a.key == key; });
    if (!value) {
      if (i != l.attributes.end()) {
        l.attributes.erase(i);
        attrs_changed = true;
      }
    } else if (i == l.attributes.end()) {
      l.attributes.push_back({key, *value});
      attrs_changed = true;
    } else if (i->value != *value) {
      i->value = *value;
      attrs_changed = true;
    }
  }
  if (attrs_changed)
    l.attributes.shrink_to_fit(); // memory per lead matters more than a realloc
  return changed || attrs_changed;
}

void record_event(lead& l, const event_input& ev) {
  auto type = intern(ev.type);
  auto i = std::find_if(l.counters.begin(), l.counters.end(),
                        [type](const event_counter& c) { return c.type == type; });
  if (i == l.counters.end()) {
    l.counters.push_back({type, 1, ev.ts, ev.ts});
  } else {
    ++i->count;
    i->first_at = std::min(i->first_at, ev.ts);
    i->last_at = std::max(i->last_at, ev.ts);
  }
  l.last_activity_at = std::max(l.last_activity_at, ev.ts);
  ++l.event_seq;
}

const attribute* find_attribute(const lead& l, symbol key) {
  for (auto& a : l.attributes)
    if (a.key == key)
      return &a;
  return nullptr;
}

size_t footprint(const lead& l) {
  size_t n = sizeof(lead);
  n += l.texts.heap_bytes();
  n += l.tags.capacity() * sizeof(symbol);
  n += l.attributes.capacity() * sizeof(attribute);
  for (auto& a : l.attributes)
    if (auto* s = std::get_if<std::string>(&a.value))
      n += heap(*s);
  n += l.counters.capacity() * sizeof(event_counter);
  n += l.engagement.capacity() * sizeof(engagement_state);
  return n;
}

} // namespace hotlead

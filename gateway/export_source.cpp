#include "gateway/export_source.hpp"

#include <algorithm>
#include <unordered_set>

#include "actors/model_registry.hpp"
#include "actors/router.hpp"
#include "protocol/ids.hpp"
#include "protocol/json_out.hpp"
#include "protocol/score.hpp"

namespace hotlead {

namespace {

// Leads per piece: one read lock of their shard each, a few tens of KiB.
constexpr size_t piece_leads = 64;
static_assert(piece_leads <= lead_table::batch_max);

// RFC 4180: a cell with a delimiter, quote or line break is quoted, its
// quotes doubled.
void append_cell(std::string& out, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == s.npos) {
    out += s;
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"')
      out += '"';
    out += c;
  }
  out += '"';
}

void append_time_cell(std::string& out, millis t) {
  if (t != 0)
    append_time(out, t);
}

constexpr std::string_view csv_columns =
  "id,external_id,email,first_name,last_name,company,title,phone,owner,source,status,tags,"
  "created_at,updated_at,last_activity_at,events,score.total,score.fit,score.engagement,"
  "score.grade,score.model_version,score.probability";

} // namespace

export_source::export_source(const router& rt, const model_registry& models,
                             const list_query& q, format f)
  : rt_(rt), models_(models), org_(q.org), fmt_(f) {
  std::unordered_set<symbol> keys;
  for (auto& table : rt.tables()) {
    ids_.push_back(table->ids_of(q.org, [&](const lead& l) {
      if (!matches(l, q))
        return false;
      if (fmt_ == format::csv)
        for (auto& a : l.attributes)
          keys.insert(a.key);
      return true;
    }));
    total_ += ids_.back().size();
  }
  attribute_keys_.assign(keys.begin(), keys.end());
  std::sort(attribute_keys_.begin(), attribute_keys_.end(),
            [](symbol a, symbol b) { return symbol_name(a) < symbol_name(b); });
}

void export_source::write_csv_header(std::string& out) const {
  out += csv_columns;
  for (auto k : attribute_keys_) {
    out += ',';
    append_cell(out, "attributes." + std::string{symbol_name(k)});
  }
  out += "\r\n";
}

void export_source::write_csv_row(std::string& out, const lead& l, millis now) const {
  append_id(out, l.id);
  for (auto f : {text::external_id, text::email, text::first_name, text::last_name,
                 text::company, text::title, text::phone, text::owner}) {
    out += ',';
    append_cell(out, l.get(f));
  }
  out += ',';
  if (l.source)
    append_cell(out, symbol_name(l.source));
  out += ',';
  out += to_string(l.status);
  out += ',';
  std::string tags;
  for (size_t i = 0; i < l.tags.size(); ++i) {
    if (i)
      tags += ';';
    tags += symbol_name(l.tags[i]);
  }
  append_cell(out, tags);
  out += ',';
  append_time_cell(out, l.created_at);
  out += ',';
  append_time_cell(out, l.updated_at);
  out += ',';
  append_time_cell(out, l.last_activity_at);
  out += ',';
  out += std::to_string(l.event_seq);
  auto& e = models_.of(l.org, l.model_version);
  auto s = score_of(e.model, l, l.engagement, now);
  out += ',' + format_points(s.total) + ',' + format_points(s.fit) + ',' +
         format_points(s.engagement) + ',' + s.grade + ',' + std::to_string(e.version) + ',';
  if (auto p = models_.predictive.predict(l))
    append_json_number(out, p->probability);
  for (auto k : attribute_keys_) {
    out += ',';
    auto* a = find_attribute(l, k);
    if (!a)
      continue;
    if (auto* str = std::get_if<std::string>(&a->value))
      append_cell(out, *str); // CSV-quoted, not JSON
    else
      append_attr_value(out, a->value);
  }
  out += "\r\n";
}

bool export_source::next(std::string& out) {
  if (fmt_ == format::csv && !header_done_) {
    header_done_ = true;
    write_csv_header(out);
  }
  while (shard_ < ids_.size() && pos_ >= ids_[shard_].size()) {
    ids_[shard_] = {}; // done with this shard's ids
    ++shard_;
    pos_ = 0;
  }
  if (shard_ == ids_.size())
    return !out.empty();
  struct item {
    uint64_t org, id;
  };
  item items[piece_leads];
  size_t n = std::min(piece_leads, ids_[shard_].size() - pos_);
  for (size_t i = 0; i < n; ++i)
    items[i] = {org_, ids_[shard_][pos_ + i]};
  pos_ += n;
  auto now = now_ms();
  rt_.tables()[shard_]->read_batch(std::span<item>{items, n}, [&](item&, const lead* l) {
    if (!l)
      return; // deleted since the export started
    if (fmt_ == format::csv) {
      write_csv_row(out, *l, now);
    } else {
      auto& e = models_.of(l->org, l->model_version);
      write_scored_lead(out, *l, e.model, e.version, now, models_.predictive.predict(*l));
      out += '\n';
    }
  });
  return true;
}

} // namespace hotlead

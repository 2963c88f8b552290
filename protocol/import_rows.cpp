#include "protocol/import_rows.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>

#include "protocol/ascii.hpp"
#include "protocol/json_in.hpp"
#include "protocol/json_out.hpp"
#include "protocol/json_parse.hpp"

namespace hotlead {

using namespace json_detail;

namespace {

constexpr std::array<std::string_view, 11> field_names{
  "external_id", "email", "first_name", "last_name", "company", "title",
  "phone",       "owner", "source",     "status",    "tags"};

// "First Name", "first-name", "FIRST_NAME" → "firstname".
std::string squash(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != ' ' && c != '-' && c != '_')
      out += ascii_lower(c);
  return out;
}

std::optional<std::string_view> field_named(std::string_view column) {
  auto c = squash(column);
  for (auto f : field_names)
    if (squash(f) == c)
      return f;
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> aliases{
    {{"emailaddress", "email"}, {"mail", "email"}, {"jobtitle", "title"},
     {"companyname", "company"}, {"organization", "company"}, {"externalid", "external_id"}}};
  for (auto [alias, f] : aliases)
    if (alias == c)
      return f;
  return std::nullopt;
}

// Columns of an export (GET /v1/leads:export) that are not lead input: a
// re-import of an export skips them.
bool read_only_column(std::string_view column) {
  for (auto c : {"id", "org_id", "created_at", "updated_at", "last_activity_at", "events"})
    if (column == c)
      return true;
  return column.starts_with("score.");
}

// A column name as an attribute key: lower case; letters, digits, '_', '-',
// '.'; other characters become one '_' ("Annual Revenue ($)" → "annual_revenue").
std::string attribute_key(std::string_view column) {
  std::string out;
  for (char c : ascii_lower(column)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (ok)
      out += c;
    else if (!out.empty() && out.back() != '_')
      out += '_';
  }
  while (!out.empty() && out.back() == '_')
    out.pop_back();
  if (out.size() > 64)
    out.resize(64);
  return out;
}

std::optional<problem> parse_target(std::string_view column, std::string_view spec,
                                    column_target& t) {
  if (spec == "tags") {
    t = {column_target::kind::tags, "tags", column_target::type::infer};
    return std::nullopt;
  }
  if (spec.starts_with("attributes.")) {
    auto rest = spec.substr(11);
    auto colon = rest.find(':');
    t.k = column_target::kind::attribute;
    t.name = std::string{rest.substr(0, colon)};
    if (colon != rest.npos) {
      auto type = rest.substr(colon + 1);
      if (type == "number")
        t.t = column_target::type::number;
      else if (type == "string")
        t.t = column_target::type::string;
      else if (type == "bool")
        t.t = column_target::type::boolean;
      else
        return bad(errc::invalid_field, "mapping of column '" + std::string{column} +
                                          "': type '" + std::string{type} +
                                          "' is not number, string or bool");
    }
    if (t.name.empty() || attribute_key(t.name) != ascii_lower(t.name))
      return bad(errc::invalid_field, "mapping of column '" + std::string{column} +
                                        "': attribute key '" + t.name +
                                        "' must be 1-64 letters, digits, '_', '-' or '.'");
    return std::nullopt;
  }
  if (std::find(field_names.begin(), field_names.end(), spec) != field_names.end()) {
    t = {column_target::kind::field, std::string{spec}, column_target::type::string};
    return std::nullopt;
  }
  return bad(errc::invalid_field,
             "mapping of column '" + std::string{column} + "': '" + std::string{spec} +
               "' is not a lead field (external_id, email, first_name, last_name, company, "
               "title, phone, owner, source, status, tags) or attributes.<key>[:type]");
}

bool is_number(std::string_view s, double& out) {
  if (s.empty() || s.size() > 40)
    return false;
  // No leading zeros ("00123" is a code, not a number), no '+', no hex.
  auto digits = s.front() == '-' ? s.substr(1) : s;
  if (digits.empty() || !(digits.front() >= '0' && digits.front() <= '9'))
    return false;
  if (digits.size() > 1 && digits[0] == '0' && digits[1] != '.')
    return false;
  std::string copy{s};
  char* end = nullptr;
  out = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size() && std::isfinite(out);
}

std::optional<bool> as_bool(std::string_view s) {
  if (ascii_iequals(s, "true"))
    return true;
  if (ascii_iequals(s, "false"))
    return false;
  return std::nullopt;
}

std::optional<problem> append_typed(const column_target& t, std::string_view column,
                                    std::string_view cell, std::string& out) {
  double d = 0;
  switch (t.t) {
    case column_target::type::string:
      append_json_string(out, cell);
      return std::nullopt;
    case column_target::type::number:
      if (!is_number(cell, d))
        return bad(errc::invalid_field, "column '" + std::string{column} + "': '" +
                                          std::string{cell.substr(0, 40)} +
                                          "' is not a number");
      append_json_number(out, d);
      return std::nullopt;
    case column_target::type::boolean:
      if (auto b = as_bool(cell)) {
        out += *b ? "true" : "false";
        return std::nullopt;
      }
      return bad(errc::invalid_field, "column '" + std::string{column} + "': '" +
                                        std::string{cell.substr(0, 40)} +
                                        "' is not true or false");
    case column_target::type::infer:
      if (is_number(cell, d))
        append_json_number(out, d);
      else if (auto b = as_bool(cell))
        out += *b ? "true" : "false";
      else
        append_json_string(out, cell);
      return std::nullopt;
  }
  return std::nullopt;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

void append_tags(std::string_view cell, std::string& out) {
  out += '[';
  bool first = true;
  while (!cell.empty()) {
    auto semi = cell.find(';');
    auto tag = trim(cell.substr(0, semi));
    cell = semi == cell.npos ? std::string_view{} : cell.substr(semi + 1);
    if (tag.empty())
      continue;
    if (!first)
      out += ',';
    first = false;
    append_json_string(out, tag);
  }
  out += ']';
}

} // namespace

std::optional<problem> parse_import_mapping(std::string_view json, import_mapping& out) {
  object obj;
  if (auto p = parse_object(json, obj, "a mapping of CSV columns"))
    return p;
  for (auto [key, value] : obj) {
    if (value.is_null()) {
      out.columns.emplace_back(std::string{key}, column_target{});
      continue;
    }
    std::string_view spec;
    if (value.get_string().get(spec))
      return wrong_type("mapping." + std::string{key},
                        "a string (a lead field or attributes.<key>[:type]) or null");
    column_target t;
    if (auto p = parse_target(key, spec, t))
      return p;
    out.columns.emplace_back(std::string{key}, std::move(t));
  }
  return std::nullopt;
}

std::optional<problem> import_plan(std::span<const std::string_view> header,
                                   const import_mapping& m, std::vector<column_target>& out) {
  out.clear();
  if (header.empty() || (header.size() == 1 && trim(header[0]).empty()))
    return bad(errc::invalid_field, "the CSV header row is empty; the first row must name the "
                                    "columns");
  for (auto& [column, spec] : m.columns)
    if (std::none_of(header.begin(), header.end(),
                     [&](std::string_view h) { return trim(h) == column; }))
      return bad(errc::invalid_field, "the mapping names column '" + column +
                                        "', which the CSV header does not have");
  for (auto raw : header) {
    auto column = trim(raw);
    auto& t = out.emplace_back();
    auto mapped = std::find_if(m.columns.begin(), m.columns.end(),
                               [&](auto& c) { return c.first == column; });
    if (mapped != m.columns.end()) {
      t = mapped->second;
    } else if (read_only_column(column)) {
      continue;
    } else if (column.starts_with("attributes.")) {
      t = {column_target::kind::attribute, std::string{column.substr(11)},
           column_target::type::infer};
      if (t.name.empty() || attribute_key(t.name) != ascii_lower(t.name))
        return bad(errc::invalid_field, "CSV column '" + std::string{column} +
                                          "': an attribute key is 1-64 letters, digits, '_', "
                                          "'-' or '.'");
    } else if (auto f = field_named(column)) {
      t = {*f == "tags" ? column_target::kind::tags : column_target::kind::field,
           std::string{*f}, column_target::type::string};
    } else {
      t = {column_target::kind::attribute, attribute_key(column), column_target::type::infer};
      if (t.name.empty())
        return bad(errc::invalid_field, "CSV column '" + std::string{column} +
                                          "' has no letters or digits to name an attribute; "
                                          "map it (?mapping=) or skip it with null");
    }
    if (t.k == column_target::kind::skip)
      continue;
    for (size_t i = 0; i + 1 < out.size(); ++i)
      if (out[i].k == t.k && out[i].name == t.name)
        return bad(errc::invalid_field, "CSV columns '" + std::string{trim(header[i])} +
                                          "' and '" + std::string{column} + "' both map to " +
                                          (t.k == column_target::kind::attribute ? "attributes."
                                                                                  : "") +
                                          t.name + "; map one of them elsewhere or to null");
  }
  return std::nullopt;
}

std::optional<problem> row_json(std::span<const column_target> plan,
                                std::span<const std::string_view> cells, std::string& out) {
  if (cells.size() != plan.size())
    return bad(errc::invalid_field, "the row has " + std::to_string(cells.size()) +
                                      " cells; the header has " + std::to_string(plan.size()));
  out.clear();
  out += '{';
  bool first = true, any_attribute = false;
  auto sep = [&] {
    if (!first)
      out += ',';
    first = false;
  };
  for (size_t i = 0; i < plan.size(); ++i) {
    auto cell = trim(cells[i]);
    if (cell.empty() || plan[i].k == column_target::kind::skip ||
        plan[i].k == column_target::kind::attribute)
      continue;
    sep();
    append_json_string(out, plan[i].name);
    out += ':';
    if (plan[i].k == column_target::kind::tags) {
      append_tags(cell, out);
    } else if (plan[i].name == "status") {
      append_json_string(out, ascii_lower(cell));
    } else {
      append_json_string(out, cell);
    }
  }
  for (size_t i = 0; i < plan.size(); ++i) {
    auto cell = trim(cells[i]);
    if (cell.empty() || plan[i].k != column_target::kind::attribute)
      continue;
    if (!any_attribute) {
      sep();
      out += "\"attributes\":{";
    } else {
      out += ',';
    }
    any_attribute = true;
    append_json_string(out, plan[i].name);
    out += ':';
    if (auto p = append_typed(plan[i], plan[i].name, cell, out))
      return p;
  }
  if (any_attribute)
    out += '}';
  out += '}';
  return std::nullopt;
}

std::optional<problem> row_patch(std::span<const column_target> plan,
                                 std::span<const std::string_view> cells, const limits& lim,
                                 std::string& scratch, lead_patch& out) {
  if (auto p = row_json(plan, cells, scratch))
    return p;
  return parse_lead(scratch, false, lim, out);
}

} // namespace hotlead

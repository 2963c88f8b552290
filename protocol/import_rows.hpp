// Bulk import rows → validated lead bodies. A CSV file's header and an
// optional mapping make a column plan (each column → a lead field, a custom
// attribute with a type, the tags, or nothing); each row then becomes the
// JSON object a POST /v1/leads would carry and goes through the same
// validation (json_in.hpp), so an imported lead is exactly what the API
// would have created and a bad cell gets the same message. NDJSON rows are
// lead objects already. Stateless and thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/errors.hpp"
#include "protocol/lead.hpp"
#include "protocol/limits.hpp"

namespace hotlead {

/// What a CSV column holds.
struct column_target {
  enum class kind : uint8_t { skip, field, tags, attribute };
  enum class type : uint8_t { infer, string, number, boolean };
  kind k = kind::skip;
  std::string name; // the lead field ("email") or attribute key
  type t = type::infer;
};

/// The mapping of an import (?mapping=, a JSON object): column name →
/// "email" | "tags" | "attributes.<key>" | "attributes.<key>:number|string|bool" | null (skip).
/// Columns it does not name are mapped by their own name (import_plan).
struct import_mapping {
  std::vector<std::pair<std::string, column_target>> columns; // a skip target for null
};

std::optional<problem> parse_import_mapping(std::string_view json, import_mapping& out);

/// One target per header cell: from the mapping, else a lead field of that
/// name (case, spaces and '-' ignored: "E-mail", "First Name"), else an
/// attribute of that name with its type inferred per cell. A problem when
/// two columns map to one target, a mapping names a column the header does
/// not have, or the header is empty.
std::optional<problem> import_plan(std::span<const std::string_view> header,
                                   const import_mapping& m, std::vector<column_target>& out);

/// A CSV row as the JSON object of a lead create. Empty cells are left out;
/// tags are separated by ';'. A problem when the row's cell count is not
/// the header's or a typed cell does not parse.
std::optional<problem> row_json(std::span<const column_target> plan,
                                std::span<const std::string_view> cells, std::string& out);

/// A CSV row as a validated lead create (row_json, then parse_lead).
std::optional<problem> row_patch(std::span<const column_target> plan,
                                 std::span<const std::string_view> cells, const limits& lim,
                                 std::string& scratch, lead_patch& out);

} // namespace hotlead

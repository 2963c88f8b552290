// Import rows: the column plan from a header and a mapping, and rows as
// validated lead bodies (types inferred or given, tags, empty cells, counts).
#include <doctest/doctest.h>

#include "protocol/import_rows.hpp"

using namespace hotlead;

namespace {

std::vector<column_target> plan_of(std::vector<std::string_view> header,
                                   std::string_view mapping = "") {
  import_mapping m;
  if (!mapping.empty())
    REQUIRE_FALSE(parse_import_mapping(mapping, m));
  std::vector<column_target> plan;
  auto p = import_plan(header, m, plan);
  REQUIRE_MESSAGE(!p, (p ? p->detail : ""));
  return plan;
}

std::string json_of(const std::vector<column_target>& plan, std::vector<std::string_view> cells) {
  std::string out;
  auto p = row_json(plan, cells, out);
  REQUIRE_MESSAGE(!p, (p ? p->detail : ""));
  return out;
}

} // namespace

TEST_CASE("header cells map to lead fields by name, ignoring case, spaces and dashes") {
  auto plan = plan_of({"E-mail", "First Name", "last_name", "COMPANY", "Job Title", "Tags"});
  CHECK(plan[0].name == "email");
  CHECK(plan[1].name == "first_name");
  CHECK(plan[2].name == "last_name");
  CHECK(plan[3].name == "company");
  CHECK(plan[4].name == "title");
  CHECK(plan[5].k == column_target::kind::tags);
}

TEST_CASE("other columns become attributes with a lower-case key and inferred types") {
  auto plan = plan_of({"email", "Employees", "Annual Revenue ($)", "Trial", "Zip"});
  CHECK(plan[1].k == column_target::kind::attribute);
  CHECK(plan[1].name == "employees");
  CHECK(plan[2].name == "annual_revenue");
  CHECK(json_of(plan, {"a@b.co", "120", "1.5e6", "TRUE", "00123"}) ==
        R"({"email":"a@b.co","attributes":{"employees":120,"annual_revenue":1500000,"trial":true,"zip":"00123"}})");
}

TEST_CASE("an export's columns re-import: attributes.<key> by key, read-only columns skipped") {
  auto plan = plan_of({"id", "email", "score.total", "created_at", "attributes.plan"});
  CHECK(plan[0].k == column_target::kind::skip);
  CHECK(plan[2].k == column_target::kind::skip);
  CHECK(plan[3].k == column_target::kind::skip);
  CHECK(plan[4].name == "plan");
  CHECK(json_of(plan, {"ff", "a@b.co", "55", "2026-01-01T00:00:00Z", "Pro"}) ==
        R"({"email":"a@b.co","attributes":{"plan":"Pro"}})");
}

TEST_CASE("a mapping renames, types and skips columns") {
  auto plan = plan_of({"Mail", "Size", "Code", "Notes"},
                      R"({"Size":"attributes.size:string","Code":"external_id","Notes":null})");
  CHECK(plan[0].name == "email");
  CHECK(plan[3].k == column_target::kind::skip);
  CHECK(json_of(plan, {"a@b.co", "12", "X-1", "whatever"}) ==
        R"({"email":"a@b.co","external_id":"X-1","attributes":{"size":"12"}})");
}

TEST_CASE("empty cells are left out, tags split on ';', status is case-insensitive") {
  auto plan = plan_of({"email", "tags", "status", "plan"});
  CHECK(json_of(plan, {"a@b.co", " vip ; emea;;", "Qualified", ""}) ==
        R"({"email":"a@b.co","tags":["vip","emea"],"status":"qualified"})");
  lead_patch p;
  std::string scratch;
  std::vector<std::string_view> cells{"a@b.co", "vip", "Qualified", ""};
  REQUIRE_FALSE(row_patch(plan, cells, limits{}, scratch, p));
  CHECK(p.status.value == lead_status::qualified);
  CHECK(p.tags.value.size() == 1);
}

TEST_CASE("bad rows and plans are problems that say what is wrong") {
  auto plan = plan_of({"email", "n"}, R"({"n":"attributes.n:number"})");
  std::string out;
  std::vector<std::string_view> short_row{"a@b.co"};
  auto p = row_json(plan, short_row, out);
  REQUIRE(p);
  CHECK(p->detail == "the row has 1 cells; the header has 2");
  std::vector<std::string_view> not_number{"a@b.co", "ten"};
  p = row_json(plan, not_number, out);
  REQUIRE(p);
  CHECK(p->detail == "column 'n': 'ten' is not a number");
  lead_patch lp;
  std::string scratch;
  std::vector<std::string_view> bad_email{"nope", "1"};
  p = row_patch(plan, bad_email, limits{}, scratch, lp);
  REQUIRE(p);
  CHECK(p->code == errc::invalid_field);

  import_mapping m;
  CHECK(parse_import_mapping(R"({"x":"attributes.k:date"})", m));
  CHECK(parse_import_mapping(R"({"x":"nickname"})", m));
  CHECK(parse_import_mapping(R"({"x":3})", m));
  std::vector<column_target> plan2;
  std::vector<std::string_view> dup{"email", "E-mail"};
  auto d = import_plan(dup, import_mapping{}, plan2);
  REQUIRE(d);
  CHECK(d->detail == "CSV columns 'email' and 'E-mail' both map to email; map one of them "
                     "elsewhere or to null");
  import_mapping missing;
  REQUIRE_FALSE(parse_import_mapping(R"({"Phone":"phone"})", missing));
  std::vector<std::string_view> header{"email"};
  d = import_plan(header, missing, plan2);
  REQUIRE(d);
  CHECK(d->detail == "the mapping names column 'Phone', which the CSV header does not have");
}

#include <doctest/doctest.h>

#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/csv.hpp"

using namespace hotlead;

namespace {

// A record copied out of the callback, so tests can look at it afterwards.
struct seen {
  std::vector<std::string> cells;
  uint64_t row = 0;
  uint64_t line = 0;
  std::string error;
  bool operator==(const seen&) const = default;
};

// "[a][][b]": the cells in brackets, so empty cells show.
std::string show(const seen& r) {
  std::string out;
  for (auto& c : r.cells)
    out += "[" + c + "]";
  return out;
}

std::ostream& operator<<(std::ostream& os, const seen& r) {
  return os << "row " << r.row << " line " << r.line << " " << show(r) << " " << r.error;
}

struct result {
  std::vector<seen> records;
  uint64_t rows = 0;
  bool operator==(const result&) const = default;
};

std::ostream& operator<<(std::ostream& os, const result& r) {
  os << r.rows << " rows:";
  for (auto& s : r.records)
    os << "\n  " << s;
  return os;
}

result read_chunks(const std::vector<std::string_view>& chunks, csv_reader::options o = {}) {
  csv_reader reader{o};
  result out;
  csv_reader::sink sink = [&](const csv_reader::record& r) {
    out.records.push_back({{r.cells.begin(), r.cells.end()}, r.row, r.line, std::string{r.error}});
  };
  for (auto c : chunks)
    reader.feed(c, sink);
  reader.finish(sink);
  out.rows = reader.rows();
  return out;
}

result read(std::string_view input, csv_reader::options o = {}) { return read_chunks({input}, o); }

std::vector<std::string_view> bytewise(std::string_view s) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < s.size(); ++i)
    out.push_back(s.substr(i, 1));
  return out;
}

std::vector<std::string_view> random_chunks(std::string_view s, std::mt19937& rng) {
  std::vector<std::string_view> out;
  std::uniform_int_distribution<size_t> len(0, 12); // 0: empty feeds are allowed too
  for (size_t i = 0; i < s.size();) {
    size_t n = std::min(len(rng), s.size() - i);
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

constexpr std::string_view junk_tail = " after a closing quote; double any quote inside a quoted field (\"\")";

} // namespace

TEST_CASE("quoted fields lose their quotes and doubled quotes stand for one") {
  auto r = read("name,note\n\"Ada\",\"said \"\"hi\"\"\"\n\"\",x\n\"\"\"\"\n");
  REQUIRE(r.records.size() == 4);
  CHECK(show(r.records[0]) == "[name][note]");
  CHECK(show(r.records[1]) == "[Ada][said \"hi\"]");
  CHECK(show(r.records[2]) == "[][x]");
  CHECK(show(r.records[3]) == "[\"]");
  for (auto& s : r.records)
    CHECK(s.error.empty());
}

TEST_CASE("delimiters and line breaks inside quotes are data, and lines are still counted") {
  auto r = read("\"a,b\",\"line1\nline2\"\n\"c\",\"x\r\ny\"\r\nlast,\"\r\"\n");
  REQUIRE(r.records.size() == 3);
  CHECK(r.records[0] == seen{{"a,b", "line1\nline2"}, 1, 1, ""});
  CHECK(r.records[1] == seen{{"c", "x\r\ny"}, 2, 3, ""});
  CHECK(r.records[2] == seen{{"last", "\r"}, 3, 5, ""});
  CHECK(r.rows == 3);
}

TEST_CASE("a byte order mark at the start is dropped, whole or split across feeds") {
  std::string_view input = "\xEF\xBB\xBF" "email,name\nx@y.z,X\n";
  auto whole = read(input);
  REQUIRE(whole.records.size() == 2);
  CHECK(show(whole.records[0]) == "[email][name]");
  CHECK(read_chunks({"\xEF", "\xBB", "\xBF" "email,name\nx@", "y.z,X\n"}) == whole);
  CHECK(read_chunks({"\xEF\xBB", "", "\xBF", "email,name\nx@y.z,X\n"}) == whole);
  CHECK(read_chunks(bytewise(input)) == whole);
  // A BOM before a quoted first field.
  CHECK(show(read("\xEF\xBB\xBF\"id\"\n").records[0]) == "[id]");
}

TEST_CASE("bytes that only look like a byte order mark are kept as data") {
  CHECK(show(read("\xEF\xBBx\n").records[0]) == "[\xEF\xBBx]");
  CHECK(show(read_chunks({"\xEF", "\xBB", "x\n"}).records[0]) == "[\xEF\xBBx]");
  CHECK(show(read_chunks({"\xEF", "\xBB"}).records[0]) == "[\xEF\xBB]");
  // Only at the very start: later it is part of a cell.
  auto r = read("a\n\xEF\xBB\xBF" "b\n");
  REQUIRE(r.records.size() == 2);
  CHECK(show(r.records[1]) == "[\xEF\xBB\xBF" "b]");
}

TEST_CASE("empty cells and a trailing delimiter give empty cells") {
  auto r = read("a,,b\n,\nx,\n\"\"\na,b,");
  REQUIRE(r.records.size() == 5);
  CHECK(show(r.records[0]) == "[a][][b]");
  CHECK(show(r.records[1]) == "[][]");
  CHECK(show(r.records[2]) == "[x][]");
  CHECK(show(r.records[3]) == "[]"); // a quoted empty cell is a record, not a blank line
  CHECK(show(r.records[4]) == "[a][b][]");
}

TEST_CASE("ragged rows come back with the cells they have") {
  auto r = read("a,b,c\n1\n1,2,3,4\n");
  REQUIRE(r.records.size() == 3);
  CHECK(r.records[0].cells.size() == 3);
  CHECK(r.records[1].cells.size() == 1);
  CHECK(r.records[2].cells.size() == 4);
  for (auto& s : r.records)
    CHECK(s.error.empty());
}

TEST_CASE("blank lines produce no record but count as rows, as a spreadsheet numbers them") {
  auto r = read("h\n\n1\r\n\r\n2\n\"x\ny\"\n\n 3");
  REQUIRE(r.records.size() == 5);
  CHECK(r.records[0] == seen{{"h"}, 1, 1, ""});
  CHECK(r.records[1] == seen{{"1"}, 3, 3, ""});
  CHECK(r.records[2] == seen{{"2"}, 5, 5, ""});
  CHECK(r.records[3] == seen{{"x\ny"}, 6, 6, ""});
  CHECK(r.records[4] == seen{{" 3"}, 8, 9, ""}); // a space is a cell, not a blank
  CHECK(r.rows == 8);
}

TEST_CASE("records are handed over as soon as their line end arrives") {
  csv_reader reader;
  std::vector<std::string> got;
  csv_reader::sink sink = [&](const csv_reader::record& r) { got.emplace_back(r.cells[0]); };
  reader.feed("a,1\nb", sink);
  CHECK(got == std::vector<std::string>{"a"});
  CHECK(reader.rows() == 1);
  reader.feed(",2\n\n\"c", sink);
  CHECK(got == std::vector<std::string>{"a", "b"});
  CHECK(reader.rows() == 3);
  reader.feed("\"", sink);
  CHECK(got.size() == 2);
  reader.finish(sink);
  CHECK(got == std::vector<std::string>{"a", "b", "c"});
  CHECK(reader.rows() == 4);
}

TEST_CASE("a lone CR ends a record, as old Mac exports do") {
  auto r = read("a,b\rc,d\r\re\r");
  REQUIRE(r.records.size() == 3);
  CHECK(r.records[0] == seen{{"a", "b"}, 1, 1, ""});
  CHECK(r.records[1] == seen{{"c", "d"}, 2, 2, ""});
  CHECK(r.records[2] == seen{{"e"}, 4, 4, ""});
  CHECK(r.rows == 4);
  // CR then LF split across feeds is still one line end.
  CHECK(read_chunks({"a\r", "\nb\r", "\n"}) == read("a\r\nb\r\n"));
  CHECK(read("a\r\nb\r\n").rows == 2);
}

TEST_CASE("the last record needs no line end, and a final line end adds no row") {
  CHECK(read("a,b\nc,d").records.back() == seen{{"c", "d"}, 2, 2, ""});
  CHECK(read("a,\"q\"").records.back() == seen{{"a", "q"}, 1, 1, ""});
  CHECK(read("a,b\n").rows == 1);
  CHECK(read("a,b\r\n").rows == 1);
  CHECK(read("").records.empty());
  CHECK(read("").rows == 0);
  CHECK(read("\n").records.empty());
  CHECK(read("\n").rows == 1);
}

TEST_CASE("a quote inside an unquoted field is kept as it is, as Excel does") {
  auto r = read("5'11\",ab\"c\"d, \"x\"\n");
  REQUIRE(r.records.size() == 1);
  CHECK(show(r.records[0]) == "[5'11\"][ab\"c\"d][ \"x\"]");
  CHECK(r.records[0].error.empty());
}

TEST_CASE("another delimiter such as a semicolon or a tab can be chosen") {
  auto semi = read("a;\"b;c\";d,e\n", {.delimiter = ';'});
  CHECK(show(semi.records[0]) == "[a][b;c][d,e]");
  auto tab = read("a\t\tb\n", {.delimiter = '\t'});
  CHECK(show(tab.records[0]) == "[a][][b]");
}

TEST_CASE("an unterminated quote at the end of input is an error record with its row") {
  auto r = read("h\n1,\"open\nrest,2\n");
  REQUIRE(r.records.size() == 2);
  CHECK(r.records[0] == seen{{"h"}, 1, 1, ""});
  CHECK(r.records[1] == seen{{"1", "open\nrest,2\n"}, 2, 2, std::string{csv_reader::unterminated_quote_error}});
  CHECK(r.records[1].error ==
        "unterminated quoted field; close the quote, and double any quote inside the field (\"\")");
  CHECK(r.rows == 2);
}

TEST_CASE("junk after a closing quote is an error record, and the next record parses fine") {
  auto r = read("h\n\"a\"x,b\nnext,1\n");
  REQUIRE(r.records.size() == 3);
  CHECK(r.records[1] == seen{{"a"}, 2, 2, "unexpected character 'x' after a closing quote; double any quote inside a quoted field (\"\")"});
  CHECK(r.records[2] == seen{{"next", "1"}, 3, 3, ""});

  // Skipping to the record's end still honours quotes: the quoted line break is not an end.
  auto q = read("1,\"a\" ,\"b\nc\"\nok\n");
  REQUIRE(q.records.size() == 2);
  CHECK(q.records[0] == seen{{"1", "a"}, 1, 1, "unexpected character ' '" + std::string{junk_tail}});
  CHECK(q.records[1] == seen{{"ok"}, 2, 3, ""});

  CHECK(read("\"a\"\x01\n").records[0].error == "unexpected byte 0x01" + std::string{junk_tail});
  CHECK(read("\"a\"\xC3\xA9\n").records[0].error == "unexpected byte 0xC3" + std::string{junk_tail});
  CHECK(csv_reader::junk_after_quote_error('x') == "unexpected character 'x'" + std::string{junk_tail});
}

TEST_CASE("an over-long record is an error record without cells, and reading goes on after it") {
  csv_reader::options small{.max_record_bytes = 10};
  std::string too_long = "record is longer than 10 bytes; look for a quote that is never closed, or shorten the record";
  CHECK(csv_reader::too_long_error(10) == too_long);

  auto r = read("short\n0123456789A,b\nafter\n", small);
  REQUIRE(r.records.size() == 3);
  CHECK(r.records[0] == seen{{"short"}, 1, 1, ""});
  CHECK(r.records[1] == seen{{}, 2, 2, too_long});
  CHECK(r.records[2] == seen{{"after"}, 3, 3, ""});

  // Exactly the limit is fine; quotes and delimiters count, the line end does not.
  CHECK(read("0123456789\r\n", small).records[0].error.empty());
  CHECK(read("\"01234567\"\n", small).records[0].error.empty());
  CHECK(read("\"012345678\"\n", small).records[0].error == too_long);
  CHECK(read("0123,5678,\n", small).records[0].error.empty());
  CHECK(read("0123,5678,,\n", small).records[0].error == too_long);

  // A long quoted record spanning lines: skipped whole, lines still counted.
  auto q = read("\"0123456789\n012\"\nok\n", small);
  REQUIRE(q.records.size() == 2);
  CHECK(q.records[0] == seen{{}, 1, 1, too_long});
  CHECK(q.records[1] == seen{{"ok"}, 2, 3, ""});

  // The default limit names its size.
  CHECK(read(std::string(1 << 20, 'x') + "y\nz\n").records[0].error.starts_with("record is longer than 1048576 bytes"));
}

TEST_CASE("feeding one byte at a time, in random chunks or whole gives identical records") {
  // Random text over an alphabet dense in special bytes, including invalid
  // CSV, so every state is entered and split in every way.
  std::mt19937 rng{20240611};
  const std::string_view alphabet[] = {"a", "b", ",", ";", "\"", "\"", "\r", "\n", "\r\n", " ", "\xEF",
                                       "\xBB", "\xBF", "\xEF\xBB\xBF"};
  std::uniform_int_distribution<size_t> pick(0, std::size(alphabet) - 1);
  std::uniform_int_distribution<size_t> length(0, 60);
  size_t records = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string input;
    for (size_t n = length(rng); n > 0; --n)
      input += alphabet[pick(rng)];
    for (csv_reader::options o : {csv_reader::options{}, csv_reader::options{.delimiter = ';', .max_record_bytes = 6}}) {
      auto whole = read(input, o);
      records += whole.records.size();
      CHECK_MESSAGE(read_chunks(bytewise(input), o) == whole, input);
      for (int k = 0; k < 3; ++k)
        CHECK_MESSAGE(read_chunks(random_chunks(input, rng), o) == whole, input);
    }
  }
  CHECK(records > 10000); // the inputs were not all trivially empty
}

TEST_CASE("random tables survive a round trip through CSV text with any line ends") {
  std::mt19937 rng{7};
  const std::string_view pieces[] = {"a", "Zoë", ",", "\"", "\r", "\n", "\r\n", " ", "x@y.z", "'"};
  const std::string_view line_ends[] = {"\n", "\r\n", "\r"};
  std::uniform_int_distribution<size_t> piece(0, std::size(pieces) - 1);
  std::uniform_int_distribution<size_t> pieces_per_cell(0, 4);
  std::uniform_int_distribution<size_t> cells_per_row(1, 5);
  std::uniform_int_distribution<size_t> end_kind(0, 2);
  for (int t = 0; t < 300; ++t) {
    std::string text;
    std::vector<seen> expected;
    uint64_t line = 1;
    for (uint64_t row = 1; row <= 20; ++row) {
      seen s{{}, row, line, ""};
      for (size_t c = cells_per_row(rng); c > 0; --c) {
        std::string cell;
        for (size_t n = pieces_per_cell(rng); n > 0; --n)
          cell += pieces[piece(rng)];
        s.cells.push_back(cell);
        bool quote = cell.find_first_of(",\"\r\n") != std::string::npos || (cell.empty() && s.cells.size() == 1);
        if (quote) {
          text += '"';
          for (size_t i = 0; i < cell.size(); ++i) {
            text += cell[i] == '"' ? "\"\"" : std::string(1, cell[i]);
            if (cell[i] == '\n' || (cell[i] == '\r' && (i + 1 == cell.size() || cell[i + 1] != '\n')))
              ++line;
          }
          text += '"';
        } else {
          text += cell;
        }
        text += c > 1 ? "," : "";
      }
      expected.push_back(s);
      if (row < 20 || end_kind(rng) > 0) {
        text += line_ends[end_kind(rng)];
        ++line;
      }
    }
    auto got = read_chunks(random_chunks(text, rng));
    CHECK_MESSAGE(got.records == expected, text);
    CHECK(got.rows == 20);
  }
}

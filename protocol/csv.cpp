#include "protocol/csv.hpp"

#include <cassert>
#include <cstdio>

namespace hotlead {

namespace {

// Kinds of special byte, as bits of csv_reader::class_.
constexpr uint8_t k_line_end = 1;
constexpr uint8_t k_delimiter = 2;
constexpr uint8_t k_quote = 4;

constexpr char bom[3] = {'\xEF', '\xBB', '\xBF'};

// The first byte at or after `p` of one of the kinds in `mask`, or `end`.
// Cells are short, so a table lookup per byte beats vector set-up costs.
inline const char* scan(const char* p, const char* end, const std::array<uint8_t, 256>& cls,
                        uint8_t mask) {
  while (end - p >= 4) {
    if (cls[static_cast<uint8_t>(p[0])] & mask)
      return p;
    if (cls[static_cast<uint8_t>(p[1])] & mask)
      return p + 1;
    if (cls[static_cast<uint8_t>(p[2])] & mask)
      return p + 2;
    if (cls[static_cast<uint8_t>(p[3])] & mask)
      return p + 3;
    p += 4;
  }
  while (p < end && !(cls[static_cast<uint8_t>(*p)] & mask))
    ++p;
  return p;
}

bool is_line_end(char c) { return c == '\r' || c == '\n'; }

} // namespace

std::string csv_reader::junk_after_quote_error(char c) {
  auto b = static_cast<unsigned char>(c);
  char what[32];
  if (b >= 0x20 && b < 0x7F)
    std::snprintf(what, sizeof what, "character '%c'", c);
  else
    std::snprintf(what, sizeof what, "byte 0x%02X", b);
  return std::string{"unexpected "} + what +
         " after a closing quote; double any quote inside a quoted field (\"\")";
}

std::string csv_reader::too_long_error(size_t max_record_bytes) {
  return "record is longer than " + std::to_string(max_record_bytes) +
         " bytes; look for a quote that is never closed, or shorten the record";
}

csv_reader::csv_reader(options o) : opts_(o), too_long_(too_long_error(o.max_record_bytes)) {
  assert(o.delimiter != '"' && !is_line_end(o.delimiter));
  class_[static_cast<uint8_t>('\r')] = k_line_end;
  class_[static_cast<uint8_t>('\n')] = k_line_end;
  class_[static_cast<uint8_t>('"')] = k_quote;
  class_[static_cast<uint8_t>(o.delimiter)] = k_delimiter;
}

// -- input --------------------------------------------------------------------

void csv_reader::feed(std::string_view bytes, const sink& on_record) {
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  if (!bom_checked_) {
    // A BOM may arrive split across feeds: hold back the bytes that match it
    // so far, and hand them to the parser if the match fails.
    while (p < end && bom_seen_ < 3 && *p == bom[bom_seen_]) {
      ++bom_seen_;
      ++p;
    }
    if (bom_seen_ < 3 && p == end)
      return;
    bom_checked_ = true;
    if (bom_seen_ < 3)
      parse(bom, bom + bom_seen_, on_record);
  }
  parse(p, end, on_record);
}

void csv_reader::finish(const sink& on_record) {
  if (!bom_checked_) {
    bom_checked_ = true;
    parse(bom, bom + bom_seen_, on_record);
  }
  if (carried_ == 0) // nothing after the last line end
    return;
  if (state_ == state::quoted)
    fault_ = fault::unterminated_quote; // it wins: it explains the rows it swallowed
  if (keep(carried_))
    ends_.push_back(buf_.size());
  emit(carried_, on_record);
  state_ = state::field_start;
}

// -- the state machine --------------------------------------------------------
// Each step consumes at least one byte. Runs of ordinary bytes are found with
// scan() and appended at once; structure is tracked the same way while
// skipping (after an error or past the length limit), only nothing is stored.

void csv_reader::parse(const char* p, const char* end, const sink& on_record) {
  rec_begin_ = p;
  while (p < end) {
    switch (state_) {
    case state::field_start:
      p = at_field_start(p, end, on_record);
      break;
    case state::unquoted:
      p = in_unquoted(p, end, on_record);
      break;
    case state::quoted:
      p = in_quoted(p, end);
      break;
    case state::quote_in_quoted:
      p = after_quote(p, on_record);
      break;
    case state::after_cr:
      state_ = state::field_start;
      if (*p == '\n')
        rec_begin_ = ++p; // the LF of a CRLF is not part of the next record
      break;
    }
  }
  carried_ += static_cast<size_t>(end - rec_begin_);
}

const char* csv_reader::at_field_start(const char* p, const char* end, const sink& on_record) {
  char c = *p;
  if (c == '"') {
    state_ = state::quoted;
    cr_in_quotes_ = false;
    return p + 1;
  }
  if (c == opts_.delimiter) { // an empty cell
    if (keep(raw(p + 1)))
      ends_.push_back(buf_.size());
    return p + 1;
  }
  if (is_line_end(c))
    return end_record(p, on_record);
  state_ = state::unquoted;
  return in_unquoted(p, end, on_record);
}

const char* csv_reader::in_unquoted(const char* p, const char* end, const sink& on_record) {
  // A quote here is data, as Excel reads it: only delimiters and line ends count.
  const char* q = scan(p, end, class_, k_delimiter | k_line_end);
  if (q != p && keep(raw(q)))
    buf_.append(p, static_cast<size_t>(q - p));
  if (q == end)
    return q;
  if (*q != opts_.delimiter)
    return end_record(q, on_record);
  if (keep(raw(q + 1)))
    ends_.push_back(buf_.size());
  state_ = state::field_start;
  return q + 1;
}

const char* csv_reader::in_quoted(const char* p, const char* end) {
  const char* q = scan(p, end, class_, k_quote | k_line_end);
  if (q != p) {
    cr_in_quotes_ = false;
    if (keep(raw(q)))
      buf_.append(p, static_cast<size_t>(q - p));
  }
  if (q == end)
    return q;
  if (*q == '"') {
    state_ = state::quote_in_quoted;
    return q + 1;
  }
  count_break_in_quotes(*q); // a line break inside quotes is data
  if (keep(raw(q + 1)))
    buf_.push_back(*q);
  return q + 1;
}

const char* csv_reader::after_quote(const char* p, const sink& on_record) {
  char c = *p;
  if (c == '"') { // "" stands for one quote
    state_ = state::quoted;
    cr_in_quotes_ = false;
    if (keep(raw(p + 1)))
      buf_.push_back('"');
    return p + 1;
  }
  if (c == opts_.delimiter) {
    if (keep(raw(p + 1)))
      ends_.push_back(buf_.size());
    state_ = state::field_start;
    return p + 1;
  }
  if (is_line_end(c))
    return end_record(p, on_record);
  // Junk after the closing quote: keep the cell as it was closed, then skip
  // the rest of the field as unquoted text and the rest of the record.
  if (keep(raw(p)))
    ends_.push_back(buf_.size());
  fail(fault::junk_after_quote, c);
  state_ = state::unquoted;
  return p + 1;
}

void csv_reader::count_break_in_quotes(char c) {
  if (c == '\r') {
    ++line_;
    cr_in_quotes_ = true;
    return;
  }
  if (!cr_in_quotes_) // the LF of a CRLF was counted with its CR
    ++line_;
  cr_in_quotes_ = false;
}

// -- records ------------------------------------------------------------------

const char* csv_reader::end_record(const char* p, const sink& on_record) {
  size_t bytes = raw(p);
  if (bytes == 0) { // a blank line: a row of its own, but no record
    ++rows_;
  } else {
    if (keep(bytes))
      ends_.push_back(buf_.size());
    emit(bytes, on_record);
  }
  ++line_;
  record_line_ = line_;
  state_ = *p == '\r' ? state::after_cr : state::field_start;
  rec_begin_ = p + 1;
  return p + 1;
}

bool csv_reader::keep(size_t raw_bytes) {
  if (skipping_)
    return false;
  if (raw_bytes <= opts_.max_record_bytes)
    return true;
  skipping_ = true;
  buf_.clear();
  ends_.clear();
  return false;
}

void csv_reader::fail(fault f, char c) {
  if (fault_ == fault::none) {
    fault_ = f;
    fault_char_ = c;
  }
  skipping_ = true;
}

void csv_reader::emit(size_t raw_bytes, const sink& on_record) {
  record r;
  r.row = ++rows_;
  r.line = record_line_;
  // Where the limit was noticed depends on the chunking, so an over-long
  // record loses all its cells: the same result for any chunking.
  bool too_long = raw_bytes > opts_.max_record_bytes;
  if (too_long)
    ends_.clear();
  if (fault_ == fault::unterminated_quote) {
    r.error = unterminated_quote_error;
  } else if (too_long) {
    r.error = too_long_;
  } else if (fault_ == fault::junk_after_quote) {
    error_text_ = junk_after_quote_error(fault_char_);
    r.error = error_text_;
  }
  cells_.clear();
  size_t start = 0;
  for (size_t end : ends_) {
    cells_.emplace_back(buf_.data() + start, end - start);
    start = end;
  }
  r.cells = cells_;
  on_record(r);
  buf_.clear();
  ends_.clear();
  carried_ = 0;
  skipping_ = false;
  fault_ = fault::none;
}

} // namespace hotlead

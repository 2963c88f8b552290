// Incremental CSV reader for the bulk lead import (POST /v1/leads:import):
// RFC 4180 plus what real exports contain (a UTF-8 byte order mark, LF, CRLF
// or lone CR line ends, a quote inside an unquoted field kept as Excel keeps
// it). The body arrives in chunks of any size and each record goes to a
// callback as soon as its line end arrives, so memory is bounded by the
// longest record (options::max_record_bytes), never by the body; how the
// input is cut into chunks never changes the records. A reader is the state of
// one input: one per import, used from one thread at a time. Cells are views
// that live only during the callback: copy what you keep.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hotlead {

class csv_reader {
public:
  struct options {
    /// Separates cells; must not be '"', CR or LF (';' and '\t' are common).
    char delimiter = ',';
    /// A record with more bytes than this (as written in the file, quotes and
    /// delimiters included, line end excluded) is an error record without
    /// cells; reading goes on after it. Bounds the reader's memory.
    size_t max_record_bytes = 1 << 20;
  };

  struct record {
    /// The cells, quotes removed and "" unescaped. Valid only during the
    /// callback. Ragged rows come as they are: the caller checks counts.
    std::span<const std::string_view> cells;
    /// 1-based row as a spreadsheet shows it: the header is row 1, blank
    /// lines count as rows (but produce no record).
    uint64_t row = 0;
    /// 1-based line of the file where the record starts (it differs from
    /// `row` after line breaks inside quotes).
    uint64_t line = 0;
    /// Non-empty when the record is malformed: one of the messages below,
    /// the first that applies of: unterminated quote at the end of input
    /// (cells read so far), record too long (no cells), unexpected character
    /// after a closing quote (the cells before it). After an error the reader
    /// skips to the record's end, honouring quotes. Valid only during the
    /// callback.
    std::string_view error;
  };

  /// Receives each record in order. One std::function built by the caller
  /// and passed to every feed() (building one per chunk may allocate). It
  /// must not call back into the same reader. If it throws, the exception
  /// leaves feed()/finish() and the reader must not be used again.
  using sink = std::function<void(const record&)>;

  /// Error messages, as record::error shows them.
  static constexpr std::string_view unterminated_quote_error =
      "unterminated quoted field; close the quote, and double any quote inside the field (\"\")";
  /// The formatted ones: "unexpected character 'x' after a closing quote; ..."
  /// (or "unexpected byte 0x01 ..." for bytes that are not printable ASCII),
  /// and "record is longer than 1048576 bytes; ..." with the configured limit.
  static std::string junk_after_quote_error(char c);
  static std::string too_long_error(size_t max_record_bytes);

  // Two constructors rather than `options o = {}`: GCC cannot use a nested
  // struct's member initializers in a default argument of its enclosing class.
  csv_reader() : csv_reader(options{}) {}
  explicit csv_reader(options o);

  /// Parses the next bytes of the input, calling `on_record` for every
  /// record they complete. Any chunking gives the same records as one call
  /// with the whole input.
  void feed(std::string_view bytes, const sink& on_record);

  /// End of input: hands over a last record that has no line end (an open
  /// quote makes it an error record). The reader is then spent: read the next
  /// input with a new one.
  void finish(const sink& on_record);

  /// Rows seen so far: records, error records and blank lines.
  uint64_t rows() const { return rows_; }

private:
  enum class state : uint8_t {
    field_start,     // before a cell: a quote here opens a quoted field
    unquoted,        // inside an unquoted cell
    quoted,          // inside quotes
    quote_in_quoted, // just after a quote inside quotes: "" or the closing one
    after_cr,        // a record ended at CR: a following LF belongs to it
  };
  enum class fault : uint8_t { none, junk_after_quote, unterminated_quote };

  void parse(const char* p, const char* end, const sink& on_record);
  const char* at_field_start(const char* p, const char* end, const sink& on_record);
  const char* in_unquoted(const char* p, const char* end, const sink& on_record);
  const char* in_quoted(const char* p, const char* end);
  const char* after_quote(const char* p, const sink& on_record);
  const char* end_record(const char* p, const sink& on_record);
  void emit(size_t raw_bytes, const sink& on_record);
  void fail(fault f, char c);

  /// Bytes of the current record up to `p` in the chunk being parsed.
  size_t raw(const char* p) const { return carried_ + static_cast<size_t>(p - rec_begin_); }
  /// Whether the record may still store bytes: false while skipping to the
  /// record's end after an error, or once it is longer than the limit.
  bool keep(size_t raw_bytes);
  void count_break_in_quotes(char c);

  options opts_;
  std::array<uint8_t, 256> class_{}; // byte -> which of the special kinds it is
  std::string too_long_;              // the over-long message, built once

  state state_ = state::field_start;
  bool skipping_ = false;   // an error or the length limit: track structure, store nothing
  bool cr_in_quotes_ = false; // the last byte was a CR inside quotes (CRLF is one line)
  fault fault_ = fault::none;
  char fault_char_ = 0;

  // The current record: cell contents back to back, and where each cell ends.
  std::string buf_;
  std::vector<size_t> ends_;
  std::vector<std::string_view> cells_; // rebuilt from ends_ for each record
  std::string error_text_;

  const char* rec_begin_ = nullptr; // where the record starts in the current chunk
  size_t carried_ = 0;              // bytes of the record in earlier chunks

  uint64_t rows_ = 0;
  uint64_t line_ = 1;
  uint64_t record_line_ = 1;

  uint8_t bom_seen_ = 0;   // leading bytes that matched EF BB BF so far
  bool bom_checked_ = false;
};

} // namespace hotlead

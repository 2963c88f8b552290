// The body of one POST /v1/leads:import, consumed as it arrives: CSV or
// NDJSON rows are validated on the io thread as their bytes come in and go
// to the org actor in batches (msg::import_rows: upsert, one journal write
// per shard and batch). At most max_in_flight batches are on their way; past
// that the stream is paused and the session stops reading, so memory holds
// a few batches whatever the body's size, and the client's upload runs at
// the speed rows are stored. Progress is the import job's (GET /v1/jobs/{id});
// the answer, once the body is complete and every batch answered, reports
// counts and each bad row with its number.
// Thread rules: io thread only (the session's and the bridge's callbacks).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/jobs.hpp"
#include "actors/messages.hpp"
#include "gateway/context.hpp"
#include "protocol/csv.hpp"
#include "protocol/import_rows.hpp"

namespace hotlead {

class import_stream final : public body_stream,
                            public std::enable_shared_from_this<import_stream> {
public:
  enum class format : uint8_t { csv, ndjson };

  struct options {
    format fmt = format::csv;
    msg::upsert_mode mode = msg::upsert_mode::email;
    import_mapping mapping;
  };

  static constexpr size_t batch_rows = 1000;
  static constexpr size_t max_in_flight = 4;
  static constexpr size_t max_listed_errors = 1000;
  static constexpr size_t max_line_bytes = 1 << 20;

  import_stream(edge_env& env, bridge& br, principal who, options o, std::shared_ptr<job> j);
  ~import_stream() override;

  void write(std::string_view bytes) override;
  bool paused() const override {
    return in_flight_ >= max_in_flight;
  }
  void on_resume(std::function<void()> resume) override {
    resume_ = std::move(resume);
  }

  /// The body is complete: answers `ctx` once every row is stored.
  void finish(const ctx_ptr& ctx);

  const std::shared_ptr<job>& run() const {
    return job_;
  }

private:
  void on_record(const csv_reader::record& r);
  void on_line(std::string_view line);
  void add(uint64_t row, lead_patch patch);
  void reject(uint64_t row, problem p);
  void send_batch();
  void on_outcome(size_t rows, caf::expected<msg::import_outcome>& r);
  void maybe_answer();
  std::string report() const;

  edge_env& env_;
  bridge& br_;
  principal who_;
  options opts_;
  std::shared_ptr<job> job_;

  csv_reader csv_;
  csv_reader::sink csv_sink_;
  std::vector<column_target> plan_; // empty until the header row
  std::string scratch_;             // one row's JSON
  std::string line_;                // NDJSON: the line being read
  bool line_too_long_ = false;
  uint64_t line_no_ = 0;

  msg::import_rows batch_;
  size_t in_flight_ = 0;
  std::function<void()> resume_;
  std::optional<problem> fatal_; // the header or mapping is unusable: nothing is imported
  ctx_ptr answer_to_;            // set by finish(), until answered
  bool body_done_ = false;

  uint64_t rows_ = 0, created_ = 0, updated_ = 0, unchanged_ = 0, failed_ = 0;
  std::vector<std::pair<uint64_t, problem>> errors_; // the first max_listed_errors
};

} // namespace hotlead

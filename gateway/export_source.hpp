// The body of GET /v1/leads:export, produced piece by piece on the io
// thread (http_session writes each piece as one chunk and asks for the next
// once it is written, so a slow reader never makes the server hold the whole
// export). The leads are those of the org that match the filters when the
// export starts (one scan per shard collects their ids); each piece reads
// the next leads under their shard's read lock and writes them with their
// score as of now. A lead deleted meanwhile is left out; one created
// meanwhile is not included.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gateway/http_types.hpp"
#include "protocol/lead.hpp"
#include "protocol/query.hpp"

namespace hotlead {

class router;
class model_registry;

class export_source final : public body_source {
public:
  enum class format : uint8_t { ndjson, csv };

  export_source(const router& rt, const model_registry& models, const list_query& q,
                format f);

  bool next(std::string& out) override;

  uint64_t leads() const {
    return total_;
  }

private:
  void write_csv_header(std::string& out) const;
  void write_csv_row(std::string& out, const lead& l, millis now) const;

  const router& rt_;
  const model_registry& models_;
  uint64_t org_;
  format fmt_;
  std::vector<std::vector<uint64_t>> ids_; // per shard
  std::vector<symbol> attribute_keys_;     // CSV: one column each, sorted by name
  size_t shard_ = 0, pos_ = 0;
  uint64_t total_ = 0;
  bool header_done_ = false;
};

} // namespace hotlead

// hotlead-bench's latency histogram: log-linear buckets in the style of
// HdrHistogram (128 linear sub-buckets per power of two, < 0.8% relative
// error), with a percentile reported as the highest value of its bucket.
// Not thread-safe: each worker thread records into its own, and main merges
// them once the workers have been joined.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace hotlead::bench {

class histogram {
public:
  static constexpr unsigned sub_bits = 7;
  static constexpr uint64_t sub = 1ull << sub_bits;

  histogram() : counts_((64 - sub_bits + 1) * sub, 0) {}

  void record(uint64_t v) {
    ++counts_[index(v)];
    ++total_;
    sum_ += static_cast<double>(v);
    max_ = std::max(max_, v);
    min_ = std::min(min_, v);
  }

  void merge(const histogram& o) {
    for (size_t i = 0; i < counts_.size(); ++i)
      counts_[i] += o.counts_[i];
    total_ += o.total_;
    sum_ += o.sum_;
    max_ = std::max(max_, o.max_);
    min_ = std::min(min_, o.min_);
  }

  uint64_t total() const {
    return total_;
  }
  uint64_t max() const {
    return total_ ? max_ : 0;
  }
  double mean() const {
    return total_ ? sum_ / static_cast<double>(total_) : 0;
  }

  /// The value at quantile q (0..1): the highest value of its bucket.
  uint64_t quantile(double q) const {
    if (!total_)
      return 0;
    auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_)));
    rank = std::clamp<uint64_t>(rank, 1, total_);
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank)
        return std::min(highest(i), max_);
    }
    return max_;
  }

private:
  static size_t index(uint64_t v) {
    if (v < sub)
      return static_cast<size_t>(v);
    unsigned m = 63u - static_cast<unsigned>(__builtin_clzll(v)); // m >= sub_bits
    uint64_t mant = v >> (m - sub_bits);                             // in [sub, 2*sub)
    return static_cast<size_t>(m - sub_bits + 1) * sub + static_cast<size_t>(mant - sub);
  }
  static uint64_t highest(size_t i) {
    if (i < sub)
      return i;
    uint64_t octave = i / sub; // >= 1
    unsigned m = static_cast<unsigned>(octave + sub_bits - 1);
    uint64_t mant = (i % sub) + sub;
    unsigned shift = m - sub_bits;
    return (mant << shift) + ((1ull << shift) - 1);
  }

  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  double sum_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = UINT64_MAX;
};

} // namespace hotlead::bench

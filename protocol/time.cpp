#include "protocol/time.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <cstring>

namespace hotlead {

namespace {

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp + (mp < 10 ? 3 : -9);
  y = static_cast<int>(yy + (m <= 2));
}

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size())
    return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

unsigned days_in_month(int y, unsigned m) {
  static constexpr unsigned table[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : table[m - 1];
}

} // namespace

millis now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void append_time(std::string& out, millis t) {
  char buf[time_chars];
  out.append(buf, write_time(buf, t));
}

namespace {

// "000102...99": two decimal digits per value below 100.
constexpr auto digit_pairs = [] {
  std::array<char, 200> t{};
  for (size_t v = 0; v < 100; ++v) {
    t[2 * v] = static_cast<char>('0' + v / 10);
    t[2 * v + 1] = static_cast<char>('0' + v % 10);
  }
  return t;
}();

} // namespace

char* write_time(char* buf, millis t) {
  // Hot: a lead's JSON holds ~15 times, spread over many days. Digits by
  // hand, and the date part ("YYYY-MM-DDT") from a small per-thread cache
  // indexed by the day.
  int64_t days = t >= 0 ? t / 86400000 : (t - 86399999) / 86400000;
  auto rem = static_cast<uint32_t>(t - days * 86400000);
  struct cached_date {
    int64_t day = INT64_MIN;
    char text[11];
  };
  thread_local std::array<cached_date, 64> cache;
  auto& slot = cache[static_cast<uint64_t>(days) % cache.size()];
  char* date = slot.text;
  if (slot.day != days) {
    int y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    if (y < 0 || y > 9999)
      y = 0;
    date[0] = static_cast<char>('0' + y / 1000);
    date[1] = static_cast<char>('0' + y / 100 % 10);
    date[2] = static_cast<char>('0' + y / 10 % 10);
    date[3] = static_cast<char>('0' + y % 10);
    date[4] = '-';
    date[5] = static_cast<char>('0' + m / 10);
    date[6] = static_cast<char>('0' + m % 10);
    date[7] = '-';
    date[8] = static_cast<char>('0' + d / 10);
    date[9] = static_cast<char>('0' + d % 10);
    date[10] = 'T';
    slot.day = days;
  }
  std::memcpy(buf, date, 11);
  auto two = [&buf](size_t at, uint32_t v) { std::memcpy(buf + at, &digit_pairs[2 * v], 2); };
  two(11, rem / 3600000);
  buf[13] = ':';
  two(14, rem / 60000 % 60);
  buf[16] = ':';
  two(17, rem / 1000 % 60);
  buf[19] = '.';
  auto ms = rem % 1000;
  buf[20] = static_cast<char>('0' + ms / 100);
  two(21, ms % 100);
  buf[23] = 'Z';
  return buf + time_chars;
}

std::string format_time(millis t) {
  std::string out;
  append_time(out, t);
  return out;
}

std::optional<millis> parse_time(std::string_view s) {
  int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) ||
      s[7] != '-' || !digits(s, 8, 2, d))
    return std::nullopt;
  if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
      static_cast<unsigned>(d) > days_in_month(y, static_cast<unsigned>(mo)))
    return std::nullopt;
  size_t pos = 10;
  int offset_min = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')
      return std::nullopt;
    if (!digits(s, pos + 1, 2, h) || s.size() < pos + 9 || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, mi) || s[pos + 6] != ':' || !digits(s, pos + 7, 2, sec))
      return std::nullopt;
    if (h > 23 || mi > 59 || sec > 60)
      return std::nullopt;
    pos += 9;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int scale = 100, n = 0;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        ms += (s[pos] - '0') * scale;
        scale /= 10;
        ++pos;
        ++n;
      }
      if (n == 0)
        return std::nullopt;
    }
    if (pos >= s.size())
      return std::nullopt; // a time needs a zone
    if (s[pos] == 'Z' || s[pos] == 'z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      int oh, om;
      if (!digits(s, pos + 1, 2, oh) || s.size() < pos + 6 || s[pos + 3] != ':' ||
          !digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
        return std::nullopt;
      offset_min = (oh * 60 + om) * (s[pos] == '+' ? 1 : -1);
      pos += 6;
    } else {
      return std::nullopt;
    }
    if (pos != s.size())
      return std::nullopt;
  }
  int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
  return secs * 1000 + ms;
}

} // namespace hotlead

#include <retort/engine/column_traits.hpp>

#include <charconv>
#include <cstdio>

namespace retort {

void throw_unexpected_null(const DriverStatement& statement, int column) {
  throw DataError("column '" + std::string(statement.column_name(column)) +
                      "' is NULL but is read into a non-optional type; map it as std::optional",
                  "", 0, statement.sql());
}

namespace {

using namespace std::chrono;

// A tiny cursor over ISO-8601 text: each read either consumes what it expects or fails.
struct Cursor {
  std::string_view text;
  std::size_t pos = 0;

  bool digits(std::size_t count, int& out) {
    if (pos + count > text.size()) return false;
    auto begin = text.data() + pos;
    auto [end, ec] = std::from_chars(begin, begin + count, out);
    if (ec != std::errc() || end != begin + count) return false;
    pos += count;
    return true;
  }
  bool literal(char c) {
    if (pos >= text.size() || text[pos] != c) return false;
    ++pos;
    return true;
  }
  bool at_end() const { return pos == text.size(); }
  char peek() const { return pos < text.size() ? text[pos] : '\0'; }
};

[[noreturn]] void bad(std::string_view what, std::string_view text) {
  throw DataError("cannot parse " + std::string(what) + " from '" + std::string(text) + "'", "", 0,
                  "");
}

bool read_date(Cursor& c, sys_days& out) {
  int y = 0, m = 0, d = 0;
  if (!(c.digits(4, y) && c.literal('-') && c.digits(2, m) && c.literal('-') && c.digits(2, d)))
    return false;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(m)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return false;
  out = sys_days(ymd);
  return true;
}

bool read_time(Cursor& c, microseconds& out) {
  int h = 0, mi = 0, s = 0;
  if (!(c.digits(2, h) && c.literal(':') && c.digits(2, mi))) return false;
  if (c.literal(':') && !c.digits(2, s)) return false;
  std::int64_t micros = 0;
  if (c.literal('.')) {
    int scale = 100000;
    while (c.peek() >= '0' && c.peek() <= '9') {
      micros += (c.peek() - '0') * scale;
      scale /= 10;
      ++c.pos;
    }
  }
  if (h > 24 || mi > 59 || s > 60) return false;
  out = hours(h) + minutes(mi) + seconds(s) + microseconds(micros);
  return true;
}

// "+05", "+05:30", "-0800" or "Z"; returns the offset to subtract to reach UTC.
bool read_offset(Cursor& c, minutes& out) {
  if (c.at_end()) return true;
  if (c.literal('Z')) return true;
  const char sign = c.peek();
  if (sign != '+' && sign != '-') return false;
  ++c.pos;
  int h = 0, m = 0;
  if (!c.digits(2, h)) return false;
  c.literal(':');
  if (!c.at_end() && !c.digits(2, m)) return false;
  out = hours(h) + minutes(m);
  if (sign == '-') out = -out;
  return true;
}

// Two digits, zero-padded (hours of a time of day may exceed 99 only for invalid input).
std::string two(long v) {
  std::string out = std::to_string(v);
  if (out.size() < 2) out.insert(0, 2 - out.size(), '0');
  return out;
}

} // namespace

std::string format_date(SqlDate date) {
  year_month_day ymd{date};
  // The reader takes four-digit years, and PostgreSQL spells other years differently ("10000",
  // "0044-03-15 BC"); a value written must read back, so others are refused here, before they
  // reach the database (Python's datetime has the same range).
  const int y = static_cast<int>(ymd.year());
  if (y < 1 || y > 9999)
    throw DataError("the date with year " + std::to_string(y) +
                        " cannot be stored: Retort writes and reads the years 1 to 9999",
                    "", 0, "");
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

std::string format_time(SqlTime time) {
  if (time < SqlTime::zero() || time > hours(24))
    throw DataError("the time of day " + std::to_string(time.count()) +
                        " us cannot be stored: it must lie between 00:00 and 24:00",
                    "", 0, "");
  const auto h = duration_cast<hours>(time);
  const auto m = duration_cast<minutes>(time - h);
  const auto s = duration_cast<seconds>(time - h - m);
  const auto us = (time - h - m - s).count();
  std::string out = two(h.count()) + ":" + two(m.count()) + ":" + two(s.count());
  if (us != 0) {
    char buf[16];
    std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(us));
    out += buf;
  }
  return out;
}

std::string format_date_time(SqlDateTime time) {
  const auto day = floor<days>(time);
  return format_date(day) + " " + format_time(time - day);
}

SqlDate parse_date(std::string_view text) {
  Cursor c{text};
  sys_days out;
  if (!read_date(c, out) || !c.at_end()) bad("a date", text);
  return out;
}

SqlTime parse_time(std::string_view text) {
  Cursor c{text};
  microseconds out{};
  if (!read_time(c, out) || !c.at_end()) bad("a time", text);
  return out;
}

SqlDateTime parse_date_time(std::string_view text) {
  Cursor c{text};
  sys_days day;
  microseconds time_of_day{};
  minutes offset{0};
  if (!read_date(c, day)) bad("a timestamp", text);
  if (!c.at_end()) {
    if (!(c.literal(' ') || c.literal('T'))) bad("a timestamp", text);
    if (!read_time(c, time_of_day) || !read_offset(c, offset) || !c.at_end())
      bad("a timestamp", text);
  }
  return SqlDateTime(day) + time_of_day - offset;
}

} // namespace retort

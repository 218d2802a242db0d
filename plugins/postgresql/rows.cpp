#include "rows.hpp"
#include "oids.hpp"

#include <retort/core/error.hpp>

#include <charconv>
#include <cstring>

namespace retort::postgresql {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

} // namespace

void PgRows::reset(ResultPtr result, std::string* sql_for_errors) {
  result_ = std::move(result);
  sql_ = sql_for_errors;
  rows_ = result_ ? PQntuples(result_.get()) : 0;
  columns_ = result_ ? PQnfields(result_.get()) : 0;
  types_.resize(static_cast<std::size_t>(columns_));
  for (int i = 0; i < columns_; ++i)
    types_[static_cast<std::size_t>(i)] = PQftype(result_.get(), i);
  row_ = -1;
  blobs_.clear();
}

void PgRows::clear() noexcept {
  result_.reset();
  rows_ = 0;
  row_ = -1;
  columns_ = 0;
  types_.clear();
}

int PgRows::column_count() const noexcept { return columns_; }

void PgRows::bad_position(int i) const {
  if (row_ < 0 || row_ >= rows_)
    throw InvalidStateError("no current row" + (sql_ ? " in result of: " + *sql_ : std::string()));
  throw ArgumentError("column index " + std::to_string(i) + " out of range (" +
                      std::to_string(columns_) + " columns)");
}

void PgRows::bad_cell(int i, const char* wanted) const {
  throw DataError("column \"" + std::string(PQfname(result_.get(), i)) + "\" value '" +
                      std::string(get_text(i)) + "' is not " + wanted,
                  "22P02", 0, sql_ ? *sql_ : std::string());
}

std::string_view PgRows::column_name(int i) const {
  if (!result_ || i < 0 || i >= PQnfields(result_.get()))
    throw ArgumentError("column index " + std::to_string(i) + " out of range");
  return PQfname(result_.get(), i);
}

bool PgRows::is_null(int i) const {
  check_cell(i);
  return PQgetisnull(result_.get(), row_, i) != 0;
}

std::string_view PgRows::get_text(int i) const {
  check_cell(i);
  return {PQgetvalue(result_.get(), row_, i),
          static_cast<std::size_t>(PQgetlength(result_.get(), row_, i))};
}

namespace {

// Integer text as PostgreSQL sends it: an optional minus sign, then decimal digits. Up to 18
// digits cannot overflow, which covers every key and count in practice; longer text goes
// through from_chars and its overflow check. Cheaper than from_chars for the short case, and
// called for every integer cell of every row.
bool parse_integer(std::string_view text, std::int64_t& out) {
  const bool negative = !text.empty() && text.front() == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty() || digits.size() > 18) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
  }
  std::int64_t value = 0;
  for (char c : digits) {
    const unsigned digit = static_cast<unsigned>(c - '0');
    if (digit > 9) return false;
    value = value * 10 + digit;
  }
  out = negative ? -value : value;
  return true;
}

} // namespace

std::int64_t PgRows::get_int64(int i) const {
  const std::string_view text = get_text(i);
  // NULL reads as 0 (see DriverStatement); only an empty text can be NULL.
  if (text.empty() && PQgetisnull(result_.get(), row_, i)) return 0;
  if (type_of(i) == bool_oid) return text == "t" ? 1 : 0;
  std::int64_t out = 0;
  if (!parse_integer(text, out)) bad_cell(i, "an integer");
  return out;
}

double PgRows::get_double(int i) const {
  std::string_view text = get_text(i);
  if (text.empty() && PQgetisnull(result_.get(), row_, i)) return 0.0;
  double out = 0.0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size()) bad_cell(i, "a number");
  return out;
}

bool PgRows::get_bool(int i) const {
  std::string_view text = get_text(i);
  if (text.empty() && PQgetisnull(result_.get(), row_, i)) return false;
  if (text == "t" || text == "true") return true;
  if (text == "f" || text == "false") return false;
  return get_int64(i) != 0;
}

std::span<const std::byte> PgRows::get_blob(int i) const {
  std::string_view text = get_text(i);
  if (type_of(i) != bytea_oid)
    return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
  if (blobs_.size() < types_.size()) blobs_.resize(types_.size());
  blobs_[static_cast<std::size_t>(i)] = decode_bytea(text);
  return blobs_[static_cast<std::size_t>(i)];
}

Value PgRows::get_value(int i) const {
  if (is_null(i)) return Value{};
  switch (type_of(i)) {
  case int2_oid:
  case int4_oid:
  case int8_oid:
  case oid_oid: return Value(get_int64(i));
  case float4_oid:
  case float8_oid: return Value(get_double(i));
  case bool_oid: return Value(get_bool(i));
  case bytea_oid: {
    auto bytes = get_blob(i);
    return Value(Blob(bytes.begin(), bytes.end()));
  }
  // NUMERIC stays text so that no digit is lost; dates and times are ISO-8601 text.
  default: return Value(std::string(get_text(i)));
  }
}

std::int64_t PgRows::rows_affected() const {
  if (!result_) return 0;
  const char* tuples = PQcmdTuples(result_.get());
  std::int64_t out = 0;
  std::from_chars(tuples, tuples + std::strlen(tuples), out);
  return out;
}

Blob decode_bytea(std::string_view text) {
  Blob out;
  if (text.starts_with("\\x")) {
    out.reserve((text.size() - 2) / 2);
    for (std::size_t k = 2; k + 1 < text.size(); k += 2) {
      int hi = hex_digit(text[k]);
      int lo = hex_digit(text[k + 1]);
      if (hi < 0 || lo < 0) throw DataError("malformed bytea text", "22P02", 0, "");
      out.push_back(static_cast<std::byte>(hi * 16 + lo));
    }
    return out;
  }
  // Legacy "escape" output (bytea_output = escape): let libpq undo it.
  std::string zero_terminated(text);
  std::size_t length = 0;
  unsigned char* raw =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(zero_terminated.c_str()), &length);
  if (!raw) throw DataError("malformed bytea text", "22P02", 0, "");
  const auto* bytes = reinterpret_cast<const std::byte*>(raw);
  out.assign(bytes, bytes + length);
  PQfreemem(raw);
  return out;
}

} // namespace retort::postgresql

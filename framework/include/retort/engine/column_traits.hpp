// How a C++ type is read from a result column and written as a bound parameter. The ORM maps
// members through these traits; applications add their own value types by specialising
// ColumnTraits<T> (see the user-defined example in tests/orm).
#pragma once

#include <retort/core/error.hpp>
#include <retort/core/export.hpp>
#include <retort/core/types.hpp>
#include <retort/core/value.hpp>
#include <retort/engine/driver.hpp>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace retort {

/// Specialise for a type T to map it: `static T read(const DriverStatement&, int column)`,
/// `static Value to_value(const T&)`, `static constexpr SqlType sql_type` and
/// `static constexpr bool nullable`.
template <typename T> struct ColumnTraits;

/// A type Retort knows how to read and bind.
template <typename T>
concept Mappable = requires(const DriverStatement& s, const T& v) {
  { ColumnTraits<T>::read(s, 0) } -> std::convertible_to<T>;
  { ColumnTraits<T>::to_value(v) } -> std::convertible_to<Value>;
  ColumnTraits<T>::sql_type;
};

// Reading NULL into a non-optional member is an error rather than a silent zero: it means the
// model says NOT NULL while the database disagrees.
[[noreturn]] RETORT_API void throw_unexpected_null(const DriverStatement& statement, int column);

/// Integral types except bool.
template <typename T>
requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) struct ColumnTraits<T> {
  static constexpr SqlType sql_type = sizeof(T) >= 8   ? BigInteger
                                      : sizeof(T) <= 2 ? SmallInteger
                                                       : Integer;
  static constexpr bool nullable = false;
  static T read(const DriverStatement& s, int i) {
    // A NULL reads as 0 (see DriverStatement), so only a zero needs the is_null() call.
    const std::int64_t v = s.get_int64(i);
    if (v == 0 && s.is_null(i)) throw_unexpected_null(s, i);
    return static_cast<T>(v);
  }
  static Value to_value(T v) { return Value(static_cast<std::int64_t>(v)); }
};

/// bool.
template <> struct ColumnTraits<bool> {
  static constexpr SqlType sql_type = Boolean;
  static constexpr bool nullable = false;
  static bool read(const DriverStatement& s, int i) {
    const bool v = s.get_bool(i);
    if (!v && s.is_null(i)) throw_unexpected_null(s, i);
    return v;
  }
  static Value to_value(bool v) { return Value(v); }
};

/// double and float.
template <std::floating_point T> struct ColumnTraits<T> {
  static constexpr SqlType sql_type = Float;
  static constexpr bool nullable = false;
  static T read(const DriverStatement& s, int i) {
    const double v = s.get_double(i);
    if (v == 0.0 && s.is_null(i)) throw_unexpected_null(s, i);
    return static_cast<T>(v);
  }
  static Value to_value(T v) { return Value(static_cast<double>(v)); }
};

/// std::string.
template <> struct ColumnTraits<std::string> {
  static constexpr SqlType sql_type = String();
  static constexpr bool nullable = false;
  static std::string read(const DriverStatement& s, int i) {
    // A NULL reads as empty text (see DriverStatement): only then is is_null() needed.
    const std::string_view text = s.get_text(i);
    if (text.empty() && s.is_null(i)) throw_unexpected_null(s, i);
    return std::string(text);
  }
  static Value to_value(const std::string& v) { return Value(v); }
};

/// Bytes.
template <> struct ColumnTraits<Blob> {
  static constexpr SqlType sql_type = LargeBinary;
  static constexpr bool nullable = false;
  static Blob read(const DriverStatement& s, int i) {
    if (s.is_null(i)) throw_unexpected_null(s, i);
    auto bytes = s.get_blob(i);
    return Blob(bytes.begin(), bytes.end());
  }
  static Value to_value(const Blob& v) { return Value(v); }
};

/// A nullable column.
template <typename T> struct ColumnTraits<std::optional<T>> {
  static constexpr SqlType sql_type = ColumnTraits<T>::sql_type;
  static constexpr bool nullable = true;
  static std::optional<T> read(const DriverStatement& s, int i) {
    if (s.is_null(i)) return std::nullopt;
    return ColumnTraits<T>::read(s, i);
  }
  static Value to_value(const std::optional<T>& v) {
    if (!v) return Value();
    return ColumnTraits<T>::to_value(*v);
  }
};

/// Calendar date; stored as ISO-8601 "YYYY-MM-DD".
using SqlDate = std::chrono::sys_days;
/// Date and time (UTC, microsecond precision); stored as "YYYY-MM-DD HH:MM:SS.ffffff".
using SqlDateTime = std::chrono::sys_time<std::chrono::microseconds>;
/// Time of day since midnight (microseconds); stored as "HH:MM:SS.ffffff".
using SqlTime = std::chrono::microseconds;

/// Formats a date as ISO-8601.
RETORT_API std::string format_date(SqlDate date);
/// Formats a timestamp as ISO-8601 with a space separator.
RETORT_API std::string format_date_time(SqlDateTime time);
/// Formats a time of day as ISO-8601.
RETORT_API std::string format_time(SqlTime time);
/// Parses "YYYY-MM-DD"; throws DataError.
RETORT_API SqlDate parse_date(std::string_view text);
/// Parses "YYYY-MM-DD[ T]HH:MM:SS[.f][+hh[:mm]|Z]" into UTC; throws DataError.
RETORT_API SqlDateTime parse_date_time(std::string_view text);
/// Parses "HH:MM:SS[.f]"; throws DataError.
RETORT_API SqlTime parse_time(std::string_view text);

/// Dates.
template <> struct ColumnTraits<SqlDate> {
  static constexpr SqlType sql_type = Date;
  static constexpr bool nullable = false;
  static SqlDate read(const DriverStatement& s, int i) {
    if (s.is_null(i)) throw_unexpected_null(s, i);
    return parse_date(s.get_text(i));
  }
  static Value to_value(SqlDate v) { return Value(format_date(v)); }
};

/// Timestamps.
template <> struct ColumnTraits<SqlDateTime> {
  static constexpr SqlType sql_type = DateTime;
  static constexpr bool nullable = false;
  static SqlDateTime read(const DriverStatement& s, int i) {
    if (s.is_null(i)) throw_unexpected_null(s, i);
    return parse_date_time(s.get_text(i));
  }
  static Value to_value(SqlDateTime v) { return Value(format_date_time(v)); }
};

/// Times of day.
template <> struct ColumnTraits<SqlTime> {
  static constexpr SqlType sql_type = Time;
  static constexpr bool nullable = false;
  static SqlTime read(const DriverStatement& s, int i) {
    if (s.is_null(i)) throw_unexpected_null(s, i);
    return parse_time(s.get_text(i));
  }
  static Value to_value(SqlTime v) { return Value(format_time(v)); }
};

/// Reads column `i` of the current row as T.
template <Mappable T> T read_column(const DriverStatement& statement, int i) {
  return ColumnTraits<T>::read(statement, i);
}

/// Converts `v` into a bound-parameter Value.
template <Mappable T> Value to_value(const T& v) { return ColumnTraits<T>::to_value(v); }

} // namespace retort

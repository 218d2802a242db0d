// SQL column types, as the schema declares them. A dialect turns each into its DDL type name.
#pragma once

#include <cstdint>

namespace retort {

/// The generic SQL types of DESIGN.md; dialects map them to their own names.
enum class TypeKind {
  integer,
  big_integer,
  small_integer,
  string,
  text,
  floating,
  numeric,
  boolean,
  date,
  date_time,
  time,
  large_binary,
};

/// A column type with its parameters (length of a String, precision/scale of a Numeric).
struct SqlType {
  TypeKind kind = TypeKind::integer;
  /// String(n): the length; 0 means unbounded.
  std::uint32_t length = 0;
  /// Numeric(p, s): precision and scale; 0 precision means unconstrained.
  std::uint16_t precision = 0;
  std::uint16_t scale = 0;
  /// DateTime: WITH TIME ZONE where the dialect supports it.
  bool timezone = false;

  friend bool operator==(const SqlType&, const SqlType&) = default;
};

/// Integer column type.
inline constexpr SqlType Integer{TypeKind::integer};
/// 64-bit integer column type.
inline constexpr SqlType BigInteger{TypeKind::big_integer};
/// 16-bit integer column type.
inline constexpr SqlType SmallInteger{TypeKind::small_integer};
/// Unbounded text column type.
inline constexpr SqlType Text{TypeKind::text};
/// Double-precision floating-point column type.
inline constexpr SqlType Float{TypeKind::floating};
/// Boolean column type.
inline constexpr SqlType Boolean{TypeKind::boolean};
/// Calendar date column type.
inline constexpr SqlType Date{TypeKind::date};
/// Date and time column type.
inline constexpr SqlType DateTime{TypeKind::date_time};
/// Time-of-day column type.
inline constexpr SqlType Time{TypeKind::time};
/// Binary column type.
inline constexpr SqlType LargeBinary{TypeKind::large_binary};

/// VARCHAR(n); String(0) is unbounded.
constexpr SqlType String(std::uint32_t length = 0) { return SqlType{TypeKind::string, length}; }
/// NUMERIC(precision, scale).
constexpr SqlType Numeric(std::uint16_t precision = 0, std::uint16_t scale = 0) {
  return SqlType{TypeKind::numeric, 0, precision, scale};
}
/// TIMESTAMP WITH TIME ZONE.
inline constexpr SqlType DateTimeTz{TypeKind::date_time, 0, 0, 0, true};

} // namespace retort

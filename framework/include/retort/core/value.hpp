// A dynamically typed SQL value: what travels as a bound parameter and what a row can be read
// as when its type is not known at compile time. Hot paths read rows through typed accessors
// instead (see engine/result.hpp), so a Value is never built per column there.
#pragma once

#include <retort/core/export.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace retort {

/// Bytes of a BLOB / BYTEA value.
using Blob = std::vector<std::byte>;

/// SQL NULL.
struct Null {
  friend bool operator==(Null, Null) = default;
};

/// The kinds a Value can hold; dates and times travel as ISO-8601 text.
enum class ValueKind { null, integer, real, text, blob, boolean };

/// One SQL value: NULL, 64-bit integer, double, UTF-8 text, bytes or boolean.
class RETORT_API Value {
public:
  /// NULL.
  Value() = default;
  /// NULL.
  Value(Null) {}
  /// An integer; every integral type but bool widens to 64 bits.
  template <typename I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) Value(I v)
      : data_(static_cast<std::int64_t>(v)) {}
  /// A boolean.
  Value(bool v) : data_(v) {}
  /// A floating-point number.
  Value(double v) : data_(v) {}
  /// Text, copied.
  Value(const std::string& v) : data_(v) {}
  /// Text, moved in (one move: bulk rows box every string this way).
  Value(std::string&& v) : data_(std::move(v)) {}
  /// Text.
  Value(std::string_view v) : data_(std::string(v)) {}
  /// Text.
  Value(const char* v) : data_(std::string(v)) {}
  /// Bytes.
  Value(Blob v) : data_(std::move(v)) {}

  /// Which kind of value this is.
  ValueKind kind() const noexcept { return static_cast<ValueKind>(data_.index()); }
  /// True for SQL NULL.
  bool is_null() const noexcept { return data_.index() == 0; }
  /// The integer; throws ArgumentError for another kind (a boolean reads as 0/1).
  std::int64_t as_int() const;
  /// The number; integers convert.
  double as_double() const;
  /// The text; throws ArgumentError for another kind.
  const std::string& as_text() const;
  /// The bytes; throws ArgumentError for another kind.
  const Blob& as_blob() const;
  /// The boolean; integers read as non-zero.
  bool as_bool() const;
  /// A short human-readable rendering for logs (text quoted, blobs as their length).
  std::string to_display() const;
  /// Calls `f` with what the value holds (Null, std::int64_t, double, std::string, Blob or
  /// bool) and returns its result: one inline dispatch, for hot loops such as parameter binding.
  template <typename F> decltype(auto) visit(F&& f) const {
    return std::visit(
        [&f](const auto& v) -> decltype(auto) {
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::monostate>)
            return std::forward<F>(f)(Null{});
          else
            return std::forward<F>(f)(v);
        },
        data_);
  }

  friend bool operator==(const Value&, const Value&) = default;

private:
  std::variant<std::monostate, std::int64_t, double, std::string, Blob, bool> data_;
};

} // namespace retort

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

  /// Text that is not copied, as libpq's and SQLite's static bindings take it: the caller keeps
  /// `text` alive and unchanged while the Value (and every copy of it) is used. For binding
  /// many strings that already live elsewhere, such as a bulk insert's input or the members of
  /// the objects a flush writes, without a copy and a free per string.
  static Value borrowed(std::string_view text) noexcept {
    Value v;
    v.data_.emplace<borrowed_text>(text);
    return v;
  }

  /// Which kind of value this is.
  ValueKind kind() const noexcept {
    return data_.index() == borrowed_text ? ValueKind::text : static_cast<ValueKind>(data_.index());
  }
  /// True for text held by reference (see borrowed()).
  bool is_borrowed() const noexcept { return data_.index() == borrowed_text; }
  /// True for SQL NULL.
  bool is_null() const noexcept { return data_.index() == 0; }
  /// The integer; throws ArgumentError for another kind (a boolean reads as 0/1).
  std::int64_t as_int() const;
  /// The number; integers convert.
  double as_double() const;
  /// The text, owned or borrowed; throws ArgumentError for another kind.
  std::string_view as_text() const;
  /// The bytes; throws ArgumentError for another kind.
  const Blob& as_blob() const;
  /// The boolean; integers read as non-zero.
  bool as_bool() const;
  /// A short human-readable rendering for logs (text quoted, blobs as their length).
  std::string to_display() const;
  /// Calls `f` with what the value holds (Null, std::int64_t, double, std::string_view for
  /// text owned or borrowed, Blob or bool) and returns its result: one inline dispatch, for hot
  /// loops such as parameter binding.
  template <typename F> decltype(auto) visit(F&& f) const {
    return std::visit(
        [&f](const auto& v) -> decltype(auto) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::monostate>)
            return std::forward<F>(f)(Null{});
          else if constexpr (std::is_same_v<T, std::string>)
            return std::forward<F>(f)(std::string_view(v));
          else
            return std::forward<F>(f)(v);
        },
        data_);
  }

  /// Equal kinds and contents; owned and borrowed text compare by their characters.
  friend bool operator==(const Value& a, const Value& b) noexcept {
    if (a.kind() == ValueKind::text && b.kind() == ValueKind::text)
      return a.as_text_unchecked() == b.as_text_unchecked();
    return a.data_ == b.data_;
  }

private:
  // The alternatives' order is ValueKind's, with borrowed text appended after it.
  static constexpr std::size_t borrowed_text = 6;
  std::string_view as_text_unchecked() const noexcept {
    if (const auto* s = std::get_if<std::string>(&data_)) return *s;
    return *std::get_if<borrowed_text>(&data_);
  }

  std::variant<std::monostate, std::int64_t, double, std::string, Blob, bool, std::string_view>
      data_;
};

} // namespace retort

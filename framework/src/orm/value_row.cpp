#include <retort/core/error.hpp>
#include <retort/orm/value_row.hpp>

namespace retort {

std::int64_t ValueRow::get_int64(int i) const {
  const Value& v = values_[std::size_t(i)];
  if (v.kind() == ValueKind::real) return static_cast<std::int64_t>(v.as_double());
  return v.as_int();
}

std::string_view ValueRow::get_text(int i) const {
  const Value& v = values_[std::size_t(i)];
  if (v.kind() == ValueKind::text) return v.as_text();
  text_ = v.to_display();
  return text_;
}

std::span<const std::byte> ValueRow::get_blob(int i) const {
  const Blob& blob = values_[std::size_t(i)].as_blob();
  return {blob.data(), blob.size()};
}

const std::string& ValueRow::sql() const {
  static const std::string none = "(values)";
  return none;
}

} // namespace retort

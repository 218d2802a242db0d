#include <retort/core/error.hpp>
#include <retort/core/value.hpp>

#include <sstream>

namespace retort {

namespace {

const char* kind_name(ValueKind kind) {
  switch (kind) {
  case ValueKind::null: return "NULL";
  case ValueKind::integer: return "integer";
  case ValueKind::real: return "real";
  case ValueKind::text: return "text";
  case ValueKind::blob: return "blob";
  case ValueKind::boolean: return "boolean";
  }
  return "?";
}

[[noreturn]] void wrong_kind(ValueKind have, const char* wanted) {
  throw ArgumentError(std::string("value is ") + kind_name(have) + ", not " + wanted);
}

} // namespace

std::int64_t Value::as_int() const {
  if (auto* i = std::get_if<std::int64_t>(&data_)) return *i;
  if (auto* b = std::get_if<bool>(&data_)) return *b ? 1 : 0;
  wrong_kind(kind(), "integer");
}

double Value::as_double() const {
  if (auto* d = std::get_if<double>(&data_)) return *d;
  if (auto* i = std::get_if<std::int64_t>(&data_)) return static_cast<double>(*i);
  wrong_kind(kind(), "real");
}

std::string_view Value::as_text() const {
  if (kind() == ValueKind::text) return as_text_unchecked();
  wrong_kind(kind(), "text");
}

const Blob& Value::as_blob() const {
  if (auto* b = std::get_if<Blob>(&data_)) return *b;
  wrong_kind(kind(), "blob");
}

bool Value::as_bool() const {
  if (auto* b = std::get_if<bool>(&data_)) return *b;
  if (auto* i = std::get_if<std::int64_t>(&data_)) return *i != 0;
  wrong_kind(kind(), "boolean");
}

std::string Value::to_display() const {
  switch (kind()) {
  case ValueKind::null: return "None";
  case ValueKind::integer: return std::to_string(std::get<std::int64_t>(data_));
  case ValueKind::real: {
    std::ostringstream out;
    out << std::get<double>(data_);
    return out.str();
  }
  case ValueKind::text: return "'" + std::string(as_text_unchecked()) + "'";
  case ValueKind::blob: return "<" + std::to_string(std::get<Blob>(data_).size()) + " bytes>";
  case ValueKind::boolean: return std::get<bool>(data_) ? "True" : "False";
  }
  return "?";
}

} // namespace retort

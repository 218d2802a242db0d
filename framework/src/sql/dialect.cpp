#include <retort/sql/dialect.hpp>

#include <retort/core/error.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace retort {

namespace {

// Words that must be quoted when used as identifiers in every dialect we ship; a dialect with
// more reserved words overrides quote_identifier. Sorted for binary search.
constexpr std::array<std::string_view, 58> reserved_words = {
    "all",     "alter",  "and",     "any",        "as",         "asc",    "between", "by",
    "case",    "cast",   "check",   "column",     "constraint", "create", "cross",   "current_date",
    "default", "delete", "desc",    "distinct",   "drop",       "else",   "end",     "except",
    "exists",  "false",  "foreign", "from",       "full",       "group",  "having",  "in",
    "index",   "inner",  "insert",  "intersect",  "into",       "is",     "join",    "key",
    "left",    "like",   "limit",   "not",        "null",       "offset", "on",      "or",
    "order",   "outer",  "primary", "references", "right",      "select", "table",   "true",
    "union",   "user"};

bool needs_quoting(std::string_view id) {
  if (id.empty()) return true;
  if (!(id[0] == '_' || (id[0] >= 'a' && id[0] <= 'z'))) return true;
  for (char c : id) {
    bool plain = c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!plain) return true;
  }
  return std::binary_search(reserved_words.begin(), reserved_words.end(), id);
}

} // namespace

SqlDialect::~SqlDialect() = default;

std::string_view SqlDialect::parameter_cast(const Value&) const { return {}; }

const std::string& SqlDialect::commit_sql() const {
  static const std::string sql = "COMMIT";
  return sql;
}

std::string SqlDialect::type_name(const SqlType& type) const {
  switch (type.kind) {
  case TypeKind::integer: return "INTEGER";
  case TypeKind::big_integer: return "BIGINT";
  case TypeKind::small_integer: return "SMALLINT";
  case TypeKind::string:
    return type.length == 0 ? "VARCHAR" : "VARCHAR(" + std::to_string(type.length) + ")";
  case TypeKind::text: return "TEXT"; // not standard, but every database we target has it
  case TypeKind::floating: return "DOUBLE PRECISION";
  case TypeKind::numeric:
    if (type.precision == 0) return "NUMERIC";
    return "NUMERIC(" + std::to_string(type.precision) + ", " + std::to_string(type.scale) + ")";
  case TypeKind::boolean: return "BOOLEAN";
  case TypeKind::date: return "DATE";
  case TypeKind::date_time: return type.timezone ? "TIMESTAMP WITH TIME ZONE" : "TIMESTAMP";
  case TypeKind::time: return "TIME";
  case TypeKind::large_binary: return "BLOB";
  }
  throw ArgumentError("type_name: unknown column type kind " +
                      std::to_string(static_cast<int>(type.kind)));
}

void SqlDialect::quote_identifier(std::string& out, std::string_view identifier) const {
  if (!needs_quoting(identifier)) {
    out += identifier;
    return;
  }
  out += '"';
  for (char c : identifier) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string SqlDialect::savepoint_sql(std::string_view name) const {
  std::string sql = "SAVEPOINT ";
  quote_identifier(sql, name);
  return sql;
}

std::string SqlDialect::release_savepoint_sql(std::string_view name) const {
  std::string sql = "RELEASE SAVEPOINT ";
  quote_identifier(sql, name);
  return sql;
}

std::string SqlDialect::rollback_to_savepoint_sql(std::string_view name) const {
  std::string sql = "ROLLBACK TO SAVEPOINT ";
  quote_identifier(sql, name);
  return sql;
}

std::string SqlDialect::generated_key_probe_sql(std::string_view table,
                                                std::string_view key) const {
  (void)table;
  (void)key;
  return {};
}

std::string SqlDialect::has_table_sql() const {
  std::string sql = "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema "
                    "AND table_name = ";
  render_placeholder(sql, 1);
  return sql;
}

void SqlDialect::render_literal(std::string& out, const Value& value) const {
  switch (value.kind()) {
  case ValueKind::null: out += "NULL"; return;
  case ValueKind::integer: out += std::to_string(value.as_int()); return;
  case ValueKind::boolean: out += value.as_bool() ? "TRUE" : "FALSE"; return;
  case ValueKind::real: {
    double d = value.as_double();
    if (!std::isfinite(d)) throw ArgumentError("a non-finite number cannot be a SQL literal");
    char buf[32];
    auto res = std::to_chars(buf, buf + sizeof buf, d);
    std::string_view text(buf, static_cast<std::size_t>(res.ptr - buf));
    out += text;
    // "1" would read back as an integer; keep the literal a real.
    if (text.find_first_of(".eE") == std::string_view::npos) out += ".0";
    return;
  }
  case ValueKind::text: {
    const std::string_view text = value.as_text();
    if (text.find('\0') != std::string_view::npos)
      throw ArgumentError("text with a NUL character cannot be a SQL literal");
    out += '\'';
    for (char c : text) {
      if (c == '\'') out += '\'';
      out += c;
    }
    out += '\'';
    return;
  }
  case ValueKind::blob: {
    static constexpr char hex[] = "0123456789ABCDEF";
    out += "X'";
    for (std::byte b : value.as_blob()) {
      auto v = static_cast<unsigned>(b);
      out += hex[v >> 4];
      out += hex[v & 0xF];
    }
    out += '\'';
    return;
  }
  }
}

} // namespace retort

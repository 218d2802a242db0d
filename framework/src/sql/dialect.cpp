#include <retort/sql/dialect.hpp>

#include <algorithm>
#include <array>

namespace retort {

namespace {

// Words that must be quoted when used as identifiers in every dialect we ship; a dialect with
// more reserved words overrides quote_identifier. Sorted for binary search.
constexpr std::array<std::string_view, 58> reserved_words = {
    "all",    "alter",   "and",    "any",      "as",        "asc",     "between", "by",
    "case",   "cast",    "check",  "column",   "constraint", "create", "cross",   "current_date",
    "default", "delete", "desc",   "distinct", "drop",      "else",    "end",     "except",
    "exists", "false",   "foreign", "from",    "full",      "group",   "having",  "in",
    "index",  "inner",   "insert", "intersect", "into",     "is",      "join",    "key",
    "left",   "like",    "limit",  "not",      "null",      "offset",  "on",      "or",
    "order",  "outer",   "primary", "references", "right",  "select",  "table",   "true",
    "union",  "user"};

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

} // namespace retort

#include "dialect.hpp"

#include <sqlite3.h>

namespace retort::sqlite {

namespace {

bool is_plain(std::string_view id) {
  if (id.empty() || !(id[0] == '_' || (id[0] >= 'a' && id[0] <= 'z'))) return false;
  for (char c : id)
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

void append_quoted(std::string& out, std::string_view id) {
  out += '"';
  for (char c : id) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

} // namespace

// The features arrived in these releases; the loaded library may be older than the headers.
SqliteDialect::SqliteDialect()
    : returning_(sqlite3_libversion_number() >= 3035000),
      nulls_ordering_(sqlite3_libversion_number() >= 3030000),
      full_outer_join_(sqlite3_libversion_number() >= 3039000),
      on_conflict_(sqlite3_libversion_number() >= 3024000) {}

void SqliteDialect::quote_identifier(std::string& out, std::string_view identifier) const {
  // SQLite knows ~150 keywords (WHERE, VALUES, SET, ...), more than the common list.
  if (is_plain(identifier) &&
      sqlite3_keyword_check(identifier.data(), static_cast<int>(identifier.size())) != 0) {
    append_quoted(out, identifier);
    return;
  }
  SqlDialect::quote_identifier(out, identifier);
}

void SqliteDialect::render_placeholder(std::string& out, std::size_t position) const {
  (void)position;
  out += '?';
}

std::string SqliteDialect::has_table_sql() const {
  return "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?";
}

std::string SqliteDialect::type_name(const SqlType& type) const {
  // SQLite keeps any declared name and derives a type affinity from it: these are the names
  // its own documentation uses. DATETIME for both kinds: SQLite has no time zone type (an
  // aware value is stored as ISO-8601 text with its offset).
  switch (type.kind) {
  case TypeKind::floating: return "FLOAT";
  case TypeKind::date_time: return "DATETIME";
  default: return SqlDialect::type_name(type);
  }
}

std::string SqliteDialect::autoincrement_type(const SqlType& type) const {
  // Only a column declared exactly INTEGER (not BIGINT) with PRIMARY KEY, inline or as the
  // table's single-column PRIMARY KEY(id), becomes the rowid alias that numbers itself.
  (void)type;
  return "INTEGER";
}

} // namespace retort::sqlite

#include "dialect.hpp"

#include <sqlite3.h>

namespace retort::sqlite {

const std::string_view key_is_rowid_condition =
    "((SELECT count(*) = 1 AND sum(name = ?2 AND upper(type) = 'INTEGER') = 1 FROM "
    "pragma_table_info(?1) WHERE pk > 0) AND NOT EXISTS (SELECT 1 FROM pragma_index_list(?1) "
    "WHERE origin = 'pk'))";

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

// last_insert_rowid() is a row's key only when the key is the rowid's alias
// (key_is_rowid_condition: the one primary key column, declared INTEGER, of a table with a rowid
// and no separate primary key index; a WITHOUT ROWID table's key may come from a DEFAULT). A
// multi-row INSERT numbers its rows largest + 1, + 2, ... unless a
// trigger inserts rows in between, which any trigger on the table, or naming it, might (a main or
// a temporary one); or the keys reach the largest rowid, after which SQLite picks free ones at
// random. The largest key is read from the key itself: max(rowid) does not compile for a WITHOUT
// ROWID table.
std::string SqliteDialect::generated_key_probe_sql(std::string_view table,
                                                   std::string_view key) const {
  std::string sql = "SELECT (SELECT max(";
  quote_identifier(sql, key);
  sql += ") FROM ";
  quote_identifier(sql, table);
  sql += "), ";
  sql += key_is_rowid_condition;
  sql += ", (SELECT count(*) FROM (SELECT tbl_name, sql FROM "
         "sqlite_master WHERE type = 'trigger' UNION ALL SELECT tbl_name, sql FROM "
         "sqlite_temp_master WHERE type = 'trigger') WHERE tbl_name = ?1 COLLATE NOCASE OR "
         "instr(lower(sql), lower(?1)) > 0)";
  return sql;
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

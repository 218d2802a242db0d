#include "generated_key.hpp"

#include "dialect.hpp"

#include <retort/core/error.hpp>

#include <string>

namespace retort::sqlite {

namespace {

// Binds text that lives until the statement is reset.
void bind_text(Handle& handle, sqlite3_stmt* stmt, int position, std::string_view text,
               const std::string& sql) {
  const int rc =
      sqlite3_bind_text(stmt, position, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  if (rc != SQLITE_OK) fail(handle, rc, Phase::bind, sql);
}

// Resets a kept statement on every way out, so that it holds no lock and no borrowed text.
struct ResetOnExit {
  sqlite3_stmt* stmt;
  ~ResetOnExit() {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
};

// The key column's value in the row whose rowid is `rowid`: for a key the rowid does not alias
// (a DEFAULT, a trigger), read inside the INSERT's own transaction. Rare, so prepared each time.
std::optional<std::int64_t> key_at_rowid(Handle& handle, std::string_view table,
                                         std::string_view key_column, std::int64_t rowid) {
  const SqliteDialect dialect;
  std::string sql = "SELECT ";
  dialect.quote_identifier(sql, key_column);
  sql += " FROM ";
  dialect.quote_identifier(sql, table);
  sql += " WHERE rowid = ?";
  StmtPtr stmt;
  try {
    stmt = prepare_one(handle, sql);
  } catch (const DatabaseError& e) {
    // A WITHOUT ROWID table has no rowid to find the row by.
    throw NotSupportedError("the key '" + std::string(table) + "." + std::string(key_column) +
                                "' cannot be read back after a one-row INSERT (" + e.what() +
                                "): give the key a value, or declare it INTEGER PRIMARY KEY",
                            "", 0, sql);
  }
  const int bound = sqlite3_bind_int64(stmt.get(), 1, rowid);
  if (bound != SQLITE_OK) fail(handle, bound, Phase::bind, sql);
  const int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE) return std::nullopt; // the row is gone (a trigger deleted it)
  if (rc != SQLITE_ROW) fail(handle, rc, Phase::step, sql);
  if (sqlite3_column_type(stmt.get(), 0) != SQLITE_INTEGER) return std::nullopt;
  return sqlite3_column_int64(stmt.get(), 0);
}

} // namespace

bool KeyProver::key_is_rowid(Handle& handle, std::string_view table, std::string_view key_column) {
  static const std::string sql = "SELECT " + std::string(key_is_rowid_condition);
  if (!check_) check_ = prepare_one(handle, sql);
  ResetOnExit reset{check_.get()};
  bind_text(handle, check_.get(), 1, table, sql);
  bind_text(handle, check_.get(), 2, key_column, sql);
  const int rc = sqlite3_step(check_.get());
  if (rc != SQLITE_ROW) fail(handle, rc, Phase::step, sql);
  return sqlite3_column_int64(check_.get(), 0) != 0;
}

// SQLite prepares a statement anew when the schema changed since it was prepared (by any
// connection, this one included), and counts it (SQLITE_STMTSTATUS_REPREPARE). A proof that the
// key is the rowid therefore holds for a statement until that count moves: then the table may
// be another one, and the proof is made again. A proof costs a read of the schema, once per
// prepared statement instead of once per INSERT.
std::optional<std::int64_t> KeyProver::key_of(Handle& handle, DriverStatement& insert,
                                              std::string_view table, std::string_view key_column) {
  const std::int64_t rowid = sqlite3_last_insert_rowid(handle.db);
  auto* statement = dynamic_cast<SqliteStatement*>(&insert);
  const int prepared = statement != nullptr ? statement->times_prepared_again() : -1;
  if (statement != nullptr && statement->rowid_key_proven_at == prepared) return rowid;
  if (key_is_rowid(handle, table, key_column)) {
    if (statement != nullptr) statement->rowid_key_proven_at = prepared;
    return rowid;
  }
  if (statement != nullptr) statement->rowid_key_proven_at = -1;
  return key_at_rowid(handle, table, key_column, rowid);
}

} // namespace retort::sqlite

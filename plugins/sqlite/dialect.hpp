// The SQLite SQL dialect: how Retort renders SQL for SQLite 3.35 and later.
#pragma once

#include <retort/sql/dialect.hpp>

#include <string_view>

namespace retort::sqlite {

/// The condition, over a table named by ?1 and a key column named by ?2, that the column is the
/// table's rowid alias: the one primary key column, declared INTEGER, in a rowid table without a
/// separate primary key index (a WITHOUT ROWID table, and `INTEGER PRIMARY KEY DESC`, have one).
/// Shared by the dialect's probe and by KeyProver (generated_key.hpp).
extern const std::string_view key_is_rowid_condition;

/// Rendering rules of SQLite; feature flags follow the library version loaded at run time.
class SqliteDialect final : public SqlDialect {
public:
  SqliteDialect();

  std::string_view name() const override { return "sqlite"; }
  void quote_identifier(std::string& out, std::string_view identifier) const override;
  void render_placeholder(std::string& out, std::size_t position) const override;
  std::string type_name(const SqlType& type) const override;
  std::string autoincrement_type(const SqlType& type) const override;
  bool supports_returning() const override { return returning_; }
  bool prefers_last_insert_id() const override { return true; }
  bool supports_multi_values_insert() const override { return true; }
  // sqlite3_bind_double() stores a NaN as NULL.
  bool stores_nan() const override { return false; }
  bool supports_ilike() const override { return false; }
  bool supports_nulls_ordering() const override { return nulls_ordering_; }
  bool supports_full_outer_join() const override { return full_outer_join_; }
  bool requires_limit_with_offset() const override { return true; }
  std::size_t max_bound_parameters() const override { return 32766; }
  std::string has_table_sql() const override;
  std::string generated_key_probe_sql(std::string_view table, std::string_view key) const override;
  bool supports_alter_add_constraint() const override { return false; }
  bool supports_on_conflict() const override { return on_conflict_; }
  bool upsert_select_needs_where() const override { return true; }
  bool concat_needs_parentheses_with_arithmetic() const override { return true; }

private:
  bool returning_;
  bool nulls_ordering_;
  bool full_outer_join_;
  bool on_conflict_;
};

} // namespace retort::sqlite

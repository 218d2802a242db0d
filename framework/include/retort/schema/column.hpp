// A column of a schema Table: name, type, nullability, keys, defaults, uniqueness, index and an
// optional foreign key. Built fluently: Column("id", Integer).primary_key().
#pragma once

#include <retort/core/export.hpp>
#include <retort/core/types.hpp>
#include <retort/core/value.hpp>
#include <retort/schema/constraints.hpp>

#include <optional>
#include <string>
#include <utility>

namespace retort {

/// Whether an integer primary key numbers itself.
enum class Autoincrement : std::uint8_t {
  /// Yes for a single-column integer primary key that is not a foreign key (SQLAlchemy's
  /// "auto").
  automatic,
  /// Always (ArgumentError when the column cannot).
  always,
  /// Never.
  never,
};

/// A column-level foreign key: ForeignKey("users.id").on_delete(ReferentialAction::cascade).
class RETORT_API ForeignKey {
public:
  /// References "table.column" (or "schema.table.column").
  ForeignKey(std::string target); // NOLINT: implicit by design, Column::references("users.id")
  /// References "table.column".
  ForeignKey(const char* target) : ForeignKey(std::string(target)) {}
  /// References `column` of `table`.
  ForeignKey(std::string table, std::string column);

  /// ON DELETE action.
  ForeignKey& on_delete(ReferentialAction action);
  /// ON UPDATE action.
  ForeignKey& on_update(ReferentialAction action);
  /// Names the constraint.
  ForeignKey& name(std::string name);
  /// Adds the constraint with ALTER TABLE after every table exists (breaks cycles).
  ForeignKey& use_alter(bool on = true);

  /// The referenced table.
  const std::string& table() const noexcept { return table_; }
  /// The referenced column.
  const std::string& column() const noexcept { return column_; }
  /// The table-level constraint for local column `local`.
  ForeignKeyConstraint constraint(const std::string& local) const;

private:
  std::string table_;
  std::string column_;
  std::optional<ReferentialAction> on_delete_;
  std::optional<ReferentialAction> on_update_;
  std::string name_;
  bool use_alter_ = false;
};

/// One column of a table.
class RETORT_API Column {
public:
  /// A nullable column of `type`.
  Column(std::string name, SqlType type);

  /// Makes the column (part of) the primary key; primary key columns are NOT NULL.
  Column& primary_key(bool on = true);
  /// Allows or forbids NULL.
  Column& nullable(bool on);
  /// Forbids NULL.
  Column& not_null() { return nullable(false); }
  /// Controls self-numbering of an integer primary key.
  Column& autoincrement(Autoincrement mode);
  /// Controls self-numbering: always or never.
  Column& autoincrement(bool on) {
    return autoincrement(on ? Autoincrement::always : Autoincrement::never);
  }
  /// A default written into the DDL as an escaped literal (the ORM may also apply it).
  Column& default_value(Value value);
  /// A default as SQL text, e.g. "CURRENT_TIMESTAMP"; written in parentheses, trusted as is.
  Column& server_default(std::string sql);
  /// A UNIQUE constraint on this column alone.
  Column& unique(bool on = true);
  /// An index on this column (a unique index when unique() too).
  Column& index(bool on = true);
  /// A foreign key to "table.column" or a ForeignKey with actions.
  Column& references(ForeignKey target);
  /// A foreign key with ON DELETE / ON UPDATE actions.
  Column& references(std::string target, ReferentialAction on_delete,
                     std::optional<ReferentialAction> on_update = std::nullopt);

  /// The column name.
  const std::string& name() const noexcept { return name_; }
  /// The column type.
  const SqlType& type() const noexcept { return type_; }
  /// Whether NULL is allowed (never for primary key columns).
  bool is_nullable() const noexcept { return nullable_.value_or(!primary_key_); }
  /// Whether the column is part of the primary key.
  bool is_primary_key() const noexcept { return primary_key_; }
  /// The autoincrement setting.
  Autoincrement autoincrement_mode() const noexcept { return autoincrement_; }
  /// The DDL default literal, if any.
  const std::optional<Value>& default_value() const noexcept { return default_; }
  /// The server default SQL, or empty.
  const std::string& server_default() const noexcept { return server_default_; }
  /// Whether the column is UNIQUE on its own.
  bool is_unique() const noexcept { return unique_; }
  /// Whether the column gets an index.
  bool is_indexed() const noexcept { return index_; }
  /// The column-level foreign key, if any.
  const std::optional<ForeignKey>& foreign_key() const noexcept { return foreign_key_; }

private:
  std::string name_;
  SqlType type_;
  std::optional<bool> nullable_;
  bool primary_key_ = false;
  Autoincrement autoincrement_ = Autoincrement::automatic;
  std::optional<Value> default_;
  std::string server_default_;
  bool unique_ = false;
  bool index_ = false;
  std::optional<ForeignKey> foreign_key_;
};

} // namespace retort

// Table-level constraints and indexes: PRIMARY KEY, FOREIGN KEY (with ON DELETE / ON UPDATE),
// UNIQUE, CHECK and CREATE INDEX.
#pragma once

#include <retort/core/export.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace retort {

/// What a foreign key does when the referenced row is deleted or its key updated.
enum class ReferentialAction : std::uint8_t { no_action, restrict, cascade, set_null, set_default };

/// The SQL words of `action`, e.g. "SET NULL".
RETORT_API const char* to_sql(ReferentialAction action);

/// PRIMARY KEY (columns...), for composite keys (or use Column::primary_key()).
struct PrimaryKeyConstraint {
  std::vector<std::string> columns;
  std::string name;
};

/// FOREIGN KEY (columns) REFERENCES table (referred_columns).
struct ForeignKeyConstraint {
  std::vector<std::string> columns;
  std::string referred_table;
  std::vector<std::string> referred_columns;
  std::optional<ReferentialAction> on_delete;
  std::optional<ReferentialAction> on_update;
  /// Constraint name; made up as fk_<table>_<columns> when needed and empty.
  std::string name;
  /// Added by ALTER TABLE after all tables exist (lets foreign keys form cycles).
  bool use_alter = false;
};

/// UNIQUE (columns...).
struct UniqueConstraint {
  std::vector<std::string> columns;
  std::string name;
};

/// CHECK (sql): `sql` is trusted SQL text written as is, e.g. "age >= 0".
struct CheckConstraint {
  std::string sql;
  std::string name;
};

/// CREATE [UNIQUE] INDEX name ON table (columns...).
struct Index {
  /// Index name; made up as ix_<table>_<columns> when empty.
  std::string name;
  std::vector<std::string> columns;
  bool unique = false;
};

} // namespace retort

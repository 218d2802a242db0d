// A schema Table: columns, keys, constraints and indexes, as SQLAlchemy's Table. It is also a
// FROM item of the sql layer: users.c("id") is a column expression, select(users) selects all.
#pragma once

#include <retort/core/export.hpp>
#include <retort/schema/column.hpp>
#include <retort/schema/constraints.hpp>
#include <retort/sql/expression.hpp>
#include <retort/sql/from.hpp>

#include <concepts>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace retort {

class MetaData;

/// Anything a Table is made of, besides its name.
using TableElement = std::variant<Column, PrimaryKeyConstraint, ForeignKeyConstraint,
                                  UniqueConstraint, CheckConstraint, Index>;

/// A table. Cheap to copy (shared, immutable after construction).
class RETORT_API Table {
public:
  /// An empty handle.
  Table() = default;
  /// A table from its columns and constraints; ArgumentError for duplicate or unknown
  /// columns, a missing name, or a bad key.
  Table(std::string name, std::vector<TableElement> elements);
  /// A table from its columns and constraints: Table("users", Column(...), Column(...)).
  template <typename... E>
  requires(std::constructible_from<TableElement, E>&&...) explicit Table(std::string name,
                                                                         E&&... elements)
      : Table(std::move(name),
              std::vector<TableElement>{TableElement(std::forward<E>(elements))...}) {}
  /// A table registered in `metadata` at once.
  template <typename... E>
  requires(std::constructible_from<TableElement, E>&&...)
      Table(MetaData& metadata, std::string name, E&&... elements)
      : Table(std::move(name),
              std::vector<TableElement>{TableElement(std::forward<E>(elements))...}) {
    register_in(metadata);
  }

  /// True when this handle holds a table.
  bool valid() const noexcept { return data_ != nullptr; }
  /// The table name.
  const std::string& name() const;
  /// The columns in declaration order.
  const std::vector<Column>& columns() const;
  /// The column `name`; ArgumentError if there is none.
  const Column& column(std::string_view name) const;
  /// Whether a column of that name exists.
  bool has_column(std::string_view name) const;
  /// Names of the primary key columns, in key order.
  const std::vector<std::string>& primary_key() const;
  /// Name of the primary key constraint, or empty.
  const std::string& primary_key_name() const;
  /// The self-numbering column (single integer primary key), or nullptr.
  const Column* autoincrement_column() const;
  /// Foreign keys, column-level ones included.
  const std::vector<ForeignKeyConstraint>& foreign_keys() const;
  /// UNIQUE constraints, column-level ones included (those without an index).
  const std::vector<UniqueConstraint>& unique_constraints() const;
  /// CHECK constraints.
  const std::vector<CheckConstraint>& checks() const;
  /// Indexes, column-level ones included, each with its (possibly made up) name.
  const std::vector<Index>& indexes() const;

  /// The column expression `table.name`; ArgumentError if there is none.
  const Expr& c(std::string_view name) const;
  /// Every column expression in order.
  const std::vector<Expr>& column_exprs() const;
  /// This table as a FROM item.
  const FromItem& from() const;
  /// This table as a FROM item.
  operator const FromItem&() const { return from(); }
  /// `table AS name`.
  FromItem alias(std::string name) const { return from().alias(std::move(name)); }
  /// `table JOIN right ON on`.
  FromItem join(const FromItem& right, const Expr& on) const { return from().join(right, on); }
  /// `table LEFT OUTER JOIN right ON on`.
  FromItem outerjoin(const FromItem& right, const Expr& on) const {
    return from().outerjoin(right, on);
  }

  /// The table's contents (defined inside libretort).
  struct Data;

private:
  void register_in(MetaData& metadata);
  const Data& data() const;
  std::shared_ptr<const Data> data_;
};

/// The ON clause joining `a` to `b` along the foreign key between them (either direction);
/// ArgumentError when there is none or more than one.
RETORT_API Expr join_condition(const Table& a, const Table& b);

} // namespace retort

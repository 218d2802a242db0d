// What a FROM clause is made of: tables, table aliases, subqueries, common table expressions
// and joins of those. The schema layer's Table converts to a FromItem; table() makes a
// lightweight one when no schema object is at hand.
#pragma once

#include <retort/core/export.hpp>
#include <retort/core/types.hpp>
#include <retort/sql/expression.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace retort {

namespace detail {
struct FromNode;
} // namespace detail

/// How two FROM items are joined.
enum class JoinKind : std::uint8_t { inner, left, full };

/// The kind of a FROM item.
enum class FromKind : std::uint8_t { table, alias, subquery, cte, join };

/// A table, alias, subquery, CTE or join, usable in FROM and as the target of DML.
/// Cheap to copy; its column expressions are built once and shared.
class RETORT_API FromItem {
public:
  /// An empty item; using it throws ArgumentError.
  FromItem() = default;
  /// Wraps a node and its column expressions (used by the sql and schema layers).
  FromItem(std::shared_ptr<const detail::FromNode> node,
           std::shared_ptr<const std::vector<Expr>> columns);

  /// True when this handle holds something.
  bool valid() const noexcept { return node_ != nullptr; }
  /// What kind of item this is.
  FromKind kind() const;
  /// The table name, alias or CTE name; empty for a join.
  std::string_view name() const;
  /// The column `name`, qualified by this item's name; ArgumentError for an unknown column.
  const Expr& c(std::string_view name) const;
  /// Every column in order (for a join: the left's, then the right's).
  const std::vector<Expr>& columns() const;
  /// Whether a column of that name exists.
  bool has_column(std::string_view name) const;

  /// `this JOIN right ON on`.
  FromItem join(const FromItem& right, const Expr& on) const;
  /// `this LEFT OUTER JOIN right ON on`.
  FromItem outerjoin(const FromItem& right, const Expr& on) const;
  /// `this FULL OUTER JOIN right ON on`.
  FromItem full_join(const FromItem& right, const Expr& on) const;
  /// `table AS name`: the same table under another name, e.g. for self-joins.
  FromItem alias(std::string name) const;

  /// The node itself.
  const detail::FromNode* node() const noexcept { return node_.get(); }
  /// The shared node.
  const std::shared_ptr<const detail::FromNode>& shared_node() const noexcept { return node_; }

private:
  std::shared_ptr<const detail::FromNode> node_;
  std::shared_ptr<const std::vector<Expr>> columns_;
};

/// A column of a lightweight table: its name and, when known, its type.
struct ColumnSpec {
  std::string name;
  SqlType type{};
  bool typed = false;
  /// An untyped column.
  ColumnSpec(std::string n) : name(std::move(n)) {}
  /// An untyped column.
  ColumnSpec(const char* n) : name(n) {}
  /// A typed column.
  ColumnSpec(std::string n, SqlType t) : name(std::move(n)), type(t), typed(true) {}
};

/// A lightweight table with these columns, for SQL without a schema object (SQLAlchemy's
/// table()). `schema` qualifies the name when not empty.
RETORT_API FromItem table(std::string name, std::vector<ColumnSpec> columns,
                          std::string schema = {});

/// `a JOIN b ON on`.
inline FromItem join(const FromItem& a, const FromItem& b, const Expr& on) { return a.join(b, on); }
/// `a LEFT OUTER JOIN b ON on`.
inline FromItem outerjoin(const FromItem& a, const FromItem& b, const Expr& on) {
  return a.outerjoin(b, on);
}
/// `a AS name`.
inline FromItem alias(const FromItem& a, std::string name) { return a.alias(std::move(name)); }

} // namespace retort

// SELECT statements and compound selects (UNION, INTERSECT, EXCEPT). Builders are generative,
// as in SQLAlchemy: each call returns a new statement and leaves the original unchanged, but on
// a temporary (the usual chained call) the statement is modified in place without copying.
#pragma once

#include <retort/core/export.hpp>
#include <retort/sql/expression.hpp>
#include <retort/sql/from.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace retort {

namespace detail {
struct SelectNode;
struct CompoundNode;
struct QueryNode;
} // namespace detail

class CompoundSelect;

/// A SELECT statement. When no FROM is given, it is inferred from the columns and WHERE
/// criteria; in a subquery used as an expression, tables of the enclosing query correlate.
class RETORT_API Select {
public:
  /// `SELECT` with nothing selected yet.
  Select();

  /// Adds result columns: expressions, or FROM items (tables) for all of their columns.
  template <typename... A> Select add_columns(A&&... cols) && {
    (push_column(std::forward<A>(cols)), ...);
    return std::move(*this);
  }
  /// Adds result columns (copying this statement).
  template <typename... A> Select add_columns(A&&... cols) const& {
    return Select(*this).add_columns(std::forward<A>(cols)...);
  }
  /// `SELECT DISTINCT`.
  Select distinct() &&;
  Select distinct() const& { return Select(*this).distinct(); }
  /// Adds an explicit FROM item (a table, alias, join, subquery or CTE).
  Select select_from(const FromItem& from) &&;
  Select select_from(const FromItem& from) const& { return Select(*this).select_from(from); }
  /// Joins `target` ON `on` to the last FROM item (or the first table of the columns).
  Select join(const FromItem& target, const Expr& on) &&;
  Select join(const FromItem& target, const Expr& on) const& {
    return Select(*this).join(target, on);
  }
  /// LEFT OUTER JOIN, as join().
  Select outerjoin(const FromItem& target, const Expr& on) &&;
  Select outerjoin(const FromItem& target, const Expr& on) const& {
    return Select(*this).outerjoin(target, on);
  }
  /// FULL OUTER JOIN, as join().
  Select full_join(const FromItem& target, const Expr& on) &&;
  Select full_join(const FromItem& target, const Expr& on) const& {
    return Select(*this).full_join(target, on);
  }
  /// Adds a WHERE criterion; several are joined with AND.
  Select where(const Expr& criterion) &&;
  Select where(const Expr& criterion) const& { return Select(*this).where(criterion); }
  /// Adds GROUP BY expressions.
  template <typename... A> Select group_by(A&&... exprs) && {
    return std::move(*this).group_by_list({Expr(std::forward<A>(exprs))...});
  }
  template <typename... A> Select group_by(A&&... exprs) const& {
    return Select(*this).group_by_list({Expr(std::forward<A>(exprs))...});
  }
  /// Adds a HAVING criterion; several are joined with AND.
  Select having(const Expr& criterion) &&;
  Select having(const Expr& criterion) const& { return Select(*this).having(criterion); }
  /// Adds ORDER BY expressions (use desc(), asc(), nulls_first() ...).
  template <typename... A> Select order_by(A&&... exprs) && {
    return std::move(*this).order_by_list({Expr(std::forward<A>(exprs))...});
  }
  template <typename... A> Select order_by(A&&... exprs) const& {
    return Select(*this).order_by_list({Expr(std::forward<A>(exprs))...});
  }
  /// LIMIT n, as a bound parameter.
  Select limit(std::int64_t n) &&;
  Select limit(std::int64_t n) const& { return Select(*this).limit(n); }
  /// OFFSET n, as a bound parameter.
  Select offset(std::int64_t n) &&;
  Select offset(std::int64_t n) const& { return Select(*this).offset(n); }
  /// Declares a CTE in this statement's WITH clause (CTEs used in FROM are declared anyway).
  Select with(const FromItem& cte) &&;
  Select with(const FromItem& cte) const& { return Select(*this).with(cte); }

  /// GROUP BY from a list.
  Select group_by_list(std::vector<Expr> exprs) &&;
  /// ORDER BY from a list.
  Select order_by_list(std::vector<Expr> exprs) &&;

  /// This statement as a named subquery for FROM: `(SELECT ...) AS name`.
  FromItem subquery(std::string name) const;
  /// This statement as a common table expression `WITH name AS (SELECT ...)`.
  FromItem cte(std::string name, bool recursive = false) const;
  /// This statement as a scalar value: `(SELECT ...)`.
  Expr scalar_subquery() const;
  /// `(SELECT ...) AS name` in a select list.
  Expr label(std::string name) const;
  /// `this UNION other`.
  CompoundSelect union_(const Select& other) const;
  /// `this UNION ALL other`.
  CompoundSelect union_all(const Select& other) const;

  /// The result columns, in order.
  const std::vector<Expr>& selected_columns() const;
  /// The node itself.
  const detail::SelectNode& node() const noexcept { return *node_; }
  /// The node as a query (shared).
  std::shared_ptr<const detail::QueryNode> query_node() const;

  /// Adds one result column.
  void push_column(const Expr& column);
  /// Adds every column of `from`.
  void push_column(const FromItem& from);

private:
  detail::SelectNode& mut();
  Select join_impl(const FromItem& target, const Expr& on, JoinKind kind) &&;

  std::shared_ptr<detail::SelectNode> node_;
};

/// The set operators of compound selects.
enum class CompoundOp : std::uint8_t { union_, union_all, intersect, except };

/// SELECTs combined with UNION / UNION ALL / INTERSECT / EXCEPT, with an optional ORDER BY,
/// LIMIT and OFFSET applying to the whole result.
class RETORT_API CompoundSelect {
public:
  /// `parts[0] op parts[1] op ...` (at least two parts).
  CompoundSelect(CompoundOp op, std::vector<Select> parts);

  /// ORDER BY of the combined result.
  template <typename... A> CompoundSelect order_by(A&&... exprs) const {
    return order_by_list({Expr(std::forward<A>(exprs))...});
  }
  /// ORDER BY from a list.
  CompoundSelect order_by_list(std::vector<Expr> exprs) const;
  /// LIMIT n, bound.
  CompoundSelect limit(std::int64_t n) const;
  /// OFFSET n, bound.
  CompoundSelect offset(std::int64_t n) const;
  /// As a named subquery for FROM.
  FromItem subquery(std::string name) const;
  /// As a CTE.
  FromItem cte(std::string name, bool recursive = false) const;

  /// The node itself.
  const detail::CompoundNode& node() const noexcept { return *node_; }
  /// The node as a query (shared).
  std::shared_ptr<const detail::QueryNode> query_node() const;

private:
  explicit CompoundSelect(std::shared_ptr<detail::CompoundNode> node) : node_(std::move(node)) {}
  std::shared_ptr<detail::CompoundNode> node_;
};

/// `SELECT cols...`: expressions, or tables for all of their columns.
template <typename... A> Select select(A&&... cols) {
  return Select().add_columns(std::forward<A>(cols)...);
}
/// `EXISTS (SELECT ...)`.
RETORT_API Expr exists(const Select& query);
/// `a UNION b UNION ...`.
template <typename... S> CompoundSelect union_(S&&... parts) {
  return CompoundSelect(CompoundOp::union_, std::vector<Select>{Select(std::forward<S>(parts))...});
}
/// `a UNION ALL b UNION ALL ...`.
template <typename... S> CompoundSelect union_all(S&&... parts) {
  return CompoundSelect(CompoundOp::union_all,
                        std::vector<Select>{Select(std::forward<S>(parts))...});
}
/// `a INTERSECT b ...`.
template <typename... S> CompoundSelect intersect(S&&... parts) {
  return CompoundSelect(CompoundOp::intersect,
                        std::vector<Select>{Select(std::forward<S>(parts))...});
}
/// `a EXCEPT b ...`.
template <typename... S> CompoundSelect except_(S&&... parts) {
  return CompoundSelect(CompoundOp::except, std::vector<Select>{Select(std::forward<S>(parts))...});
}
/// Extends a recursive CTE with its recursive part: `WITH RECURSIVE name AS (base UNION ALL
/// step)`, where `step` selects from `cte` itself.
RETORT_API FromItem recursive_union_all(const FromItem& cte, const Select& step);

} // namespace retort

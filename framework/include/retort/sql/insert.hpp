// INSERT statements: one row, many rows (multi-row VALUES, split by compile_batches() to respect
// the dialect's parameter limit), INSERT ... SELECT, RETURNING and ON CONFLICT (upsert).
#pragma once

#include <retort/core/export.hpp>
#include <retort/core/value.hpp>
#include <retort/sql/expression.hpp>
#include <retort/sql/from.hpp>
#include <retort/sql/select.hpp>

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace retort {

namespace detail {
struct InsertNode;
} // namespace detail

/// An INSERT into one table. Generative like Select.
class RETORT_API Insert {
public:
  /// `INSERT INTO table`; with no values it inserts DEFAULT VALUES.
  explicit Insert(const FromItem& table);

  /// Adds one row from column/value pairs; the first row fixes the columns, later rows must
  /// name the same columns in the same order.
  Insert values(std::initializer_list<std::pair<std::string_view, Expr>> row) &&;
  Insert values(std::initializer_list<std::pair<std::string_view, Expr>> row) const& {
    return Insert(*this).values(row);
  }
  /// Names the columns that row() and rows() fill.
  Insert columns(std::vector<std::string> names) &&;
  Insert columns(std::vector<std::string> names) const& {
    return Insert(*this).columns(std::move(names));
  }
  /// Adds one row of values or expressions, in the order of columns().
  Insert row(std::vector<Expr> values) &&;
  Insert row(std::vector<Expr> values) const& { return Insert(*this).row(std::move(values)); }
  /// Adds many rows of plain values, row-major (its size a multiple of the column count);
  /// the fast path for bulk inserts: no expression node is built per value.
  Insert rows(std::vector<Value> flat) &&;
  Insert rows(std::vector<Value> flat) const& { return Insert(*this).rows(std::move(flat)); }
  /// `INSERT INTO table (columns) SELECT ...`.
  Insert from_select(std::vector<std::string> columns, const Select& query) &&;
  Insert from_select(std::vector<std::string> columns, const Select& query) const& {
    return Insert(*this).from_select(std::move(columns), query);
  }
  /// `RETURNING exprs` (columns of the table render unqualified).
  template <typename... A> Insert returning(A&&... exprs) && {
    return std::move(*this).returning_list({Expr(std::forward<A>(exprs))...});
  }
  template <typename... A> Insert returning(A&&... exprs) const& {
    return Insert(*this).returning_list({Expr(std::forward<A>(exprs))...});
  }
  /// RETURNING from a list.
  Insert returning_list(std::vector<Expr> exprs) &&;
  /// `ON CONFLICT [(index_columns)] DO NOTHING`.
  Insert on_conflict_do_nothing(std::vector<std::string> index_columns = {}) &&;
  Insert on_conflict_do_nothing(std::vector<std::string> index_columns = {}) const& {
    return Insert(*this).on_conflict_do_nothing(std::move(index_columns));
  }
  /// `ON CONFLICT (index_columns) DO UPDATE SET col = expr, ... [WHERE where]`; use
  /// excluded("col") for the value that was proposed.
  Insert on_conflict_do_update(std::vector<std::string> index_columns,
                               std::vector<std::pair<std::string, Expr>> set,
                               Expr where = Expr()) &&;
  Insert on_conflict_do_update(std::vector<std::string> index_columns,
                               std::vector<std::pair<std::string, Expr>> set,
                               Expr where = Expr()) const& {
    return Insert(*this).on_conflict_do_update(std::move(index_columns), std::move(set),
                                               std::move(where));
  }

  /// Rows held (0 for DEFAULT VALUES or INSERT ... SELECT).
  std::size_t row_count() const;
  /// True when the insert has a RETURNING clause.
  bool has_returning() const;
  /// The node itself.
  const detail::InsertNode& node() const noexcept { return *node_; }

private:
  detail::InsertNode& mut();
  std::shared_ptr<detail::InsertNode> node_;
};

/// `INSERT INTO table ...`.
inline Insert insert(const FromItem& table) { return Insert(table); }

} // namespace retort

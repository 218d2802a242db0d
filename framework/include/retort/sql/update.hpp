// UPDATE statements with SET, WHERE and RETURNING.
#pragma once

#include <retort/core/export.hpp>
#include <retort/sql/expression.hpp>
#include <retort/sql/from.hpp>

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace retort {

namespace detail {
struct UpdateNode;
} // namespace detail

/// An UPDATE of one table. Generative like Select.
class RETORT_API Update {
public:
  /// `UPDATE table`.
  explicit Update(const FromItem& table);

  /// `SET column = value` (a value binds; an expression may use the table's columns).
  Update set(std::string_view column, Expr value) &&;
  Update set(std::string_view column, Expr value) const& {
    return Update(*this).set(column, std::move(value));
  }
  /// Several SET assignments.
  Update values(std::initializer_list<std::pair<std::string_view, Expr>> assignments) &&;
  Update values(std::initializer_list<std::pair<std::string_view, Expr>> assignments) const& {
    return Update(*this).values(assignments);
  }
  /// Adds a WHERE criterion; several are joined with AND.
  Update where(const Expr& criterion) &&;
  Update where(const Expr& criterion) const& { return Update(*this).where(criterion); }
  /// `RETURNING exprs`.
  template <typename... A> Update returning(A&&... exprs) && {
    return std::move(*this).returning_list({Expr(std::forward<A>(exprs))...});
  }
  template <typename... A> Update returning(A&&... exprs) const& {
    return Update(*this).returning_list({Expr(std::forward<A>(exprs))...});
  }
  /// RETURNING from a list.
  Update returning_list(std::vector<Expr> exprs) &&;

  /// The node itself.
  const detail::UpdateNode& node() const noexcept { return *node_; }

private:
  detail::UpdateNode& mut();
  std::shared_ptr<detail::UpdateNode> node_;
};

/// `UPDATE table ...`.
inline Update update(const FromItem& table) { return Update(table); }

} // namespace retort

// DELETE statements with WHERE and RETURNING.
#pragma once

#include <retort/core/export.hpp>
#include <retort/sql/expression.hpp>
#include <retort/sql/from.hpp>

#include <memory>
#include <utility>
#include <vector>

namespace retort {

namespace detail {
struct DeleteNode;
} // namespace detail

/// A DELETE from one table. Generative like Select.
class RETORT_API Delete {
public:
  /// `DELETE FROM table` (every row, until where() narrows it).
  explicit Delete(const FromItem& table);

  /// Adds a WHERE criterion; several are joined with AND.
  Delete where(const Expr& criterion) &&;
  Delete where(const Expr& criterion) const& { return Delete(*this).where(criterion); }
  /// `RETURNING exprs`.
  template <typename... A> Delete returning(A&&... exprs) && {
    return std::move(*this).returning_list({Expr(std::forward<A>(exprs))...});
  }
  template <typename... A> Delete returning(A&&... exprs) const& {
    return Delete(*this).returning_list({Expr(std::forward<A>(exprs))...});
  }
  /// RETURNING from a list.
  Delete returning_list(std::vector<Expr> exprs) &&;

  /// The node itself.
  const detail::DeleteNode& node() const noexcept { return *node_; }

private:
  detail::DeleteNode& mut();
  std::shared_ptr<detail::DeleteNode> node_;
};

/// `DELETE FROM table ...` (named delete_ because delete is a keyword).
inline Delete delete_(const FromItem& table) { return Delete(table); }

} // namespace retort

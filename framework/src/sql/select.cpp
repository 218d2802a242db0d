#include "nodes.hpp"

#include <retort/core/error.hpp>

#include <algorithm>

namespace retort {

using namespace detail;

namespace {

void add_cte(std::vector<FromItem>& ctes, const FromItem& item) {
  const FromNode* n = item.node();
  if (n->kind == FromKind::alias) {
    add_cte(ctes, as<AliasNode>(*n).target);
    return;
  }
  if (n->kind == FromKind::join) {
    add_cte(ctes, as<JoinNode>(*n).left);
    add_cte(ctes, as<JoinNode>(*n).right);
    return;
  }
  if (n->kind != FromKind::cte) return;
  for (const FromItem& c : ctes)
    if (c.node() == n) return;
  ctes.push_back(item);
}

} // namespace

Select::Select() : node_(std::make_shared<SelectNode>()) {}

SelectNode& Select::mut() {
  // Copy on write: a node shared with another Select, a subquery or a cache stays untouched.
  if (node_.use_count() > 1) node_ = std::make_shared<SelectNode>(*node_);
  return *node_;
}

void Select::push_column(const Expr& column) {
  detail::need(column, "selected column");
  SelectNode& n = mut();
  n.columns.push_back(column);
  collect_froms(column, n.inferred);
}

void Select::push_column(const FromItem& from) {
  if (!from.valid()) throw ArgumentError("select(): empty FROM item");
  if (from.columns().empty())
    throw ArgumentError("select(): '" + std::string(from.name()) + "' has no known columns");
  SelectNode& n = mut();
  for (const Expr& c : from.columns()) {
    n.columns.push_back(c);
    collect_froms(c, n.inferred);
  }
}

Select Select::distinct() && {
  mut().distinct = true;
  return std::move(*this);
}

Select Select::select_from(const FromItem& from) && {
  if (!from.valid()) throw ArgumentError("select_from(): empty FROM item");
  SelectNode& n = mut();
  n.froms.push_back(from);
  add_cte(n.ctes, from);
  return std::move(*this);
}

Select Select::join_impl(const FromItem& target, const Expr& on, JoinKind kind) && {
  SelectNode& n = mut();
  if (n.froms.empty()) {
    if (n.inferred.empty())
      throw ArgumentError("join(): nothing to join from; select columns or call select_from()");
    // The first table of the columns becomes the left side, as in SQLAlchemy.
    const std::shared_ptr<const FromNode>& left = n.inferred.front()->from;
    auto cols = std::make_shared<std::vector<Expr>>();
    for (const ColumnSpec& spec : left->columns)
      cols->emplace_back(
          std::make_shared<const ColumnNode>(left, spec.name, spec.type, spec.typed));
    n.froms.push_back(FromItem(left, std::move(cols)));
    if (n.froms.empty())
      throw ArgumentError("join(): cannot tell what to join from; call select_from() first");
  }
  FromItem& last = n.froms.back();
  switch (kind) {
  case JoinKind::inner: last = last.join(target, on); break;
  case JoinKind::left: last = last.outerjoin(target, on); break;
  case JoinKind::full: last = last.full_join(target, on); break;
  }
  add_cte(n.ctes, target);
  return std::move(*this);
}

Select Select::join(const FromItem& target, const Expr& on) && {
  return std::move(*this).join_impl(target, on, JoinKind::inner);
}

Select Select::outerjoin(const FromItem& target, const Expr& on) && {
  return std::move(*this).join_impl(target, on, JoinKind::left);
}

Select Select::full_join(const FromItem& target, const Expr& on) && {
  return std::move(*this).join_impl(target, on, JoinKind::full);
}

Select Select::where(const Expr& criterion) && {
  detail::need(criterion, "WHERE criterion");
  SelectNode& n = mut();
  n.where.push_back(criterion);
  collect_froms(criterion, n.inferred);
  return std::move(*this);
}

Select Select::group_by_list(std::vector<Expr> exprs) && {
  for (const Expr& e : exprs)
    detail::need(e, "GROUP BY expression");
  SelectNode& n = mut();
  n.group_by.insert(n.group_by.end(), exprs.begin(), exprs.end());
  return std::move(*this);
}

Select Select::having(const Expr& criterion) && {
  detail::need(criterion, "HAVING criterion");
  SelectNode& n = mut();
  n.having.push_back(criterion);
  collect_froms(criterion, n.inferred);
  return std::move(*this);
}

Select Select::order_by_list(std::vector<Expr> exprs) && {
  for (const Expr& e : exprs)
    detail::need(e, "ORDER BY expression");
  SelectNode& n = mut();
  n.order_by.insert(n.order_by.end(), exprs.begin(), exprs.end());
  return std::move(*this);
}

Select Select::limit(std::int64_t count) && {
  if (count < 0) throw ArgumentError("limit(): negative count " + std::to_string(count));
  mut().limit = count;
  return std::move(*this);
}

Select Select::offset(std::int64_t count) && {
  if (count < 0) throw ArgumentError("offset(): negative count " + std::to_string(count));
  mut().offset = count;
  return std::move(*this);
}

Select Select::with(const FromItem& cte) && {
  if (!cte.valid() || cte.kind() != FromKind::cte)
    throw ArgumentError("with(): not a CTE (make one with Select::cte())");
  add_cte(mut().ctes, cte);
  return std::move(*this);
}

std::shared_ptr<const QueryNode> Select::query_node() const { return node_; }

const std::vector<Expr>& Select::selected_columns() const { return node_->columns; }

namespace {

FromItem named_query(std::shared_ptr<const QueryNode> q, FromKind kind, std::string name,
                     bool recursive) {
  if (name.empty())
    throw ArgumentError(kind == FromKind::cte ? "cte(): empty name" : "subquery(): empty name");
  auto node = std::make_shared<SubqueryNode>(kind, std::move(name), q, recursive);
  node->columns = query_columns(*q);
  // Unnamed result columns (expressions without a label) cannot be referenced from outside.
  std::erase_if(node->columns, [](const ColumnSpec& c) { return c.name.empty(); });
  return make_from_item(std::move(node));
}

} // namespace

FromItem Select::subquery(std::string name) const {
  return named_query(node_, FromKind::subquery, std::move(name), false);
}

FromItem Select::cte(std::string name, bool recursive) const {
  return named_query(node_, FromKind::cte, std::move(name), recursive);
}

Expr Select::scalar_subquery() const {
  if (node_->columns.size() != 1)
    throw ArgumentError("scalar_subquery(): the query selects " +
                        std::to_string(node_->columns.size()) + " columns, not 1");
  return Expr(std::make_shared<const SubqueryExprNode>(ExprKind::scalar_select, node_, false));
}

Expr Select::label(std::string name) const { return scalar_subquery().label(std::move(name)); }

CompoundSelect Select::union_(const Select& other) const {
  return CompoundSelect(CompoundOp::union_, {*this, other});
}

CompoundSelect Select::union_all(const Select& other) const {
  return CompoundSelect(CompoundOp::union_all, {*this, other});
}

Expr exists(const Select& query) {
  return Expr(
      std::make_shared<const SubqueryExprNode>(ExprKind::exists, query.query_node(), false));
}

// ---------------------------------------------------------------------------------------------

CompoundSelect::CompoundSelect(CompoundOp op, std::vector<Select> parts)
    : node_(std::make_shared<CompoundNode>()) {
  if (parts.size() < 2) throw ArgumentError("union/intersect/except: needs at least two SELECTs");
  node_->op = op;
  std::size_t width = parts.front().selected_columns().size();
  for (const Select& p : parts) {
    if (p.selected_columns().size() != width)
      throw ArgumentError("union/intersect/except: the SELECTs have different column counts (" +
                          std::to_string(width) + " and " +
                          std::to_string(p.selected_columns().size()) + ")");
    node_->parts.push_back(p.query_node());
  }
}

CompoundSelect CompoundSelect::order_by_list(std::vector<Expr> exprs) const {
  for (const Expr& e : exprs)
    detail::need(e, "ORDER BY expression");
  auto n = std::make_shared<CompoundNode>(*node_);
  n->order_by.insert(n->order_by.end(), exprs.begin(), exprs.end());
  return CompoundSelect(std::move(n));
}

CompoundSelect CompoundSelect::limit(std::int64_t count) const {
  if (count < 0) throw ArgumentError("limit(): negative count " + std::to_string(count));
  auto n = std::make_shared<CompoundNode>(*node_);
  n->limit = count;
  return CompoundSelect(std::move(n));
}

CompoundSelect CompoundSelect::offset(std::int64_t count) const {
  if (count < 0) throw ArgumentError("offset(): negative count " + std::to_string(count));
  auto n = std::make_shared<CompoundNode>(*node_);
  n->offset = count;
  return CompoundSelect(std::move(n));
}

FromItem CompoundSelect::subquery(std::string name) const {
  return named_query(node_, FromKind::subquery, std::move(name), false);
}

FromItem CompoundSelect::cte(std::string name, bool recursive) const {
  return named_query(node_, FromKind::cte, std::move(name), recursive);
}

std::shared_ptr<const QueryNode> CompoundSelect::query_node() const { return node_; }

FromItem recursive_union_all(const FromItem& cte, const Select& step) {
  if (!cte.valid() || cte.kind() != FromKind::cte)
    throw ArgumentError("recursive_union_all(): not a CTE");
  const auto& n = as<SubqueryNode>(*cte.node());
  auto body = std::make_shared<CompoundNode>();
  body->op = CompoundOp::union_all;
  body->parts = {n.query, step.query_node()};
  auto node = std::make_shared<SubqueryNode>(FromKind::cte, n.name, std::move(body), true);
  node->columns = n.columns;
  return make_from_item(std::move(node));
}

} // namespace retort

#include "nodes.hpp"

#include <retort/core/error.hpp>

#include <algorithm>

namespace retort {

using namespace detail;

namespace detail {

const ExprNode& need(const Expr& e, const char* what) {
  if (!e.valid()) throw ArgumentError(std::string("empty expression used as ") + what);
  return *e.node();
}

void collect_froms(const Expr& e, std::vector<const ColumnNode*>& out) {
  if (!e.valid()) return;
  const ExprNode& n = *e.node();
  switch (n.kind) {
  case ExprKind::column: {
    const auto& col = as<ColumnNode>(n);
    const FromNode* f = col.from.get();
    if (f == excluded_table().get()) return;
    for (const ColumnNode* seen : out)
      if (seen->from.get() == f) return;
    out.push_back(&col);
    return;
  }
  case ExprKind::bind:
  case ExprKind::bindparam:
  case ExprKind::null_literal:
  case ExprKind::exists:
  case ExprKind::scalar_select:
  case ExprKind::text: return;
  case ExprKind::unary: collect_froms(as<UnaryNode>(n).operand, out); return;
  case ExprKind::binary:
    collect_froms(as<BinaryNode>(n).left, out);
    collect_froms(as<BinaryNode>(n).right, out);
    return;
  case ExprKind::list:
    for (const Expr& i : as<ListNode>(n).items)
      collect_froms(i, out);
    return;
  case ExprKind::function:
    for (const Expr& i : as<FunctionNode>(n).args)
      collect_froms(i, out);
    return;
  case ExprKind::case_:
    for (const auto& [c, r] : as<CaseNode>(n).whens) {
      collect_froms(c, out);
      collect_froms(r, out);
    }
    collect_froms(as<CaseNode>(n).otherwise, out);
    return;
  case ExprKind::cast: collect_froms(as<CastNode>(n).operand, out); return;
  case ExprKind::label: collect_froms(as<LabelNode>(n).operand, out); return;
  case ExprKind::in_list:
    collect_froms(as<InListNode>(n).operand, out);
    for (const Expr& i : as<InListNode>(n).items)
      collect_froms(i, out);
    return;
  case ExprKind::in_select: collect_froms(as<InSelectNode>(n).operand, out); return;
  case ExprKind::between:
    collect_froms(as<BetweenNode>(n).operand, out);
    collect_froms(as<BetweenNode>(n).low, out);
    collect_froms(as<BetweenNode>(n).high, out);
    return;
  case ExprKind::ordering: collect_froms(as<OrderingNode>(n).operand, out); return;
  }
}

bool is_function_name(std::string_view name) {
  if (name.empty()) return false;
  bool start = true;
  for (char c : name) {
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (c == '.') {
      if (start) return false;
      start = true;
      continue;
    }
    if (start ? !alpha : !(alpha || digit)) return false;
    start = false;
  }
  return !start;
}

Expr typed_like(const Expr& value, const Expr& column) {
  if (!value.valid() || !column.valid()) return value;
  if (value.node()->kind != ExprKind::bindparam || column.node()->kind != ExprKind::column)
    return value;
  const auto& param = as<BindParamNode>(*value.node());
  const auto& col = as<ColumnNode>(*column.node());
  if (param.type || !col.typed) return value;
  return Expr(std::make_shared<const BindParamNode>(param.name, col.type));
}

} // namespace detail

namespace {

template <typename N, typename... A> Expr make(A&&... args) {
  return Expr(std::make_shared<const N>(std::forward<A>(args)...));
}

bool is_null_bind(const Expr& e) {
  if (!e.valid()) return false;
  if (e.node()->kind == ExprKind::null_literal) return true;
  return e.node()->kind == ExprKind::bind && as<BindNode>(*e.node()).value.is_null();
}

const std::shared_ptr<const ExprNode>& null_node() {
  static const std::shared_ptr<const ExprNode> node =
      std::make_shared<const ExprNode>(ExprKind::null_literal);
  return node;
}

Expr ordering(const Expr& e, std::optional<bool> descending, NullsOrder nulls) {
  const ExprNode& n = need(e, "ORDER BY expression");
  if (n.kind == ExprKind::ordering) {
    const auto& o = as<OrderingNode>(n);
    return make<OrderingNode>(o.operand, descending.value_or(o.descending),
                              nulls == NullsOrder::unspecified ? o.nulls : nulls);
  }
  return make<OrderingNode>(e, descending.value_or(false), nulls);
}

} // namespace

Expr Expr::bind(Value value) { return make<BindNode>(std::move(value)); }

ExprKind Expr::kind() const { return need(*this, "an expression").kind; }

std::string_view Expr::name() const {
  if (!node_) return {};
  if (node_->kind == ExprKind::label) return as<LabelNode>(*node_).name;
  if (node_->kind == ExprKind::column) return as<ColumnNode>(*node_).name;
  return {};
}

Expr Expr::binary(BinaryOp op, const Expr& a, const Expr& b) {
  need(a, "left operand");
  need(b, "right operand");
  // SQL's `x = NULL` is never true; SQLAlchemy's `== None` means IS NULL, and so does ours.
  if (op == BinaryOp::eq || op == BinaryOp::ne) {
    UnaryOp test = op == BinaryOp::eq ? UnaryOp::is_null : UnaryOp::is_not_null;
    if (is_null_bind(b)) return make<UnaryNode>(test, a);
    if (is_null_bind(a)) return make<UnaryNode>(test, b);
  }
  return make<BinaryNode>(op, typed_like(a, b), typed_like(b, a));
}

Expr Expr::unary(UnaryOp op, const Expr& a) {
  need(a, "operand");
  return make<UnaryNode>(op, a);
}

Expr Expr::logical(bool is_or, const Expr& a, const Expr& b) {
  const ExprNode& na = need(a, is_or ? "operand of OR" : "operand of AND");
  const ExprNode& nb = need(b, is_or ? "operand of OR" : "operand of AND");
  std::vector<Expr> items;
  auto add = [&](const Expr& e, const ExprNode& n) {
    if (n.kind == ExprKind::list && as<ListNode>(n).is_or == is_or) {
      const auto& l = as<ListNode>(n).items;
      items.insert(items.end(), l.begin(), l.end());
    } else {
      items.push_back(e);
    }
  };
  add(a, na);
  add(b, nb);
  return make<ListNode>(is_or, std::move(items));
}

Expr Expr::negate(const Expr& a) {
  const ExprNode& n = need(a, "operand of NOT");
  switch (n.kind) {
  case ExprKind::binary: {
    const auto& b = as<BinaryNode>(n);
    auto flip = [&](BinaryOp op) { return make<BinaryNode>(op, b.left, b.right); };
    switch (b.op) {
    case BinaryOp::eq: return flip(BinaryOp::ne);
    case BinaryOp::ne: return flip(BinaryOp::eq);
    case BinaryOp::lt: return flip(BinaryOp::ge);
    case BinaryOp::le: return flip(BinaryOp::gt);
    case BinaryOp::gt: return flip(BinaryOp::le);
    case BinaryOp::ge: return flip(BinaryOp::lt);
    case BinaryOp::like: return flip(BinaryOp::not_like);
    case BinaryOp::not_like: return flip(BinaryOp::like);
    case BinaryOp::ilike: return flip(BinaryOp::not_ilike);
    case BinaryOp::not_ilike: return flip(BinaryOp::ilike);
    default: break;
    }
    break;
  }
  case ExprKind::unary: {
    const auto& u = as<UnaryNode>(n);
    if (u.op == UnaryOp::is_null) return make<UnaryNode>(UnaryOp::is_not_null, u.operand);
    if (u.op == UnaryOp::is_not_null) return make<UnaryNode>(UnaryOp::is_null, u.operand);
    if (u.op == UnaryOp::not_) return u.operand;
    break;
  }
  case ExprKind::in_list: {
    const auto& i = as<InListNode>(n);
    return make<InListNode>(i.operand, i.items, !i.negated);
  }
  case ExprKind::in_select: {
    const auto& i = as<InSelectNode>(n);
    return make<InSelectNode>(i.operand, i.query, !i.negated);
  }
  case ExprKind::between: {
    const auto& b = as<BetweenNode>(n);
    return make<BetweenNode>(b.operand, b.low, b.high, !b.negated);
  }
  case ExprKind::exists: {
    const auto& s = as<SubqueryExprNode>(n);
    return make<SubqueryExprNode>(ExprKind::exists, s.query, !s.negated);
  }
  default: break;
  }
  return make<UnaryNode>(UnaryOp::not_, a);
}

Expr Expr::is_null() const { return unary(UnaryOp::is_null, *this); }
Expr Expr::is_not_null() const { return unary(UnaryOp::is_not_null, *this); }

Expr Expr::in_(std::vector<Expr> items) const {
  need(*this, "operand of IN");
  for (const Expr& i : items)
    need(i, "item of IN");
  return make<InListNode>(*this, std::move(items), false);
}

Expr Expr::not_in(std::vector<Expr> items) const {
  need(*this, "operand of NOT IN");
  for (const Expr& i : items)
    need(i, "item of NOT IN");
  return make<InListNode>(*this, std::move(items), true);
}

Expr Expr::in_(const Select& query) const {
  need(*this, "operand of IN");
  return make<InSelectNode>(*this, query.query_node(), false);
}

Expr Expr::not_in(const Select& query) const {
  need(*this, "operand of NOT IN");
  return make<InSelectNode>(*this, query.query_node(), true);
}

Expr Expr::between(Expr low, Expr high) const {
  need(*this, "operand of BETWEEN");
  need(low, "lower bound of BETWEEN");
  need(high, "upper bound of BETWEEN");
  return make<BetweenNode>(*this, std::move(low), std::move(high), false);
}

Expr Expr::not_between(Expr low, Expr high) const {
  return !between(std::move(low), std::move(high));
}

Expr Expr::like(Expr pattern) const { return binary(BinaryOp::like, *this, pattern); }
Expr Expr::not_like(Expr pattern) const { return binary(BinaryOp::not_like, *this, pattern); }
Expr Expr::ilike(Expr pattern) const { return binary(BinaryOp::ilike, *this, pattern); }
Expr Expr::not_ilike(Expr pattern) const { return binary(BinaryOp::not_ilike, *this, pattern); }
Expr Expr::concat(Expr other) const { return binary(BinaryOp::concat, *this, other); }

Expr Expr::label(std::string name) const {
  need(*this, "labelled expression");
  if (name.empty()) throw ArgumentError("label(): empty name");
  const ExprNode& n = *node_;
  // Relabelling replaces the label instead of nesting `x AS a AS b`.
  if (n.kind == ExprKind::label) return make<LabelNode>(as<LabelNode>(n).operand, std::move(name));
  return make<LabelNode>(*this, std::move(name));
}

Expr Expr::cast(const SqlType& type) const {
  need(*this, "operand of CAST");
  return make<CastNode>(*this, type);
}

Expr Expr::distinct() const { return unary(UnaryOp::distinct, *this); }
Expr Expr::asc() const { return ordering(*this, false, NullsOrder::unspecified); }
Expr Expr::desc() const { return ordering(*this, true, NullsOrder::unspecified); }
Expr Expr::nulls_first() const { return ordering(*this, std::nullopt, NullsOrder::first); }
Expr Expr::nulls_last() const { return ordering(*this, std::nullopt, NullsOrder::last); }

Expr null() { return Expr(null_node()); }

Expr and_(std::vector<Expr> items) {
  if (items.empty()) throw ArgumentError("and_(): no criteria");
  Expr out = items[0];
  need(out, "operand of AND");
  for (std::size_t i = 1; i < items.size(); ++i)
    out = Expr::logical(false, out, items[i]);
  return out;
}

Expr or_(std::vector<Expr> items) {
  if (items.empty()) throw ArgumentError("or_(): no criteria");
  Expr out = items[0];
  need(out, "operand of OR");
  for (std::size_t i = 1; i < items.size(); ++i)
    out = Expr::logical(true, out, items[i]);
  return out;
}

Expr call(std::string_view name, std::vector<Expr> args) {
  if (!is_function_name(name))
    throw ArgumentError("func(): '" + std::string(name) +
                        "' is not a function name (letters, digits, '_' and '.')");
  for (const Expr& a : args)
    need(a, "function argument");
  return make<FunctionNode>(std::string(name), std::move(args), false);
}

Expr count() {
  static const Expr star = make<FunctionNode>(std::string("count"), std::vector<Expr>{}, true);
  return star;
}

Expr case_(std::vector<std::pair<Expr, Expr>> whens, Expr otherwise) {
  if (whens.empty()) throw ArgumentError("case_(): no WHEN clauses");
  for (const auto& [c, r] : whens) {
    need(c, "CASE condition");
    need(r, "CASE result");
  }
  return make<CaseNode>(std::move(whens), std::move(otherwise));
}

Expr excluded(std::string_view column) {
  if (column.empty()) throw ArgumentError("excluded(): empty column name");
  return Expr(
      std::make_shared<const ColumnNode>(excluded_table(), std::string(column), SqlType{}, false));
}

} // namespace retort

#include "nodes.hpp"

#include <retort/core/error.hpp>

namespace retort {

using namespace detail;

namespace detail {

FromItem make_from_item(std::shared_ptr<FromNode> node) {
  auto columns = std::make_shared<std::vector<Expr>>();
  columns->reserve(node->columns.size());
  std::shared_ptr<const FromNode> shared = node;
  for (const ColumnSpec& c : node->columns)
    columns->emplace_back(std::make_shared<const ColumnNode>(shared, c.name, c.type, c.typed));
  return FromItem(std::move(shared), std::move(columns));
}

const std::shared_ptr<const FromNode>& excluded_table() {
  static const std::shared_ptr<const FromNode> node =
      std::make_shared<const TableNode>("excluded", std::string());
  return node;
}

std::vector<ColumnSpec> query_columns(const QueryNode& q) {
  if (q.kind == QueryKind::compound) {
    const auto& c = as<CompoundNode>(q);
    return c.parts.empty() ? std::vector<ColumnSpec>{} : query_columns(*c.parts.front());
  }
  std::vector<ColumnSpec> out;
  for (const Expr& e : as<SelectNode>(q).columns) {
    const ExprNode& n = *e.node();
    if (n.kind == ExprKind::column) {
      const auto& col = as<ColumnNode>(n);
      out.emplace_back(col.name, col.type);
      out.back().typed = col.typed;
    } else if (n.kind == ExprKind::label) {
      out.emplace_back(as<LabelNode>(n).name);
    } else {
      out.emplace_back(std::string());
    }
  }
  return out;
}

} // namespace detail

FromItem::FromItem(std::shared_ptr<const detail::FromNode> node,
                   std::shared_ptr<const std::vector<Expr>> columns)
    : node_(std::move(node)), columns_(std::move(columns)) {}

namespace {

const FromNode& need(const FromItem& f, const char* what) {
  if (!f.valid()) throw ArgumentError(std::string("empty FROM item used as ") + what);
  return *f.node();
}

const std::vector<Expr>& no_columns() {
  static const std::vector<Expr> none;
  return none;
}

} // namespace

FromKind FromItem::kind() const { return need(*this, "a FROM item").kind; }

std::string_view FromItem::name() const { return node_ ? std::string_view(node_->name) : ""; }

const Expr& FromItem::c(std::string_view name) const {
  const FromNode& n = need(*this, "a column source");
  if (columns_) {
    for (const Expr& e : *columns_)
      if (as<ColumnNode>(*e.node()).name == name) return e;
  }
  std::string what = n.kind == FromKind::join ? std::string("a join") : "'" + n.name + "'";
  throw ArgumentError(what + " has no column '" + std::string(name) + "'");
}

const std::vector<Expr>& FromItem::columns() const { return columns_ ? *columns_ : no_columns(); }

bool FromItem::has_column(std::string_view name) const {
  if (!columns_) return false;
  for (const Expr& e : *columns_)
    if (as<ColumnNode>(*e.node()).name == name) return true;
  return false;
}

namespace {

FromItem make_join(const FromItem& left, const FromItem& right, const Expr& on, JoinKind kind) {
  need(left, "left side of a join");
  need(right, "right side of a join");
  detail::need(on, "ON clause of a join");
  auto node = std::make_shared<JoinNode>(left, right, on, kind);
  auto columns = std::make_shared<std::vector<Expr>>(left.columns());
  columns->insert(columns->end(), right.columns().begin(), right.columns().end());
  return FromItem(std::move(node), std::move(columns));
}

} // namespace

FromItem FromItem::join(const FromItem& right, const Expr& on) const {
  return make_join(*this, right, on, JoinKind::inner);
}

FromItem FromItem::outerjoin(const FromItem& right, const Expr& on) const {
  return make_join(*this, right, on, JoinKind::left);
}

FromItem FromItem::full_join(const FromItem& right, const Expr& on) const {
  return make_join(*this, right, on, JoinKind::full);
}

FromItem FromItem::alias(std::string name) const {
  const FromNode& n = need(*this, "aliased item");
  if (name.empty()) throw ArgumentError("alias(): empty name");
  if (n.kind == FromKind::join) throw ArgumentError("alias(): a join cannot be aliased");
  if (n.kind == FromKind::subquery) {
    // The same query under another name: `(SELECT ...) AS name`.
    auto node = std::make_shared<SubqueryNode>(FromKind::subquery, std::move(name),
                                               as<SubqueryNode>(n).query, false);
    node->columns = n.columns;
    return make_from_item(std::move(node));
  }
  const FromItem& target = n.kind == FromKind::alias ? as<AliasNode>(n).target : *this;
  auto node = std::make_shared<AliasNode>(std::move(name), target);
  node->columns = n.columns;
  return make_from_item(std::move(node));
}

FromItem table(std::string name, std::vector<ColumnSpec> columns, std::string schema) {
  if (name.empty()) throw ArgumentError("table(): empty table name");
  auto node = std::make_shared<TableNode>(std::move(name), std::move(schema));
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name.empty()) throw ArgumentError("table(): empty column name");
    for (std::size_t j = 0; j < i; ++j)
      if (columns[j].name == columns[i].name)
        throw ArgumentError("table '" + node->name + "': column '" + columns[i].name +
                            "' declared twice");
  }
  node->columns = std::move(columns);
  return make_from_item(std::move(node));
}

} // namespace retort

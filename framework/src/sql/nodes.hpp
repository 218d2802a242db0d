// The AST nodes behind Expr, FromItem and the statement handles. Internal to libretort: the
// compiler switches on the kind tags instead of virtual visitors, which keeps a walk cheap.
// Nodes are built once and never changed after they are shared.
#pragma once

#include <retort/core/types.hpp>
#include <retort/core/value.hpp>
#include <retort/sql/delete.hpp>
#include <retort/sql/expression.hpp>
#include <retort/sql/from.hpp>
#include <retort/sql/insert.hpp>
#include <retort/sql/select.hpp>
#include <retort/sql/text.hpp>
#include <retort/sql/update.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace retort::detail {

struct QueryNode;

// ---------------------------------------------------------------------------------------------
// Expressions

struct ExprNode {
  explicit ExprNode(ExprKind k) : kind(k) {}
  ExprKind kind;
};

struct ColumnNode : ExprNode {
  ColumnNode(std::shared_ptr<const FromNode> f, std::string n, SqlType t, bool has_type)
      : ExprNode(ExprKind::column), from(std::move(f)), name(std::move(n)), type(t),
        typed(has_type) {}
  std::shared_ptr<const FromNode> from;
  std::string name;
  SqlType type;
  bool typed;
};

struct BindNode : ExprNode {
  explicit BindNode(Value v) : ExprNode(ExprKind::bind), value(std::move(v)) {}
  Value value;
};

// A named placeholder filled from each parameter set (bindparam()).
struct BindParamNode : ExprNode {
  BindParamNode(std::string n, std::optional<SqlType> t)
      : ExprNode(ExprKind::bindparam), name(std::move(n)), type(t) {}
  std::string name;
  std::optional<SqlType> type;
};

struct UnaryNode : ExprNode {
  UnaryNode(UnaryOp o, Expr e) : ExprNode(ExprKind::unary), op(o), operand(std::move(e)) {}
  UnaryOp op;
  Expr operand;
};

struct BinaryNode : ExprNode {
  BinaryNode(BinaryOp o, Expr l, Expr r)
      : ExprNode(ExprKind::binary), op(o), left(std::move(l)), right(std::move(r)) {}
  BinaryOp op;
  Expr left;
  Expr right;
};

struct ListNode : ExprNode {
  ListNode(bool o, std::vector<Expr> i) : ExprNode(ExprKind::list), is_or(o), items(std::move(i)) {}
  bool is_or;
  std::vector<Expr> items;
};

struct FunctionNode : ExprNode {
  FunctionNode(std::string n, std::vector<Expr> a, bool s)
      : ExprNode(ExprKind::function), name(std::move(n)), args(std::move(a)), star(s) {}
  std::string name;
  std::vector<Expr> args;
  bool star; // count(*)
};

struct CaseNode : ExprNode {
  CaseNode(std::vector<std::pair<Expr, Expr>> w, Expr e)
      : ExprNode(ExprKind::case_), whens(std::move(w)), otherwise(std::move(e)) {}
  std::vector<std::pair<Expr, Expr>> whens;
  Expr otherwise;
};

struct CastNode : ExprNode {
  CastNode(Expr e, SqlType t) : ExprNode(ExprKind::cast), operand(std::move(e)), type(t) {}
  Expr operand;
  SqlType type;
};

struct LabelNode : ExprNode {
  LabelNode(Expr e, std::string n)
      : ExprNode(ExprKind::label), operand(std::move(e)), name(std::move(n)) {}
  Expr operand;
  std::string name;
};

struct InListNode : ExprNode {
  InListNode(Expr e, std::vector<Expr> i, bool n)
      : ExprNode(ExprKind::in_list), operand(std::move(e)), items(std::move(i)), negated(n) {}
  Expr operand;
  std::vector<Expr> items;
  bool negated;
};

struct InSelectNode : ExprNode {
  InSelectNode(Expr e, std::shared_ptr<const QueryNode> q, bool n)
      : ExprNode(ExprKind::in_select), operand(std::move(e)), query(std::move(q)), negated(n) {}
  Expr operand;
  std::shared_ptr<const QueryNode> query;
  bool negated;
};

struct BetweenNode : ExprNode {
  BetweenNode(Expr e, Expr l, Expr h, bool n)
      : ExprNode(ExprKind::between), operand(std::move(e)), low(std::move(l)), high(std::move(h)),
        negated(n) {}
  Expr operand;
  Expr low;
  Expr high;
  bool negated;
};

// EXISTS (kind exists) or a scalar subquery (kind scalar_select).
struct SubqueryExprNode : ExprNode {
  SubqueryExprNode(ExprKind k, std::shared_ptr<const QueryNode> q, bool n)
      : ExprNode(k), query(std::move(q)), negated(n) {}
  std::shared_ptr<const QueryNode> query;
  bool negated;
};

// Parsed textual SQL: pieces[i] precedes names[i]; pieces has one more element than names.
struct TextData {
  std::string sql;
  std::vector<std::string> pieces;
  std::vector<std::string> names;          // per occurrence
  std::vector<std::string> distinct_names; // in order of first appearance
};

struct TextExprNode : ExprNode {
  TextExprNode(std::shared_ptr<const TextData> t, std::vector<std::pair<std::string, Value>> b)
      : ExprNode(ExprKind::text), text(std::move(t)), binds(std::move(b)) {}
  std::shared_ptr<const TextData> text;
  std::vector<std::pair<std::string, Value>> binds;
};

enum class NullsOrder : std::uint8_t { unspecified, first, last };

struct OrderingNode : ExprNode {
  OrderingNode(Expr e, bool d, NullsOrder n)
      : ExprNode(ExprKind::ordering), operand(std::move(e)), descending(d), nulls(n) {}
  Expr operand;
  bool descending;
  NullsOrder nulls;
};

// ---------------------------------------------------------------------------------------------
// FROM items

struct FromNode {
  FromNode(FromKind k, std::string n) : kind(k), name(std::move(n)) {}
  FromKind kind;
  std::string name; // table name, alias, subquery or CTE name; empty for joins
  std::vector<ColumnSpec> columns;
};

struct TableNode : FromNode {
  TableNode(std::string n, std::string s)
      : FromNode(FromKind::table, std::move(n)), schema(std::move(s)) {}
  std::string schema;
};

struct AliasNode : FromNode {
  AliasNode(std::string n, FromItem t)
      : FromNode(FromKind::alias, std::move(n)), target(std::move(t)) {}
  FromItem target;
};

// A subquery in FROM (kind subquery) or a common table expression (kind cte).
struct SubqueryNode : FromNode {
  SubqueryNode(FromKind k, std::string n, std::shared_ptr<const QueryNode> q, bool r)
      : FromNode(k, std::move(n)), query(std::move(q)), recursive(r) {}
  std::shared_ptr<const QueryNode> query;
  bool recursive;
};

struct JoinNode : FromNode {
  JoinNode(FromItem l, FromItem r, Expr o, JoinKind j)
      : FromNode(FromKind::join, {}), left(std::move(l)), right(std::move(r)), on(std::move(o)),
        join(j) {}
  FromItem left;
  FromItem right;
  Expr on;
  JoinKind join;
};

// ---------------------------------------------------------------------------------------------
// Queries and DML

enum class QueryKind : std::uint8_t { select, compound };

struct QueryNode {
  explicit QueryNode(QueryKind k) : kind(k) {}
  QueryKind kind;
};

struct SelectNode : QueryNode {
  SelectNode() : QueryNode(QueryKind::select) {}
  std::vector<Expr> columns;
  bool distinct = false;
  std::vector<FromItem> froms; // explicit
  // The first column node naming each FROM item the columns / WHERE / HAVING refer to, in
  // order; the expressions holding them keep them alive.
  std::vector<const ColumnNode*> inferred;
  std::vector<Expr> where;
  std::vector<Expr> group_by;
  std::vector<Expr> having;
  std::vector<Expr> order_by;
  std::optional<std::int64_t> limit;
  std::optional<std::int64_t> offset;
  std::vector<FromItem> ctes;
};

struct CompoundNode : QueryNode {
  CompoundNode() : QueryNode(QueryKind::compound) {}
  CompoundOp op = CompoundOp::union_;
  std::vector<std::shared_ptr<const QueryNode>> parts;
  std::vector<Expr> order_by;
  std::optional<std::int64_t> limit;
  std::optional<std::int64_t> offset;
};

struct OnConflict {
  bool do_update = false;
  std::vector<std::string> index_columns;
  std::vector<std::pair<std::string, Expr>> set;
  Expr where;
};

struct InsertNode {
  FromItem table;
  std::vector<std::string> columns;
  std::vector<Expr> cells;   // row-major expressions
  std::vector<Value> values; // row-major plain values (the bulk path)
  bool use_values = false;   // which of the two holds the rows
  std::optional<Select> query;
  std::vector<Expr> returning;
  std::optional<OnConflict> on_conflict;
};

struct UpdateNode {
  FromItem table;
  std::vector<std::pair<std::string, Expr>> set;
  std::vector<Expr> where;
  std::vector<Expr> returning;
};

struct DeleteNode {
  FromItem table;
  std::vector<Expr> where;
  std::vector<Expr> returning;
};

// ---------------------------------------------------------------------------------------------
// Helpers shared by the builders and the compiler

template <typename T> const T& as(const ExprNode& n) { return static_cast<const T&>(n); }
template <typename T> const T& as(const FromNode& n) { return static_cast<const T&>(n); }
template <typename T> const T& as(const QueryNode& n) { return static_cast<const T&>(n); }

// The node of `e`; ArgumentError naming `what` when `e` is empty.
const ExprNode& need(const Expr& e, const char* what);

// Adds the first column node of each FROM node that `e` refers to (not looking into
// subqueries) to `out`, once per FROM node.
void collect_froms(const Expr& e, std::vector<const ColumnNode*>& out);

// True for identifiers Retort accepts for function names: [A-Za-z_][A-Za-z0-9_]* with dots.
bool is_function_name(std::string_view name);

// The FROM node that excluded() columns belong to.
const std::shared_ptr<const FromNode>& excluded_table();

// Column names a query yields (labels or column names); empty string where unnamed.
std::vector<ColumnSpec> query_columns(const QueryNode& q);

// `value`, or a bindparam typed like `column` when `value` is an untyped bindparam and
// `column` a typed column: a placeholder takes the type of what it is compared with or
// assigned to.
Expr typed_like(const Expr& value, const Expr& column);

// Builds a FromItem of a node whose column list is set, making its column expressions.
FromItem make_from_item(std::shared_ptr<FromNode> node);

} // namespace retort::detail

// SQL expressions: runtime AST nodes behind a small value handle, Expr. Operators on an Expr
// build new nodes; a C++ value on either side becomes a bound parameter, never SQL text.
// Nodes are immutable once built, so expressions may be shared between statements and threads.
#pragma once

#include <retort/core/export.hpp>
#include <retort/core/types.hpp>
#include <retort/core/value.hpp>

#include <concepts>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace retort {

namespace detail {
struct ExprNode;
} // namespace detail

class Expr;
class Select;
class CompoundSelect;

/// Types that become a bound parameter where an expression is expected (numbers, text, bool,
/// Value, Blob, Null). Pointers other than C strings are refused: they would bind as a bool.
template <typename T>
concept ValueLike =
    std::constructible_from<Value, T> && !std::same_as<std::remove_cvref_t<T>, Expr> &&
    !std::same_as<std::decay_t<T>, std::nullptr_t> &&
    (!std::is_pointer_v<std::decay_t<T>> || std::same_as<std::decay_t<T>, const char*> ||
     std::same_as<std::decay_t<T>, char*>);

/// Binary operators of expressions.
enum class BinaryOp : std::uint8_t {
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  add,
  sub,
  mul,
  div,
  mod,
  concat,
  like,
  not_like,
  ilike,
  not_ilike,
};

/// Unary operators of expressions.
enum class UnaryOp : std::uint8_t { not_, neg, is_null, is_not_null, distinct };

/// The kind of an expression node, for code that inspects expressions (the ORM).
enum class ExprKind : std::uint8_t {
  column,
  bind,
  null_literal,
  unary,
  binary,
  list,
  function,
  case_,
  cast,
  label,
  in_list,
  in_select,
  between,
  exists,
  scalar_select,
  text,
  ordering,
  bindparam,
};

/// A SQL expression: column reference, bound value, operator, function call, subquery, ...
/// Cheap to copy (one shared pointer).
class RETORT_API Expr {
public:
  /// An empty expression; using it in a statement throws ArgumentError.
  Expr() = default;
  /// A bound parameter holding `value`.
  template <typename T>
  requires ValueLike<T> Expr(T&& value) : Expr(bind(Value(std::forward<T>(value)))) {}
  /// A bound parameter holding the optional's value, or NULL.
  template <typename T>
  requires ValueLike<const T&> Expr(const std::optional<T>& value)
      : Expr(value ? bind(Value(*value)) : bind(Value())) {}
  /// Wraps a node (used by the sql layer and by typed wrappers built on top of it).
  explicit Expr(std::shared_ptr<const detail::ExprNode> node) : node_(std::move(node)) {}

  /// A bound parameter; the same as the converting constructor, spelled out.
  static Expr bind(Value value);

  /// True when this handle holds an expression.
  bool valid() const noexcept { return node_ != nullptr; }
  /// The node kind; ArgumentError when empty.
  ExprKind kind() const;
  /// The name a result column gets: the label, or the column's name; empty otherwise.
  std::string_view name() const;
  /// The node itself.
  const detail::ExprNode* node() const noexcept { return node_.get(); }
  /// The shared node.
  const std::shared_ptr<const detail::ExprNode>& shared_node() const noexcept { return node_; }

  /// `expr IS NULL`.
  Expr is_null() const;
  /// `expr IS NOT NULL`.
  Expr is_not_null() const;
  /// `expr IN (?, ?, ...)`, one bound parameter per item; an empty list is never true.
  Expr in_(std::vector<Expr> items) const;
  /// `expr IN (...)` over any range of values, e.g. a std::vector<std::int64_t> of ids.
  template <typename R>
  requires requires(const R& r) {
    std::begin(r);
    std::end(r);
  } &&(!std::same_as<std::remove_cvref_t<R>, std::vector<Expr>>)Expr in_(const R& range) const {
    return in_(to_items(range));
  }
  /// `expr IN (SELECT ...)`.
  Expr in_(const Select& query) const;
  /// `expr NOT IN (?, ?, ...)`; an empty list is always true.
  Expr not_in(std::vector<Expr> items) const;
  /// `expr NOT IN (...)` over any range of values.
  template <typename R>
  requires requires(const R& r) {
    std::begin(r);
    std::end(r);
  } &&(!std::same_as<std::remove_cvref_t<R>, std::vector<Expr>>)Expr not_in(const R& range) const {
    return not_in(to_items(range));
  }
  /// `expr NOT IN (SELECT ...)`.
  Expr not_in(const Select& query) const;
  /// `expr BETWEEN low AND high`.
  Expr between(Expr low, Expr high) const;
  /// `expr NOT BETWEEN low AND high`.
  Expr not_between(Expr low, Expr high) const;
  /// `expr LIKE pattern`.
  Expr like(Expr pattern) const;
  /// `expr NOT LIKE pattern`.
  Expr not_like(Expr pattern) const;
  /// Case-insensitive LIKE: ILIKE, or lower(expr) LIKE lower(pattern) where the dialect lacks it.
  Expr ilike(Expr pattern) const;
  /// Case-insensitive NOT LIKE.
  Expr not_ilike(Expr pattern) const;
  /// String concatenation `expr || other`.
  Expr concat(Expr other) const;
  /// `expr AS name` in a select list; ORDER BY / GROUP BY refer to it by name.
  Expr label(std::string name) const;
  /// `CAST(expr AS type)`.
  Expr cast(const SqlType& type) const;
  /// `DISTINCT expr`, as in count(col.distinct()).
  Expr distinct() const;
  /// Ascending order (for order_by).
  Expr asc() const;
  /// Descending order (for order_by).
  Expr desc() const;
  /// NULLs sort first (emulated with a CASE where the dialect lacks NULLS FIRST).
  Expr nulls_first() const;
  /// NULLs sort last.
  Expr nulls_last() const;

  /// `a = b`; comparing with a NULL value gives `a IS NULL`.
  friend Expr operator==(const Expr& a, const Expr& b) { return binary(BinaryOp::eq, a, b); }
  /// `a != b`; comparing with a NULL value gives `a IS NOT NULL`.
  friend Expr operator!=(const Expr& a, const Expr& b) { return binary(BinaryOp::ne, a, b); }
  /// `a < b`.
  friend Expr operator<(const Expr& a, const Expr& b) { return binary(BinaryOp::lt, a, b); }
  /// `a <= b`.
  friend Expr operator<=(const Expr& a, const Expr& b) { return binary(BinaryOp::le, a, b); }
  /// `a > b`.
  friend Expr operator>(const Expr& a, const Expr& b) { return binary(BinaryOp::gt, a, b); }
  /// `a >= b`.
  friend Expr operator>=(const Expr& a, const Expr& b) { return binary(BinaryOp::ge, a, b); }
  /// `a + b`.
  friend Expr operator+(const Expr& a, const Expr& b) { return binary(BinaryOp::add, a, b); }
  /// `a - b`.
  friend Expr operator-(const Expr& a, const Expr& b) { return binary(BinaryOp::sub, a, b); }
  /// `a * b`.
  friend Expr operator*(const Expr& a, const Expr& b) { return binary(BinaryOp::mul, a, b); }
  /// `a / b`.
  friend Expr operator/(const Expr& a, const Expr& b) { return binary(BinaryOp::div, a, b); }
  /// `a % b`.
  friend Expr operator%(const Expr& a, const Expr& b) { return binary(BinaryOp::mod, a, b); }
  /// `a AND b` (chains flatten into one list).
  friend Expr operator&&(const Expr& a, const Expr& b) { return logical(false, a, b); }
  /// `a OR b` (chains flatten into one list).
  friend Expr operator||(const Expr& a, const Expr& b) { return logical(true, a, b); }
  /// `NOT a`; negates comparisons, IN, LIKE, BETWEEN, EXISTS and IS NULL in place.
  friend Expr operator!(const Expr& a) { return negate(a); }
  /// `-a`.
  friend Expr operator-(const Expr& a) { return unary(UnaryOp::neg, a); }

  /// A binary operator node (what the operators above build).
  static Expr binary(BinaryOp op, const Expr& a, const Expr& b);
  /// A unary operator node.
  static Expr unary(UnaryOp op, const Expr& a);
  /// AND (is_or false) or OR of two expressions, flattening chains.
  static Expr logical(bool is_or, const Expr& a, const Expr& b);
  /// The negation of `a`, folded into comparisons where SQL has a negated form.
  static Expr negate(const Expr& a);

private:
  template <typename R> static std::vector<Expr> to_items(const R& range) {
    std::vector<Expr> items;
    for (const auto& v : range)
      items.emplace_back(v);
    return items;
  }

  std::shared_ptr<const detail::ExprNode> node_;
};

/// A bound parameter holding `value`.
inline Expr literal(Value value) { return Expr::bind(std::move(value)); }
/// The SQL keyword NULL (not a parameter), e.g. for SET col = NULL in a shape that never varies.
RETORT_API Expr null();
/// Ascending order of `e`.
inline Expr asc(const Expr& e) { return e.asc(); }
/// Descending order of `e`.
inline Expr desc(const Expr& e) { return e.desc(); }
/// `DISTINCT e`.
inline Expr distinct(const Expr& e) { return e.distinct(); }
/// `CAST(e AS type)`.
inline Expr cast(const Expr& e, const SqlType& type) { return e.cast(type); }
/// `NOT e`.
inline Expr not_(const Expr& e) { return !e; }
/// `a AND b AND ...` of a list (an empty list is rejected).
RETORT_API Expr and_(std::vector<Expr> items);
/// `a OR b OR ...` of a list (an empty list is rejected).
RETORT_API Expr or_(std::vector<Expr> items);
/// `a AND b AND ...`.
template <typename... A>
requires(sizeof...(A) > 1) Expr and_(A&&... items) {
  return and_(std::vector<Expr>{Expr(std::forward<A>(items))...});
}
/// `a OR b OR ...`.
template <typename... A>
requires(sizeof...(A) > 1) Expr or_(A&&... items) {
  return or_(std::vector<Expr>{Expr(std::forward<A>(items))...});
}

/// A call of the SQL function `name` (letters, digits, '_' and '.'; checked) with `args`.
RETORT_API Expr call(std::string_view name, std::vector<Expr> args);
/// A call of any SQL function: func("date", col), func("now").
template <typename... A> Expr func(std::string_view name, A&&... args) {
  return call(name, std::vector<Expr>{Expr(std::forward<A>(args))...});
}
/// `count(*)`.
RETORT_API Expr count();
/// `count(e)`.
inline Expr count(const Expr& e) { return call("count", {e}); }
/// `sum(e)`.
inline Expr sum(const Expr& e) { return call("sum", {e}); }
/// `min(e)`.
inline Expr min(const Expr& e) { return call("min", {e}); }
/// `max(e)`.
inline Expr max(const Expr& e) { return call("max", {e}); }
/// `avg(e)`.
inline Expr avg(const Expr& e) { return call("avg", {e}); }
/// `lower(e)`.
inline Expr lower(const Expr& e) { return call("lower", {e}); }
/// `upper(e)`.
inline Expr upper(const Expr& e) { return call("upper", {e}); }
/// `length(e)`.
inline Expr length(const Expr& e) { return call("length", {e}); }
/// `coalesce(a, b, ...)`.
template <typename... A> Expr coalesce(A&&... args) {
  return call("coalesce", std::vector<Expr>{Expr(std::forward<A>(args))...});
}

/// `CASE WHEN c1 THEN r1 WHEN c2 THEN r2 ... ELSE otherwise END` (no ELSE when empty).
RETORT_API Expr case_(std::vector<std::pair<Expr, Expr>> whens, Expr otherwise = Expr());

/// `excluded.column` inside ON CONFLICT ... DO UPDATE SET: the value proposed for insertion.
RETORT_API Expr excluded(std::string_view column);

} // namespace retort

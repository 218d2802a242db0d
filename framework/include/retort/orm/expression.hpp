// Typed expressions on mapped members: col(&User::age) < 30 compiles, col(&User::age) < "30"
// does not. A TypedExpr<T> wraps an Expr and remembers the C++ type of its values; comparisons
// and arithmetic are allowed only between compatible types, then lower to the untyped AST.
#pragma once

#include <retort/engine/column_traits.hpp>
#include <retort/orm/mapper_impl.hpp>
#include <retort/sql/bindparam.hpp>
#include <retort/sql/expression.hpp>
#include <retort/sql/from.hpp>

#include <chrono>
#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace retort {

namespace detail {

template <typename T> struct unwrap_optional { using type = T; };
template <typename T> struct unwrap_optional<std::optional<T>> { using type = T; };
template <typename T> using bare_t = typename unwrap_optional<std::remove_cvref_t<T>>::type;

/// The family a value type belongs to for comparisons.
enum class TypeFamily { number, text, boolean, date, date_time, time, blob, other };

template <typename T> constexpr TypeFamily family_of() {
  using U = std::remove_cvref_t<typename unwrap_optional<std::remove_cvref_t<T>>::type>;
  if constexpr (std::is_same_v<U, bool>)
    return TypeFamily::boolean;
  else if constexpr (std::is_arithmetic_v<U>)
    return TypeFamily::number;
  else if constexpr (std::is_convertible_v<U, std::string_view>)
    return TypeFamily::text;
  else if constexpr (std::is_same_v<U, SqlDate>)
    return TypeFamily::date;
  else if constexpr (std::is_same_v<U, SqlDateTime>)
    return TypeFamily::date_time;
  else if constexpr (std::is_same_v<U, SqlTime>)
    return TypeFamily::time;
  else if constexpr (std::is_same_v<U, Blob>)
    return TypeFamily::blob;
  else
    return TypeFamily::other;
}

} // namespace detail

/// An expression whose values have C++ type T (std::optional<U> for NULL-able ones).
template <typename T> class TypedExpr {
public:
  using value_type = T;
  /// Wraps an untyped expression.
  explicit TypedExpr(Expr expr) : expr_(std::move(expr)) {}
  /// The untyped expression (for select(), order_by(), ...).
  operator Expr() const { return expr_; }
  /// The untyped expression.
  const Expr& expr() const noexcept { return expr_; }

  /// Ascending order.
  Expr asc() const { return expr_.asc(); }
  /// Descending order.
  Expr desc() const { return expr_.desc(); }
  /// `IS NULL`.
  TypedExpr<bool> is_null() const { return TypedExpr<bool>(expr_.is_null()); }
  /// `IS NOT NULL`.
  TypedExpr<bool> is_not_null() const { return TypedExpr<bool>(expr_.is_not_null()); }
  /// `LIKE pattern` (text columns only).
  TypedExpr<bool> like(std::string_view pattern) const
      requires(detail::family_of<T>() == detail::TypeFamily::text) {
    return TypedExpr<bool>(expr_.like(Expr(std::string(pattern))));
  }
  /// `ILIKE pattern` (text columns only).
  TypedExpr<bool> ilike(std::string_view pattern) const
      requires(detail::family_of<T>() == detail::TypeFamily::text) {
    return TypedExpr<bool>(expr_.ilike(Expr(std::string(pattern))));
  }
  /// `IN (values...)` with values of a compatible type.
  template <typename R>
  requires(detail::family_of<std::ranges::range_value_t<R>>() ==
           detail::family_of<T>()) TypedExpr<bool> in_(const R& values)
  const {
    std::vector<Expr> items;
    for (const auto& v : values)
      items.emplace_back(to_value(v));
    return TypedExpr<bool>(expr_.in_(std::move(items)));
  }
  /// `BETWEEN low AND high`.
  template <typename L, typename H>
  requires(detail::family_of<L>() == detail::family_of<T>() &&
           detail::family_of<H>() == detail::family_of<T>()) TypedExpr<bool> between(const L& low,
                                                                                     const H& high)
  const { return TypedExpr<bool>(expr_.between(operand(low), operand(high))); }
  /// A label in a select list.
  TypedExpr label(std::string name) const { return TypedExpr(expr_.label(std::move(name))); }

  /// Turns a C++ value or typed expression into an operand.
  template <typename V> static Expr operand(const V& v) {
    if constexpr (std::is_same_v<V, BindParam>) {
      // An untyped placeholder takes this expression's type.
      if constexpr (Mappable<detail::bare_t<T>>)
        return BindParam(std::string(v.param_name()), ColumnTraits<detail::bare_t<T>>::sql_type);
      else
        return v;
    } else if constexpr (requires { v.expr(); })
      return v.expr();
    else if constexpr (std::is_convertible_v<const V&, std::string_view>)
      return Expr(std::string(std::string_view(v)));
    else if constexpr (Mappable<V>)
      return Expr(retort::to_value(v));
    else
      return Expr(v);
  }

private:
  Expr expr_;
};

namespace detail {

template <typename T> struct is_typed_expr : std::false_type {};
template <typename T> struct is_typed_expr<TypedExpr<T>> : std::true_type {};

template <typename V> struct operand_type { using type = std::remove_cvref_t<V>; };
template <typename T> struct operand_type<TypedExpr<T>> { using type = T; };

// Same family of built-in types (any integer with any number, ...), the very same
// user-defined value type, or an untyped bindparam() (it takes the other side's type).
template <typename A, typename B>
concept comparable =
    std::is_same_v<std::remove_cvref_t<B>, BindParam> ||
    (family_of<typename operand_type<A>::type>() == family_of<typename operand_type<B>::type>() &&
     family_of<typename operand_type<A>::type>() != TypeFamily::other) ||
    std::is_same_v<bare_t<typename operand_type<A>::type>, bare_t<typename operand_type<B>::type>>;

template <typename A, typename B>
concept arithmetic = comparable<A, B> && family_of<typename operand_type<A>::type>()
== TypeFamily::number;

} // namespace detail

#define RETORT_TYPED_COMPARISON(op)                                                                \
  template <typename T, typename V>                                                                \
  requires detail::comparable<TypedExpr<T>, V> TypedExpr<bool>                                     \
  operator op(const TypedExpr<T>& a, const V& b) {                                                 \
    return TypedExpr<bool>(a.expr() op TypedExpr<T>::operand(b));                                  \
  }                                                                                                \
  template <typename V, typename T>                                                                \
  requires(!detail::is_typed_expr<V>::value && detail::comparable<TypedExpr<T>, V>)                \
      TypedExpr<bool>                                                                              \
  operator op(const V& a, const TypedExpr<T>& b) {                                                 \
    return TypedExpr<bool>(TypedExpr<T>::operand(a) op b.expr());                                  \
  }

/// Comparisons between compatible types; `col(&User::age) < "30"` does not compile.
RETORT_TYPED_COMPARISON(==)
RETORT_TYPED_COMPARISON(!=)
RETORT_TYPED_COMPARISON(<)
RETORT_TYPED_COMPARISON(<=)
RETORT_TYPED_COMPARISON(>)
RETORT_TYPED_COMPARISON(>=)
#undef RETORT_TYPED_COMPARISON

/// `col == std::nullopt` is `IS NULL`.
template <typename T> TypedExpr<bool> operator==(const TypedExpr<T>& a, std::nullopt_t) {
  return a.is_null();
}
/// `col != std::nullopt` is `IS NOT NULL`.
template <typename T> TypedExpr<bool> operator!=(const TypedExpr<T>& a, std::nullopt_t) {
  return a.is_not_null();
}

#define RETORT_TYPED_ARITHMETIC(op)                                                                \
  template <typename T, typename V>                                                                \
  requires detail::arithmetic<TypedExpr<T>, V> TypedExpr<T>                                        \
  operator op(const TypedExpr<T>& a, const V& b) {                                                 \
    return TypedExpr<T>(a.expr() op TypedExpr<T>::operand(b));                                     \
  }

/// Arithmetic on numeric expressions.
RETORT_TYPED_ARITHMETIC(+)
RETORT_TYPED_ARITHMETIC(-)
RETORT_TYPED_ARITHMETIC(*)
RETORT_TYPED_ARITHMETIC(/)
#undef RETORT_TYPED_ARITHMETIC

/// `a AND b`.
inline TypedExpr<bool> operator&&(const TypedExpr<bool>& a, const TypedExpr<bool>& b) {
  return TypedExpr<bool>(a.expr() && b.expr());
}
/// `a OR b`.
inline TypedExpr<bool> operator||(const TypedExpr<bool>& a, const TypedExpr<bool>& b) {
  return TypedExpr<bool>(a.expr() || b.expr());
}
/// `NOT a`.
inline TypedExpr<bool> operator!(const TypedExpr<bool>& a) { return TypedExpr<bool>(!a.expr()); }

/// A named placeholder whose values have C++ type T, filled from each parameter set
/// (Connection::execute(statement, sets)): `col(&User::age) > bindparam<int>("min")` compiles,
/// `col(&User::name) == bindparam<int>("n")` does not. An untyped bindparam("q") takes the type
/// of the typed expression it meets.
template <typename T>
requires Mappable<detail::bare_t<T>> TypedExpr<T> bindparam(std::string name) {
  return TypedExpr<T>(BindParam(std::move(name), ColumnTraits<detail::bare_t<T>>::sql_type));
}

/// The column mapped to `member`, as a typed expression: col(&User::age).
template <typename C, typename M>
requires Mapped<C> TypedExpr<M> col(M C::*member) {
  const auto& mapper = typed_mapper_of<C>();
  return TypedExpr<M>(mapper.table().c(mapper.columns()[mapper.column_of(member)].name));
}

/// A mapped class under another name, for self-joins and several joins of one table.
template <Mapped T> class Aliased {
public:
  /// An alias named `name`.
  explicit Aliased(std::string name) : from_(mapper_of<T>().table().alias(std::move(name))) {}
  /// The column mapped to `member`, qualified by the alias.
  template <typename M> TypedExpr<M> operator()(M T::*member) const {
    const auto& mapper = typed_mapper_of<T>();
    return TypedExpr<M>(from_.c(mapper.columns()[mapper.column_of(member)].name));
  }
  /// The alias as a FROM item.
  const FromItem& from() const noexcept { return from_; }

private:
  FromItem from_;
};

/// An alias of a mapped class: `auto manager = aliased<Employee>("manager");`.
template <Mapped T> Aliased<T> aliased(std::string name) { return Aliased<T>(std::move(name)); }

/// count(*) as a typed integer expression.
inline TypedExpr<std::int64_t> count_all() { return TypedExpr<std::int64_t>(count()); }
/// count(e).
template <typename T> TypedExpr<std::int64_t> count_of(const TypedExpr<T>& e) {
  return TypedExpr<std::int64_t>(count(e.expr()));
}
/// sum(e); NULL over no rows.
template <typename T>
TypedExpr<std::optional<typename detail::unwrap_optional<T>::type>> sum_of(const TypedExpr<T>& e) {
  return TypedExpr<std::optional<typename detail::unwrap_optional<T>::type>>(sum(e.expr()));
}
/// avg(e); NULL over no rows.
template <typename T> TypedExpr<std::optional<double>> avg_of(const TypedExpr<T>& e) {
  return TypedExpr<std::optional<double>>(avg(e.expr()));
}
/// min(e); NULL over no rows.
template <typename T>
TypedExpr<std::optional<typename detail::unwrap_optional<T>::type>> min_of(const TypedExpr<T>& e) {
  return TypedExpr<std::optional<typename detail::unwrap_optional<T>::type>>(min(e.expr()));
}
/// max(e); NULL over no rows.
template <typename T>
TypedExpr<std::optional<typename detail::unwrap_optional<T>::type>> max_of(const TypedExpr<T>& e) {
  return TypedExpr<std::optional<typename detail::unwrap_optional<T>::type>>(max(e.expr()));
}

} // namespace retort

// Textual SQL with named parameters: text("SELECT * FROM t WHERE id = :id").bind("id", 5).
// `:name` becomes the dialect's placeholder and the value is bound; `::` (PostgreSQL casts),
// `\:` (a literal colon), quoted strings, quoted identifiers, dollar-quoted strings and
// comments are never scanned for parameters.
#pragma once

#include <retort/core/export.hpp>
#include <retort/core/value.hpp>
#include <retort/sql/expression.hpp>

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace retort {

namespace detail {
struct TextData;
} // namespace detail

/// A SQL text with named parameters, usable as a statement or as an expression fragment.
class RETORT_API TextClause {
public:
  /// Parses `sql` once for its :name parameters.
  explicit TextClause(std::string_view sql);

  /// Binds `value` to every occurrence of `:name`; ArgumentError for a name the text lacks.
  TextClause bind(std::string_view name, Value value) &&;
  TextClause bind(std::string_view name, Value value) const& {
    return TextClause(*this).bind(name, std::move(value));
  }
  /// Binds several parameters.
  TextClause bind(std::initializer_list<std::pair<std::string_view, Value>> values) &&;
  TextClause bind(std::initializer_list<std::pair<std::string_view, Value>> values) const& {
    return TextClause(*this).bind(values);
  }

  /// The distinct parameter names, in order of first appearance.
  const std::vector<std::string>& parameter_names() const;
  /// The original text.
  const std::string& sql() const;
  /// This text as an expression fragment (e.g. inside where()).
  Expr as_expr() const;
  /// This text as an expression fragment.
  operator Expr() const { return as_expr(); }

  /// The parsed text.
  const detail::TextData& data() const noexcept { return *data_; }
  /// The values bound so far.
  const std::vector<std::pair<std::string, Value>>& bound() const noexcept { return binds_; }

private:
  std::shared_ptr<const detail::TextData> data_;
  std::vector<std::pair<std::string, Value>> binds_;
};

/// `text("SELECT ... WHERE id = :id")`.
inline TextClause text(std::string_view sql) { return TextClause(sql); }

} // namespace retort

// PostgreSQL's rendering rules.
#pragma once

#include <retort/core/types.hpp>
#include <retort/core/value.hpp>
#include <retort/sql/dialect.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace retort::postgresql {

/// How SQL is rendered for PostgreSQL.
class PgDialect final : public SqlDialect {
public:
  std::string_view name() const override { return "postgresql"; }

  void quote_identifier(std::string& out, std::string_view identifier) const override;

  void render_placeholder(std::string& out, std::size_t position) const override;

  std::string_view parameter_cast(const Value& value) const override;

  std::string type_name(const SqlType& type) const override;

  std::string autoincrement_type(const SqlType& type) const override;

  bool supports_returning() const override { return true; }
  bool supports_multi_values_insert() const override { return true; }
  bool supports_ilike() const override { return true; }
  bool supports_nulls_ordering() const override { return true; }
  bool supports_full_outer_join() const override { return true; }
  std::string has_table_sql() const override;

  void render_literal(std::string& out, const Value& value) const override;

  // The wire protocol counts parameters in 16 bits, but the driver describes every prepared
  // statement and libpq (up to at least 15) drops the connection ("lost synchronization") on a
  // ParameterDescription message over 30000 bytes: 4 + 2 + 4 * n <= 30000.
  std::size_t max_bound_parameters() const override { return 7498; }

  // || binds looser than arithmetic, as the standard has it: a || b + c is a || (b + c).
  bool concat_needs_parentheses_with_arithmetic() const override { return false; }
};

} // namespace retort::postgresql

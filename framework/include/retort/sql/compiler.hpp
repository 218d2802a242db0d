// The compiler: turns a statement AST into SQL text plus its bound parameters, asking the
// SqlDialect every question whose answer differs between databases. With a StatementCache, a
// statement whose shape was compiled before only has its values collected.
#pragma once

#include <retort/core/export.hpp>
#include <retort/core/types.hpp>
#include <retort/core/value.hpp>
#include <retort/sql/statement.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace retort {

class SqlDialect;
class StatementCache;

/// SQL text and its parameters in placeholder order.
struct CompiledSql {
  std::string sql;
  std::vector<Value> params;
};

/// SQL text and its parameters for executing at once: the rows of a bulk INSERT (rows()) are
/// borrowed from the statement instead of copied, so `params` is valid only while both this
/// object and the compiled statement live. Move-only: a move keeps `owned`'s buffer, a copy
/// would not.
struct ExecutableSql {
  ExecutableSql() = default;
  ExecutableSql(ExecutableSql&&) noexcept = default;
  ExecutableSql& operator=(ExecutableSql&&) noexcept = default;
  ExecutableSql(const ExecutableSql&) = delete;
  ExecutableSql& operator=(const ExecutableSql&) = delete;
  ~ExecutableSql() = default;

  std::string sql;
  /// Every parameter in placeholder order (into `owned` or into the statement).
  std::span<const Value> params;
  /// Parameters that could not be borrowed.
  std::vector<Value> owned;
};

/// A placeholder that each parameter set fills: a bindparam(), or a text() name left unbound.
struct ParamSlot {
  /// Its index in the statement's parameters (0-based, placeholder order).
  std::size_t position = 0;
  /// The name the parameter sets give its value under.
  std::string name;
  /// The type its values must fit, when known (typed, or inferred from a column).
  std::optional<SqlType> type;
};

/// A statement compiled once for many parameter sets (Connection::execute(statement, sets)):
/// `params` holds the fixed values, with NULL at each slot's position.
struct CompiledTemplate {
  std::string sql;
  std::vector<Value> params;
  std::vector<ParamSlot> slots;
};

/// Compiles a SELECT. ArgumentError when the statement is malformed or needs more parameters
/// than the dialect allows.
RETORT_API CompiledSql compile(const Select& stmt, const SqlDialect& dialect,
                               StatementCache* cache = nullptr);
/// Compiles a UNION / INTERSECT / EXCEPT.
RETORT_API CompiledSql compile(const CompoundSelect& stmt, const SqlDialect& dialect,
                               StatementCache* cache = nullptr);
/// Compiles an INSERT as one statement (see compile_batches() for many rows).
RETORT_API CompiledSql compile(const Insert& stmt, const SqlDialect& dialect,
                               StatementCache* cache = nullptr);
/// Compiles an UPDATE.
RETORT_API CompiledSql compile(const Update& stmt, const SqlDialect& dialect,
                               StatementCache* cache = nullptr);
/// Compiles a DELETE.
RETORT_API CompiledSql compile(const Delete& stmt, const SqlDialect& dialect,
                               StatementCache* cache = nullptr);
/// Compiles textual SQL, turning :name parameters into the dialect's placeholders.
RETORT_API CompiledSql compile(const TextClause& stmt, const SqlDialect& dialect,
                               StatementCache* cache = nullptr);
/// Compiles any statement.
RETORT_API CompiledSql compile(const Statement& stmt, const SqlDialect& dialect,
                               StatementCache* cache = nullptr);

/// Compiles any statement for immediate execution, borrowing what it can (see ExecutableSql);
/// what Connection::execute() binds.
RETORT_API ExecutableSql compile_for_execute(const Select& stmt, const SqlDialect& dialect,
                                             StatementCache* cache = nullptr);
/// Compiles a compound SELECT for immediate execution.
RETORT_API ExecutableSql compile_for_execute(const CompoundSelect& stmt, const SqlDialect& dialect,
                                             StatementCache* cache = nullptr);
/// Compiles an INSERT for immediate execution; rows() values are borrowed, not copied.
RETORT_API ExecutableSql compile_for_execute(const Insert& stmt, const SqlDialect& dialect,
                                             StatementCache* cache = nullptr);
/// Refused: the borrowed values would die with the temporary statement.
ExecutableSql compile_for_execute(Insert&& stmt, const SqlDialect& dialect,
                                  StatementCache* cache = nullptr) = delete;
/// Compiles an UPDATE for immediate execution.
RETORT_API ExecutableSql compile_for_execute(const Update& stmt, const SqlDialect& dialect,
                                             StatementCache* cache = nullptr);
/// Compiles a DELETE for immediate execution.
RETORT_API ExecutableSql compile_for_execute(const Delete& stmt, const SqlDialect& dialect,
                                             StatementCache* cache = nullptr);
/// Compiles textual SQL for immediate execution.
RETORT_API ExecutableSql compile_for_execute(const TextClause& stmt, const SqlDialect& dialect,
                                             StatementCache* cache = nullptr);
/// Compiles any statement for immediate execution.
RETORT_API ExecutableSql compile_for_execute(const Statement& stmt, const SqlDialect& dialect,
                                             StatementCache* cache = nullptr);
/// Refused: the borrowed values would die with the temporary statement.
ExecutableSql compile_for_execute(Statement&& stmt, const SqlDialect& dialect,
                                  StatementCache* cache = nullptr) = delete;

/// Compiles a many-row INSERT as as few statements as the dialect allows: multi-row VALUES
/// split so that none carries more than max_bound_parameters(), or one statement per row where
/// multi-row VALUES is not supported. Full batches share one cached shape.
RETORT_API std::vector<CompiledSql> compile_batches(const Insert& stmt, const SqlDialect& dialect,
                                                    StatementCache* cache = nullptr);

/// Compiles an INSERT, UPDATE, DELETE or text() whose bindparam()s each parameter set fills.
/// An INSERT without rows gets one row of placeholders for the columns `names` (the sets'
/// names). RETURNING and SELECT are refused (ArgumentError): their rows would be lost.
RETORT_API CompiledTemplate compile_template(const Statement& stmt, const SqlDialect& dialect,
                                             StatementCache* cache,
                                             std::span<const std::string> names);

/// True when `stmt` fits one statement under `dialect`'s limits (else compile_batches()).
RETORT_API bool fits_one_statement(const Insert& stmt, const SqlDialect& dialect);

/// The most rows of `stmt` that one statement can carry under `dialect`.
RETORT_API std::size_t max_rows_per_statement(const Insert& stmt, const SqlDialect& dialect);

} // namespace retort

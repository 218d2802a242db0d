#include <retort/engine/connection.hpp>
#include <retort/engine/schema_ops.hpp>
#include <retort/schema/ddl.hpp>
#include <retort/sql/compiler.hpp>

namespace retort {

namespace {

bool table_exists(Connection& connection, const Table& table) {
  CompiledSql probe = has_table_sql(table, connection.engine().dialect());
  Result result = connection.execute_sql(probe.sql, probe.params);
  return result.has_row();
}

void run_all(Connection& connection, const std::vector<CompiledSql>& statements) {
  for (const auto& statement : statements) {
    if (statement.params.empty())
      connection.execute_ddl(statement.sql);
    else
      connection.execute_sql(statement.sql, statement.params).close();
  }
}

} // namespace

void create_all(const Engine& engine, const MetaData& metadata, bool checkfirst) {
  Connection connection = engine.connect();
  Transaction transaction = connection.begin();
  const SqlDialect& dialect = engine.dialect();
  for (const Table& table : metadata.tables_in_dependency_order()) {
    if (checkfirst && table_exists(connection, table)) continue;
    run_all(connection, create_table_ddl(table, dialect));
  }
  transaction.commit();
  // Cached statements may refer to tables that changed shape.
  connection.driver().clear_statement_cache();
}

void drop_all(const Engine& engine, const MetaData& metadata, bool checkfirst) {
  Connection connection = engine.connect();
  Transaction transaction = connection.begin();
  const SqlDialect& dialect = engine.dialect();
  auto tables = metadata.tables_in_dependency_order();
  for (auto it = tables.rbegin(); it != tables.rend(); ++it) {
    if (checkfirst && !table_exists(connection, *it)) continue;
    connection.execute_ddl(drop_table_sql(*it, dialect).sql);
  }
  transaction.commit();
  connection.driver().clear_statement_cache();
}

} // namespace retort

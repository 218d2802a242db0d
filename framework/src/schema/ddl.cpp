#include <retort/core/error.hpp>
#include <retort/schema/ddl.hpp>
#include <retort/sql/dialect.hpp>

namespace retort {

namespace {

void names(std::string& out, const std::vector<std::string>& cols, const SqlDialect& d) {
  out += '(';
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (i) out += ", ";
    d.quote_identifier(out, cols[i]);
  }
  out += ')';
}

// "schema.table" references quote each part.
void qualified(std::string& out, std::string_view name, const SqlDialect& d) {
  auto dot = name.find('.');
  if (dot == std::string_view::npos) {
    d.quote_identifier(out, name);
    return;
  }
  d.quote_identifier(out, name.substr(0, dot));
  out += '.';
  qualified(out, name.substr(dot + 1), d);
}

void constraint_name(std::string& out, const std::string& name, const SqlDialect& d) {
  if (name.empty()) return;
  out += "CONSTRAINT ";
  d.quote_identifier(out, name);
  out += ' ';
}

void foreign_key(std::string& out, const ForeignKeyConstraint& fk, const SqlDialect& d) {
  constraint_name(out, fk.name, d);
  out += "FOREIGN KEY ";
  names(out, fk.columns, d);
  out += " REFERENCES ";
  qualified(out, fk.referred_table, d);
  out += ' ';
  names(out, fk.referred_columns, d);
  if (fk.on_delete) {
    out += " ON DELETE ";
    out += to_sql(*fk.on_delete);
  }
  if (fk.on_update) {
    out += " ON UPDATE ";
    out += to_sql(*fk.on_update);
  }
}

void column_def(std::string& out, const Table& table, const Column& c, const SqlDialect& d) {
  d.quote_identifier(out, c.name());
  out += ' ';
  out +=
      &c == table.autoincrement_column() ? d.autoincrement_type(c.type()) : d.type_name(c.type());
  if (c.default_value()) {
    out += " DEFAULT ";
    d.render_literal(out, *c.default_value());
  } else if (!c.server_default().empty()) {
    out += " DEFAULT (";
    out += c.server_default();
    out += ')';
  }
  if (!c.is_nullable()) out += " NOT NULL";
}

bool inline_fk(const ForeignKeyConstraint& fk, const SqlDialect& d) {
  return !fk.use_alter || !d.supports_alter_add_constraint();
}

} // namespace

CompiledSql create_table_sql(const Table& table, const SqlDialect& d, bool if_not_exists) {
  std::string sql = if_not_exists ? "CREATE TABLE IF NOT EXISTS " : "CREATE TABLE ";
  d.quote_identifier(sql, table.name());
  sql += " (";
  bool first = true;
  auto sep = [&] {
    if (!first) sql += ", ";
    first = false;
  };
  for (const Column& c : table.columns()) {
    sep();
    column_def(sql, table, c, d);
  }
  if (!table.primary_key().empty()) {
    sep();
    constraint_name(sql, table.primary_key_name(), d);
    sql += "PRIMARY KEY ";
    names(sql, table.primary_key(), d);
  }
  for (const UniqueConstraint& u : table.unique_constraints()) {
    sep();
    constraint_name(sql, u.name, d);
    sql += "UNIQUE ";
    names(sql, u.columns, d);
  }
  for (const ForeignKeyConstraint& fk : table.foreign_keys()) {
    if (!inline_fk(fk, d)) continue;
    sep();
    foreign_key(sql, fk, d);
  }
  for (const CheckConstraint& c : table.checks()) {
    sep();
    constraint_name(sql, c.name, d);
    sql += "CHECK (";
    sql += c.sql;
    sql += ')';
  }
  sql += ')';
  return {std::move(sql), {}};
}

CompiledSql drop_table_sql(const Table& table, const SqlDialect& d, bool if_exists) {
  std::string sql = if_exists ? "DROP TABLE IF EXISTS " : "DROP TABLE ";
  d.quote_identifier(sql, table.name());
  return {std::move(sql), {}};
}

CompiledSql create_index_sql(const Table& table, const Index& index, const SqlDialect& d,
                             bool if_not_exists) {
  if (index.name.empty() || index.columns.empty())
    throw ArgumentError("create_index_sql(): an index needs a name and columns");
  std::string sql = index.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ";
  if (if_not_exists) sql += "IF NOT EXISTS ";
  d.quote_identifier(sql, index.name);
  sql += " ON ";
  d.quote_identifier(sql, table.name());
  sql += ' ';
  names(sql, index.columns, d);
  return {std::move(sql), {}};
}

CompiledSql drop_index_sql(const Index& index, const SqlDialect& d, bool if_exists) {
  std::string sql = if_exists ? "DROP INDEX IF EXISTS " : "DROP INDEX ";
  d.quote_identifier(sql, index.name);
  return {std::move(sql), {}};
}

CompiledSql add_foreign_key_sql(const Table& table, const ForeignKeyConstraint& fk,
                                const SqlDialect& d) {
  if (fk.name.empty()) throw ArgumentError("add_foreign_key_sql(): the foreign key needs a name");
  std::string sql = "ALTER TABLE ";
  d.quote_identifier(sql, table.name());
  sql += " ADD ";
  foreign_key(sql, fk, d);
  return {std::move(sql), {}};
}

CompiledSql drop_foreign_key_sql(const Table& table, const ForeignKeyConstraint& fk,
                                 const SqlDialect& d) {
  if (fk.name.empty()) throw ArgumentError("drop_foreign_key_sql(): the foreign key needs a name");
  std::string sql = "ALTER TABLE ";
  d.quote_identifier(sql, table.name());
  sql += " DROP CONSTRAINT ";
  d.quote_identifier(sql, fk.name);
  return {std::move(sql), {}};
}

CompiledSql has_table_sql(const Table& table, const SqlDialect& d) {
  return {d.has_table_sql(), {Value(table.name())}};
}

std::vector<CompiledSql> create_table_ddl(const Table& table, const SqlDialect& d,
                                          bool if_not_exists) {
  std::vector<CompiledSql> out;
  out.push_back(create_table_sql(table, d, if_not_exists));
  for (const Index& i : table.indexes())
    out.push_back(create_index_sql(table, i, d, if_not_exists));
  return out;
}

std::vector<CompiledSql> deferred_foreign_keys_sql(const Table& table, const SqlDialect& d) {
  std::vector<CompiledSql> out;
  for (const ForeignKeyConstraint& fk : table.foreign_keys())
    if (!inline_fk(fk, d)) out.push_back(add_foreign_key_sql(table, fk, d));
  return out;
}

namespace {

void check_references(const MetaData& md) {
  for (const Table& t : md.tables()) {
    for (const ForeignKeyConstraint& fk : t.foreign_keys()) {
      const Table* target = md.find(fk.referred_table);
      if (!target) continue; // a table created elsewhere
      for (const std::string& c : fk.referred_columns)
        if (!target->has_column(c))
          throw ArgumentError("table '" + t.name() + "': foreign key refers to '" +
                              fk.referred_table + "." + c + "', which does not exist");
    }
  }
}

} // namespace

std::vector<CompiledSql> create_all_sql(const MetaData& md, const SqlDialect& d,
                                        bool if_not_exists) {
  check_references(md);
  std::vector<Table> order = md.tables_in_dependency_order();
  std::vector<CompiledSql> out;
  for (const Table& t : order)
    for (CompiledSql& s : create_table_ddl(t, d, if_not_exists))
      out.push_back(std::move(s));
  for (const Table& t : order)
    for (CompiledSql& s : deferred_foreign_keys_sql(t, d))
      out.push_back(std::move(s));
  return out;
}

std::vector<CompiledSql> drop_all_sql(const MetaData& md, const SqlDialect& d, bool if_exists) {
  std::vector<Table> order = md.tables_in_dependency_order();
  std::vector<CompiledSql> out;
  if (d.supports_alter_add_constraint()) {
    for (const Table& t : order) {
      for (const ForeignKeyConstraint& fk : t.foreign_keys()) {
        if (!fk.use_alter) continue;
        CompiledSql s = drop_foreign_key_sql(t, fk, d);
        // The table may be gone already: ALTER TABLE IF EXISTS ... DROP CONSTRAINT IF EXISTS.
        if (if_exists) {
          s.sql.insert(std::string_view("ALTER TABLE ").size(), "IF EXISTS ");
          s.sql.insert(s.sql.find(" DROP CONSTRAINT ") + 17, "IF EXISTS ");
        }
        out.push_back(std::move(s));
      }
    }
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it)
    out.push_back(drop_table_sql(*it, d, if_exists));
  return out;
}

} // namespace retort

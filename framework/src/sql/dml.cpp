#include "nodes.hpp"

#include <retort/core/error.hpp>

namespace retort {

using namespace detail;

namespace {

const FromItem& need_table(const FromItem& table, const char* stmt) {
  if (!table.valid()) throw ArgumentError(std::string(stmt) + ": empty table");
  if (table.kind() != FromKind::table)
    throw ArgumentError(std::string(stmt) + ": the target must be a table, not '" +
                        std::string(table.name()) + "'");
  return table;
}

// A column named in DML must exist when the table's columns are known.
void check_column(const FromItem& table, std::string_view column, const char* stmt) {
  if (column.empty()) throw ArgumentError(std::string(stmt) + ": empty column name");
  if (!table.columns().empty() && !table.has_column(column))
    throw ArgumentError(std::string(stmt) + ": table '" + std::string(table.name()) +
                        "' has no column '" + std::string(column) + "'");
}

template <typename N> N& cow(std::shared_ptr<N>& node) {
  if (node.use_count() > 1) node = std::make_shared<N>(*node);
  return *node;
}

// Turns stored plain values into expression cells so that both kinds of rows can mix.
void values_to_cells(InsertNode& n) {
  if (!n.use_values) return;
  n.cells.reserve(n.values.size());
  for (Value& v : n.values)
    n.cells.push_back(Expr::bind(std::move(v)));
  n.values.clear();
  n.use_values = false;
}

// A placeholder assigned to a column takes the column's type (see typed_like()).
Expr typed_for(const FromItem& table, std::string_view column, Expr value) {
  if (!value.valid() || value.node()->kind != ExprKind::bindparam || !table.has_column(column))
    return value;
  return typed_like(value, table.c(column));
}

std::size_t stored_rows(const InsertNode& n) {
  if (n.columns.empty()) return 0;
  return (n.use_values ? n.values.size() : n.cells.size()) / n.columns.size();
}

} // namespace

// ---------------------------------------------------------------------------------------------
// INSERT

Insert::Insert(const FromItem& table) : node_(std::make_shared<InsertNode>()) {
  node_->table = need_table(table, "insert()");
}

InsertNode& Insert::mut() { return cow(node_); }

Insert Insert::values(std::initializer_list<std::pair<std::string_view, Expr>> row) && {
  InsertNode& n = mut();
  if (n.query) throw ArgumentError("insert(): values() after from_select()");
  if (row.size() == 0) throw ArgumentError("insert().values(): empty row");
  if (n.columns.empty()) {
    for (const auto& [name, value] : row) {
      check_column(n.table, name, "insert().values()");
      for (const std::string& c : n.columns)
        if (c == name)
          throw ArgumentError("insert().values(): column '" + std::string(name) + "' given twice");
      n.columns.emplace_back(name);
    }
  } else {
    bool same = row.size() == n.columns.size();
    std::size_t i = 0;
    for (auto it = row.begin(); same && it != row.end(); ++it, ++i)
      same = it->first == n.columns[i];
    if (!same)
      throw ArgumentError("insert().values(): every row must name the same columns in the same "
                          "order as the first");
  }
  values_to_cells(n);
  for (const auto& [name, value] : row) {
    detail::need(value, "inserted value");
    n.cells.push_back(typed_for(n.table, name, value));
  }
  return std::move(*this);
}

Insert Insert::columns(std::vector<std::string> names) && {
  InsertNode& n = mut();
  if (!n.columns.empty() && n.columns != names)
    throw ArgumentError("insert().columns(): the columns are already set");
  for (std::size_t i = 0; i < names.size(); ++i) {
    check_column(n.table, names[i], "insert().columns()");
    for (std::size_t j = 0; j < i; ++j)
      if (names[j] == names[i])
        throw ArgumentError("insert().columns(): column '" + names[i] + "' given twice");
  }
  n.columns = std::move(names);
  return std::move(*this);
}

Insert Insert::row(std::vector<Expr> values) && {
  InsertNode& n = mut();
  if (n.query) throw ArgumentError("insert(): row() after from_select()");
  if (n.columns.empty()) throw ArgumentError("insert().row(): call columns() first");
  if (values.size() != n.columns.size())
    throw ArgumentError("insert().row(): " + std::to_string(values.size()) + " values for " +
                        std::to_string(n.columns.size()) + " columns");
  for (std::size_t i = 0; i < values.size(); ++i) {
    detail::need(values[i], "inserted value");
    values[i] = typed_for(n.table, n.columns[i], std::move(values[i]));
  }
  values_to_cells(n);
  n.cells.insert(n.cells.end(), std::make_move_iterator(values.begin()),
                 std::make_move_iterator(values.end()));
  return std::move(*this);
}

Insert Insert::rows(std::vector<Value> flat) && {
  InsertNode& n = mut();
  if (n.query) throw ArgumentError("insert(): rows() after from_select()");
  if (n.columns.empty()) throw ArgumentError("insert().rows(): call columns() first");
  if (flat.size() % n.columns.size() != 0)
    throw ArgumentError("insert().rows(): " + std::to_string(flat.size()) +
                        " values do not fill rows of " + std::to_string(n.columns.size()) +
                        " columns");
  if (!n.cells.empty()) {
    for (Value& v : flat)
      n.cells.push_back(Expr::bind(std::move(v)));
    return std::move(*this);
  }
  n.use_values = true;
  if (n.values.empty())
    n.values = std::move(flat);
  else
    n.values.insert(n.values.end(), std::make_move_iterator(flat.begin()),
                    std::make_move_iterator(flat.end()));
  return std::move(*this);
}

Insert Insert::from_select(std::vector<std::string> columns, const Select& query) && {
  InsertNode& n = mut();
  if (stored_rows(n) > 0) throw ArgumentError("insert().from_select(): the insert has rows");
  if (columns.size() != query.selected_columns().size())
    throw ArgumentError("insert().from_select(): " + std::to_string(columns.size()) +
                        " columns but the query selects " +
                        std::to_string(query.selected_columns().size()));
  for (const std::string& c : columns)
    check_column(n.table, c, "insert().from_select()");
  n.columns = std::move(columns);
  n.query = query;
  return std::move(*this);
}

Insert Insert::returning_list(std::vector<Expr> exprs) && {
  for (const Expr& e : exprs)
    detail::need(e, "RETURNING expression");
  InsertNode& n = mut();
  n.returning.insert(n.returning.end(), exprs.begin(), exprs.end());
  return std::move(*this);
}

Insert Insert::on_conflict_do_nothing(std::vector<std::string> index_columns) && {
  InsertNode& n = mut();
  for (const std::string& c : index_columns)
    check_column(n.table, c, "on_conflict_do_nothing()");
  OnConflict oc;
  oc.index_columns = std::move(index_columns);
  n.on_conflict = std::move(oc);
  return std::move(*this);
}

Insert Insert::on_conflict_do_update(std::vector<std::string> index_columns,
                                     std::vector<std::pair<std::string, Expr>> set, Expr where) && {
  InsertNode& n = mut();
  if (index_columns.empty())
    throw ArgumentError("on_conflict_do_update(): name the columns of the unique index");
  if (set.empty()) throw ArgumentError("on_conflict_do_update(): nothing to SET");
  for (const std::string& c : index_columns)
    check_column(n.table, c, "on_conflict_do_update()");
  for (const auto& [c, e] : set) {
    check_column(n.table, c, "on_conflict_do_update()");
    detail::need(e, "ON CONFLICT SET value");
  }
  OnConflict oc;
  oc.do_update = true;
  oc.index_columns = std::move(index_columns);
  oc.set = std::move(set);
  oc.where = std::move(where);
  n.on_conflict = std::move(oc);
  return std::move(*this);
}

std::size_t Insert::row_count() const { return stored_rows(*node_); }

bool Insert::has_returning() const { return !node_->returning.empty(); }

// ---------------------------------------------------------------------------------------------
// UPDATE

Update::Update(const FromItem& table) : node_(std::make_shared<UpdateNode>()) {
  node_->table = need_table(table, "update()");
}

UpdateNode& Update::mut() { return cow(node_); }

Update Update::set(std::string_view column, Expr value) && {
  UpdateNode& n = mut();
  check_column(n.table, column, "update().set()");
  detail::need(value, "SET value");
  value = typed_for(n.table, column, std::move(value));
  for (auto& [c, e] : n.set) {
    if (c == column) {
      e = std::move(value);
      return std::move(*this);
    }
  }
  n.set.emplace_back(std::string(column), std::move(value));
  return std::move(*this);
}

Update Update::values(std::initializer_list<std::pair<std::string_view, Expr>> assignments) && {
  for (const auto& [c, e] : assignments)
    *this = std::move(*this).set(c, e);
  return std::move(*this);
}

Update Update::where(const Expr& criterion) && {
  detail::need(criterion, "WHERE criterion");
  mut().where.push_back(criterion);
  return std::move(*this);
}

Update Update::returning_list(std::vector<Expr> exprs) && {
  for (const Expr& e : exprs)
    detail::need(e, "RETURNING expression");
  UpdateNode& n = mut();
  n.returning.insert(n.returning.end(), exprs.begin(), exprs.end());
  return std::move(*this);
}

// ---------------------------------------------------------------------------------------------
// DELETE

Delete::Delete(const FromItem& table) : node_(std::make_shared<DeleteNode>()) {
  node_->table = need_table(table, "delete_()");
}

DeleteNode& Delete::mut() { return cow(node_); }

Delete Delete::where(const Expr& criterion) && {
  detail::need(criterion, "WHERE criterion");
  mut().where.push_back(criterion);
  return std::move(*this);
}

Delete Delete::returning_list(std::vector<Expr> exprs) && {
  for (const Expr& e : exprs)
    detail::need(e, "RETURNING expression");
  DeleteNode& n = mut();
  n.returning.insert(n.returning.end(), exprs.begin(), exprs.end());
  return std::move(*this);
}

} // namespace retort

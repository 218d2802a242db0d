#include <retort/core/error.hpp>
#include <retort/schema/column.hpp>

namespace retort {

const char* to_sql(ReferentialAction action) {
  switch (action) {
  case ReferentialAction::no_action: return "NO ACTION";
  case ReferentialAction::restrict: return "RESTRICT";
  case ReferentialAction::cascade: return "CASCADE";
  case ReferentialAction::set_null: return "SET NULL";
  case ReferentialAction::set_default: return "SET DEFAULT";
  }
  return "NO ACTION";
}

ForeignKey::ForeignKey(std::string target) {
  auto dot = target.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == target.size())
    throw ArgumentError("ForeignKey(\"" + target + "\"): expected \"table.column\"");
  table_ = target.substr(0, dot);
  column_ = target.substr(dot + 1);
}

ForeignKey::ForeignKey(std::string table, std::string column)
    : table_(std::move(table)), column_(std::move(column)) {
  if (table_.empty() || column_.empty())
    throw ArgumentError("ForeignKey: empty table or column name");
}

ForeignKey& ForeignKey::on_delete(ReferentialAction action) {
  on_delete_ = action;
  return *this;
}

ForeignKey& ForeignKey::on_update(ReferentialAction action) {
  on_update_ = action;
  return *this;
}

ForeignKey& ForeignKey::name(std::string name) {
  name_ = std::move(name);
  return *this;
}

ForeignKey& ForeignKey::use_alter(bool on) {
  use_alter_ = on;
  return *this;
}

ForeignKeyConstraint ForeignKey::constraint(const std::string& local) const {
  ForeignKeyConstraint fk;
  fk.columns = {local};
  fk.referred_table = table_;
  fk.referred_columns = {column_};
  fk.on_delete = on_delete_;
  fk.on_update = on_update_;
  fk.name = name_;
  fk.use_alter = use_alter_;
  return fk;
}

Column::Column(std::string name, SqlType type) : name_(std::move(name)), type_(type) {
  if (name_.empty()) throw ArgumentError("Column: empty name");
}

Column& Column::primary_key(bool on) {
  primary_key_ = on;
  return *this;
}

Column& Column::nullable(bool on) {
  nullable_ = on;
  return *this;
}

Column& Column::autoincrement(Autoincrement mode) {
  autoincrement_ = mode;
  return *this;
}

Column& Column::default_value(Value value) {
  default_ = std::move(value);
  return *this;
}

Column& Column::server_default(std::string sql) {
  server_default_ = std::move(sql);
  return *this;
}

Column& Column::unique(bool on) {
  unique_ = on;
  return *this;
}

Column& Column::index(bool on) {
  index_ = on;
  return *this;
}

Column& Column::references(ForeignKey target) {
  foreign_key_ = std::move(target);
  return *this;
}

Column& Column::references(std::string target, ReferentialAction on_delete,
                           std::optional<ReferentialAction> on_update) {
  ForeignKey fk(std::move(target));
  fk.on_delete(on_delete);
  if (on_update) fk.on_update(*on_update);
  foreign_key_ = std::move(fk);
  return *this;
}

} // namespace retort

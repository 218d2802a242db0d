#include <retort/core/error.hpp>
#include <retort/schema/metadata.hpp>

#include <algorithm>

namespace retort {

const Table& MetaData::add(Table table) {
  if (!table.valid()) throw ArgumentError("MetaData::add(): empty Table handle");
  if (find(table.name()))
    throw ArgumentError("MetaData: table '" + table.name() + "' is already registered");
  tables_.push_back(std::move(table));
  return tables_.back();
}

const Table* MetaData::find(std::string_view name) const {
  for (const Table& t : tables_)
    if (t.name() == name) return &t;
  return nullptr;
}

const Table& MetaData::get(std::string_view name) const {
  if (const Table* t = find(name)) return *t;
  throw ArgumentError("MetaData: no table '" + std::string(name) + "'");
}

std::vector<Table> MetaData::tables_in_dependency_order() const {
  const std::size_t n = tables_.size();
  // deps[i]: indexes of the registered tables that table i must follow.
  std::vector<std::vector<std::size_t>> deps(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (const ForeignKeyConstraint& fk : tables_[i].foreign_keys()) {
      if (fk.use_alter || fk.referred_table == tables_[i].name()) continue;
      for (std::size_t j = 0; j < n; ++j)
        if (tables_[j].name() == fk.referred_table) deps[i].push_back(j);
    }
  }
  std::vector<bool> done(n, false);
  std::vector<Table> order;
  order.reserve(n);
  while (order.size() < n) {
    bool progress = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (done[i]) continue;
      bool ready =
          std::all_of(deps[i].begin(), deps[i].end(), [&](std::size_t j) { return done[j]; });
      if (!ready) continue;
      done[i] = true;
      order.push_back(tables_[i]);
      progress = true;
      break; // restart so that registration order decides among the ready ones
    }
    if (progress) continue;
    std::string names;
    for (std::size_t i = 0; i < n; ++i) {
      if (done[i]) continue;
      if (!names.empty()) names += ", ";
      names += "'" + tables_[i].name() + "'";
    }
    throw ArgumentError("foreign keys form a cycle among tables " + names +
                        "; mark one of the foreign keys use_alter to create it afterwards");
  }
  return order;
}

} // namespace retort

#include <retort/engine/schema_ops.hpp>
#include <retort/orm/mapper.hpp>
#include <retort/orm/registry.hpp>

namespace retort {

MetaData ModelRegistry::tables() const {
  MetaData out;
  for (const auto* mapper : registered_mappers())
    out.add(mapper->schema_table());
  for (const auto& table : extra_)
    if (out.find(table.name()) == nullptr) out.add(table);
  return out;
}

void ModelRegistry::add(const Table& table) { extra_.push_back(table); }

void ModelRegistry::create_all(const Engine& engine, bool checkfirst) const {
  retort::create_all(engine, tables(), checkfirst);
}

void ModelRegistry::drop_all(const Engine& engine, bool checkfirst) const {
  retort::drop_all(engine, tables(), checkfirst);
}

ModelRegistry& metadata() {
  static ModelRegistry registry;
  return registry;
}

} // namespace retort

// metadata(): every mapped class's table, like SQLAlchemy's Base.metadata. A class joins it as
// soon as the program uses it anywhere (its mapper registers itself at start-up), so
// metadata().create_all(engine) sees every model the program uses.
#pragma once

#include <retort/core/export.hpp>
#include <retort/engine/engine.hpp>
#include <retort/schema/metadata.hpp>

namespace retort {

/// The tables of all mapped classes, plus Core tables added to it.
class RETORT_API ModelRegistry {
public:
  /// A MetaData with every mapped table and every added Core table.
  MetaData tables() const;
  /// Adds a Core table (e.g. one a classical mapping or a many-to-many uses).
  void add(const Table& table);
  /// CREATE TABLE for every table, parents first; existing ones are skipped with checkfirst.
  void create_all(const Engine& engine, bool checkfirst = true) const;
  /// DROP TABLE for every table, children first; missing ones are skipped with checkfirst.
  void drop_all(const Engine& engine, bool checkfirst = true) const;

private:
  std::vector<Table> extra_;
};

/// The process-wide model registry.
RETORT_API ModelRegistry& metadata();

} // namespace retort

// MetaData: the registry of Tables, and their order for CREATE / DROP by foreign keys.
#pragma once

#include <retort/core/export.hpp>
#include <retort/schema/table.hpp>

#include <string_view>
#include <vector>

namespace retort {

/// A collection of tables, like SQLAlchemy's MetaData. Filled at start-up; reading it from
/// several threads afterwards is safe, changing it concurrently is not.
class RETORT_API MetaData {
public:
  /// Registers `table`; ArgumentError when a table of that name is already there.
  const Table& add(Table table);
  /// The table `name`; ArgumentError when absent.
  const Table& get(std::string_view name) const;
  /// The table `name`, or nullptr.
  const Table* find(std::string_view name) const;
  /// Every table in registration order.
  const std::vector<Table>& tables() const noexcept { return tables_; }
  /// Tables ordered so that each comes after the tables its foreign keys refer to
  /// (registration order otherwise). Foreign keys marked use_alter and self-references are
  /// not dependencies. ArgumentError naming the tables of a cycle otherwise.
  std::vector<Table> tables_in_dependency_order() const;

private:
  std::vector<Table> tables_;
};

} // namespace retort

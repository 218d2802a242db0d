#include "flush_order.hpp"

#include <retort/core/error.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <vector>

namespace retort::detail {

// The classes of `entries`, each once: a flush usually involves one or two, so a short list
// beats a std::set (a node per class per flush).
MapperList classes_of(const ChangeTracker::EntryList& entries) {
  MapperList out;
  for (const auto& entry : entries)
    if (std::find(out.begin(), out.end(), entry.state->mapper) == out.end())
      out.push_back(entry.state->mapper);
  return out;
}

MapperList dependency_order(MapperList involved) {
  // The common flush touches one class: nothing to order.
  if (involved.size() <= 1) return involved;
  auto is_involved = [&](const MapperBase* m) {
    return std::find(involved.begin(), involved.end(), m) != involved.end();
  };
  std::vector<const MapperBase*> all = registered_mappers();
  std::map<const MapperBase*, std::set<const MapperBase*>> parents;
  for (const auto* m : all)
    for (const auto& c : m->columns()) {
      if (c.fk_table.empty() || c.fk_table == m->table_name()) continue;
      if (const auto* p = mapper_for_table(c.fk_table)) parents[m].insert(p);
    }
  std::vector<const MapperBase*> order;
  std::set<const MapperBase*> done, visiting;
  std::function<void(const MapperBase*)> visit = [&](const MapperBase* m) {
    if (done.contains(m)) return;
    if (visiting.contains(m))
      throw ArgumentError("flush: the foreign keys of '" + m->table_name() +
                          "' form a cycle with other tables; Retort cannot order such rows "
                          "(make one foreign key nullable and set it in a second flush)");
    visiting.insert(m);
    for (const auto* p : parents[m])
      visit(p);
    visiting.erase(m);
    done.insert(m);
    order.push_back(m);
  };
  for (const auto* m : all)
    if (is_involved(m)) visit(m);
  std::erase_if(order, [&](const MapperBase* m) { return !is_involved(m); });
  return MapperList(order.begin(), order.end());
}

} // namespace retort::detail

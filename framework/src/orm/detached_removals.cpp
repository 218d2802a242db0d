// One process-wide table, keyed by the owner's state: removals while detached are rare, and a
// flag on the state (InstanceState::detached_removals) keeps every other object from looking.
#include "detached_removals.hpp"

#include <mutex>
#include <unordered_map>
#include <utility>

namespace retort::detail {

namespace {

struct Store {
  std::mutex mutex;
  std::unordered_map<const InstanceState*, std::vector<DetachedRemoval>> removals;
};

Store& store() {
  static Store instance;
  return instance;
}

} // namespace

void remember_detached_removal(InstanceState& owner, std::size_t relationship,
                               const std::shared_ptr<void>& target) {
  Store& s = store();
  std::lock_guard lock(s.mutex);
  s.removals[&owner].push_back({relationship, target});
  owner.detached_removals = true;
}

void cancel_detached_removal(InstanceState& owner, std::size_t relationship, const void* target) {
  std::shared_ptr<void> gone; // released outside the lock, as below
  Store& s = store();
  std::lock_guard lock(s.mutex);
  auto found = s.removals.find(&owner);
  if (found == s.removals.end()) return;
  auto& list = found->second;
  for (auto it = list.rbegin(); it != list.rend(); ++it) {
    if (it->relationship != relationship || it->target.get() != target) continue;
    gone = std::move(it->target);
    list.erase(std::next(it).base());
    break;
  }
  if (!list.empty()) return;
  s.removals.erase(found);
  owner.detached_removals = false;
}

std::vector<DetachedRemoval> take_detached_removals(InstanceState& owner) {
  std::vector<DetachedRemoval> out;
  owner.detached_removals = false;
  Store& s = store();
  std::lock_guard lock(s.mutex);
  if (auto found = s.removals.find(&owner); found != s.removals.end()) {
    out = std::move(found->second);
    s.removals.erase(found);
  }
  return out;
}

void forget_detached_removals(const InstanceState& owner) noexcept {
  std::vector<DetachedRemoval> gone;
  {
    Store& s = store();
    std::lock_guard lock(s.mutex);
    if (auto found = s.removals.find(&owner); found != s.removals.end()) {
      gone = std::move(found->second);
      s.removals.erase(found);
    }
  }
  // Released outside the lock: the last reference to a target ends its state, which may have
  // removals of its own to forget.
}

} // namespace retort::detail

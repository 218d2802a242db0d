// Members that hold related objects: Collection<T> (one-to-many, many-to-many) and Ref<T>
// (many-to-one). They are the only members the ORM can intercept, so they are where lazy
// loading and back_populates synchronisation happen.
#pragma once

#include <retort/core/error.hpp>
#include <retort/core/export.hpp>
#include <retort/orm/instance_state.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace retort {

namespace detail {

/// Where a relationship member lives: its owner's state and the relationship's index.
struct RelationshipHook {
  InstanceState* owner = nullptr;
  std::uint16_t index = 0;
};

/// Loads a relationship of `owner` through its session (lazy loading); throws
/// InvalidStateError for a detached owner or a "raise" relationship.
RETORT_API void load_relationship(const RelationshipHook& hook);
/// Mirrors an assignment on the other side (back_populates): `added` joined or left.
RETORT_API void relationship_changed(const RelationshipHook& hook,
                                     const std::shared_ptr<void>& target, bool added);
/// True when the relationship's loaded bit is set (or no hook: a transient owner).
RETORT_API bool relationship_loaded(const RelationshipHook& hook) noexcept;
/// `item` of class `mapper` left a collection whose owner no session has seen yet (so no hook
/// says which): a session holding `item` pending checks at its flush whether it lost its parent.
RETORT_API void removed_unwatched(const MapperBase& mapper, const std::shared_ptr<void>& item);
/// As above, for an item of class T (defined with the mappers, mapper_impl.hpp).
template <typename T> void removed_unwatched(const std::shared_ptr<T>& item);
/// `item` of class `mapper` joined a collection whose owner no session has seen: it has a
/// parent again, so a session holding it pending no longer takes it for an orphan.
RETORT_API void added_unwatched(const MapperBase& mapper, const std::shared_ptr<void>& item);
/// As above, for an item of class T (defined with the mappers, mapper_impl.hpp).
template <typename T> void added_unwatched(const std::shared_ptr<T>& item);

} // namespace detail

/// A collection of related objects (one-to-many or many-to-many). Loads on first access when
/// lazy; appending and removing keep back_populates in sync and are flushed by the session.
template <typename T> class Collection {
public:
  using value_type = std::shared_ptr<T>;
  using iterator = typename std::vector<std::shared_ptr<T>>::iterator;
  using const_iterator = typename std::vector<std::shared_ptr<T>>::const_iterator;

  Collection() = default;
  /// A transient collection of `items`.
  Collection(std::initializer_list<std::shared_ptr<T>> items) : items_(items) {}
  // A copy is a plain value: it belongs to no object, so it drops the hook.
  Collection(const Collection& other) : items_(other.items_) {}
  Collection& operator=(const Collection& other) {
    replace(other.items_);
    return *this;
  }
  Collection(Collection&&) = default;
  Collection& operator=(Collection&& other) {
    replace(std::move(other.items_));
    return *this;
  }

  /// Iterates the related objects (loading them first when needed).
  iterator begin() { return load().begin(); }
  /// End of the related objects.
  iterator end() { return load().end(); }
  /// Iterates the related objects (loading them first when needed).
  const_iterator begin() const { return load().begin(); }
  /// End of the related objects.
  const_iterator end() const { return load().end(); }
  /// Number of related objects.
  std::size_t size() const { return load().size(); }
  /// True when there are none.
  bool empty() const { return load().empty(); }
  /// The i-th related object.
  const std::shared_ptr<T>& operator[](std::size_t i) const { return load()[i]; }
  /// The related objects as a vector.
  const std::vector<std::shared_ptr<T>>& items() const { return load(); }

  /// Adds `item`; back_populates sets the item's reference to the owner.
  void push_back(std::shared_ptr<T> item) {
    load();
    items_.push_back(item);
    joined(item);
  }
  /// Removes `item`; with delete-orphan it is deleted at the next flush.
  void remove(const std::shared_ptr<T>& item) {
    load();
    auto found = std::find(items_.begin(), items_.end(), item);
    if (found == items_.end()) return;
    // `item` may refer to an element of this very vector (remove(c[0])): the erase shifts the
    // next element into it, so hold the removed object itself, not the reference.
    std::shared_ptr<T> removed = std::move(*found);
    items_.erase(found);
    left(removed);
  }
  /// Removes every item.
  void clear() {
    auto old = load();
    items_.clear();
    for (const auto& item : old)
      left(item);
  }
  /// True when the items are in memory (no SQL will be emitted on access).
  bool loaded() const noexcept { return detail::relationship_loaded(hook_); }

  // Internal: used by the mapper; not part of the application API.
  /// The items without triggering a load.
  std::vector<std::shared_ptr<T>>& raw() noexcept { return items_; }
  /// Binds the collection to its owner.
  void set_hook(detail::RelationshipHook hook) noexcept { hook_ = hook; }
  /// True once bound to its owner's state (the owner has been in a session).
  bool bound() const noexcept { return hook_.owner != nullptr; }
  /// True when it holds nothing (without loading).
  bool unset() const noexcept { return items_.empty(); }

private:
  std::vector<std::shared_ptr<T>>& load() const {
    if (!detail::relationship_loaded(hook_)) detail::load_relationship(hook_);
    return items_;
  }
  template <typename Items> void replace(Items&& items) {
    auto old = load();
    items_ = std::forward<Items>(items);
    for (const auto& item : old)
      left(item);
    for (const auto& item : items_)
      joined(item);
  }
  // `item` was taken out. Without a hook the owner has never been in a session: only the item's
  // session, if any, can still learn of it (SQLAlchemy marks it orphaned outside a session).
  void left(const std::shared_ptr<T>& item) {
    if (hook_.owner == nullptr)
      detail::removed_unwatched(item);
    else
      detail::relationship_changed(hook_, item, false);
  }
  // `item` was put in; without a hook, as above, only the item's session can learn of it.
  void joined(const std::shared_ptr<T>& item) {
    if (hook_.owner == nullptr)
      detail::added_unwatched(item);
    else
      detail::relationship_changed(hook_, item, true);
  }

  mutable std::vector<std::shared_ptr<T>> items_;
  detail::RelationshipHook hook_;
};

/// A reference to one related object (many-to-one). It holds the target weakly: the parent's
/// collection holds its children strongly, and a strong reference back would make a cycle that
/// never frees. The session (or the application) keeps targets alive; reading a reference whose
/// target has been freed raises InvalidStateError rather than pretending there is none.
template <typename T> class Ref {
public:
  Ref() = default;
  /// A reference to `target`.
  Ref(const std::shared_ptr<T>& target) : target_(target), has_target_(target != nullptr) {}
  // A copy is a plain value: it belongs to no object, so it drops the hook.
  Ref(const Ref& other) : target_(other.target_), has_target_(other.has_target_) {}
  Ref& operator=(const Ref& other) { return *this = other.target_.lock(); }
  Ref(Ref&&) = default;
  Ref& operator=(Ref&& other) { return *this = other.target_.lock(); }

  /// Points at `target` (or nothing); back_populates adds the owner to the target's collection.
  Ref& operator=(const std::shared_ptr<T>& target) {
    auto old = get();
    if (old == target) return *this;
    target_ = target;
    has_target_ = target != nullptr;
    if (old) detail::relationship_changed(hook_, old, false);
    if (target) detail::relationship_changed(hook_, target, true);
    return *this;
  }

  /// The related object (loading it first when needed), or nullptr when there is none.
  std::shared_ptr<T> get() const {
    if (!detail::relationship_loaded(hook_)) detail::load_relationship(hook_);
    auto target = target_.lock();
    if (!target && has_target_)
      throw InvalidStateError("the object this reference points to has been freed; keep a "
                              "shared_ptr to it or keep its session open");
    return target;
  }
  /// Member access on the related object.
  T* operator->() const { return get().get(); }
  /// The related object.
  T& operator*() const { return *get(); }
  /// True when there is a related object.
  explicit operator bool() const { return get() != nullptr; }
  /// True when the target is in memory.
  bool loaded() const noexcept { return detail::relationship_loaded(hook_); }

  // Internal: used by the mapper; not part of the application API.
  /// The target without triggering a load (nullptr when none or freed).
  std::shared_ptr<T> raw() const noexcept { return target_.lock(); }
  /// Sets the target without back_populates (loading).
  void set_raw(const std::shared_ptr<T>& target) noexcept {
    target_ = target;
    has_target_ = target != nullptr;
  }
  /// Binds the reference to its owner.
  void set_hook(detail::RelationshipHook hook) noexcept { hook_ = hook; }
  /// True once bound to its owner's state (the owner has been in a session).
  bool bound() const noexcept { return hook_.owner != nullptr; }
  /// True when it never pointed at anything (without loading).
  bool unset() const noexcept { return !has_target_; }

private:
  std::weak_ptr<T> target_;
  bool has_target_ = false;
  detail::RelationshipHook hook_;
};

} // namespace retort

// Session bookkeeping: object states, the identity map, the transaction and its end.
// The unit of work is in unit_of_work.cpp, loading in loading.cpp, the lists of changes and
// savepoint undo notes in change_tracker.cpp.
#include "core/thread_token.hpp"

#include <retort/core/error.hpp>
#include <retort/orm/detail/application_states.hpp>
#include <retort/orm/detail/session_core.hpp>
#include <retort/orm/relationship.hpp>
#include <retort/sql/dialect.hpp>

#include "detached_removals.hpp"
#include "pending_orphans.hpp"
#include "session_access.hpp"

#include <algorithm>
#include <unordered_set>

namespace retort::detail {

SessionCore::SessionCore(Engine engine, SessionOptions options)
    : engine_(std::move(engine)), options_(options) {}

SessionCore::~SessionCore() { close(); }

void SessionCore::check_usable() const {
  if (closed_) throw InvalidStateError("the session is closed");
  if (needs_rollback_)
    throw InvalidStateError("this session's transaction was rolled back after an error in a "
                            "flush or its COMMIT; call rollback() before using the session again");
}

IdentityMap& SessionCore::identity_map(const MapperBase& mapper) { return maps_[&mapper]; }

std::size_t SessionCore::identity_map_size() const noexcept {
  std::size_t n = 0;
  for (const auto& [mapper, map] : maps_)
    n += map.size();
  return n;
}

InstanceState& SessionCore::state_for(const MapperBase& mapper,
                                      const std::shared_ptr<void>& object) {
  if (!object) throw ArgumentError("a null object was given to the session");
  if (InstanceState* state = mapper.state_of(object)) return *state;
  // An object the application made: its state is kept beside it, not by this session, so that
  // it outlives the session (detached) exactly as the state of an object the ORM made does.
  return application_state_for(mapper, object);
}

ObjectState SessionCore::state_of(const MapperBase& mapper,
                                  const std::shared_ptr<void>& object) const {
  if (!object) throw ArgumentError("state_of(): null object");
  const InstanceState* state = mapper.state_of(object);
  if (state == nullptr) return ObjectState::transient;
  if (state->session != nullptr && state->session != this) return ObjectState::detached;
  return state->status;
}

void SessionCore::attach(InstanceState& state, const std::shared_ptr<void>& object) {
  state.session = this;
  if (state.self.expired()) state.self = object;
  const auto& relationships = state.mapper->relationships();
  for (std::size_t i = 0; i < relationships.size(); ++i)
    relationships[i].set_hook(state.object,
                              RelationshipHook{&state, static_cast<std::uint16_t>(i)});
}

namespace {

// The refusals of add() for one object not yet in `session`.
void check_addable(SessionCore& session, const MapperBase& mapper, const InstanceState& state,
                   const std::shared_ptr<void>& object) {
  if (state.session != nullptr)
    throw InvalidStateError(std::string("object of '") + mapper.table_name() +
                            "' is already attached to another session; expunge it there first");
  if (state.status == ObjectState::transient || state.status == ObjectState::pending) return;
  const IdentityEntry* found = SessionAccess(session).identity_map(mapper).find(state.identity);
  if (found != nullptr && found->object != object)
    throw InvalidStateError(std::string("another object with the same primary key is already "
                                        "in the session (table '") +
                            mapper.table_name() + "'); use merge()");
}

// add() changes nothing when it throws: every object its save-update cascade reaches is checked
// before any is added (the walk cascade_add() will make, without changing anything).
void check_add_cascade(SessionCore& session, const MapperBase& mapper, InstanceState& root,
                       const std::shared_ptr<void>& object) {
  check_addable(session, mapper, root, object);
  if (mapper.relationships().empty()) return;
  std::vector<InstanceState*> todo{&root};
  std::unordered_set<const InstanceState*> seen{&root};
  while (!todo.empty()) {
    InstanceState& state = *todo.back();
    todo.pop_back();
    // A new object's members are all taken as they are (add() marks them loaded).
    const bool all = state.status == ObjectState::transient || state.status == ObjectState::pending;
    const auto& relationships = state.mapper->relationships();
    for (std::size_t i = 0; i < relationships.size(); ++i) {
      const RelationshipInfo& rel = relationships[i];
      if (!(rel.cascade & cascade_save_update) || !(all || state.relationship_loaded(i))) continue;
      for (const auto& item : rel.items(state.object)) {
        InstanceState& child = SessionAccess::state_for(rel.target_mapper(), item);
        if (child.session == &session || !seen.insert(&child).second) continue;
        check_addable(session, rel.target_mapper(), child, item);
        todo.push_back(&child);
      }
    }
  }
}

} // namespace

void SessionCore::add(const MapperBase& mapper, const std::shared_ptr<void>& object) {
  check_usable();
  InstanceState& state = state_for(mapper, object);
  // Given again: whatever collection it left before, it is no orphan of one now.
  if (!changes_.orphans().empty()) clear_orphaned_outside(object.get());
  // Already here (also when deleted: add() does not undelete, as in SQLAlchemy).
  if (state.session == this) return;
  check_add_cascade(*this, mapper, state, object);
  switch (state.status) {
  case ObjectState::transient:
  case ObjectState::pending:
    state.status = ObjectState::pending;
    // Whatever a new object's relationship members hold is the truth: nothing to load.
    state.set_all_loaded(true);
    attach(state, object);
    changes_.pending().push_back(Entry{object, &state});
    break;
  case ObjectState::detached:
  case ObjectState::persistent:
  case ObjectState::deleted: {
    auto& map = identity_map(mapper);
    auto [found, inserted] = map.try_emplace(Entry{object, &state});
    if (!inserted && found->object != object)
      throw InvalidStateError(std::string("another object with the same primary key is already "
                                          "in the session (table '") +
                              mapper.table_name() + "'); use merge()");
    state.status = ObjectState::persistent;
    attach(state, object);
    // It may have changed while detached.
    flag_modified(state);
    break;
  }
  }
  cascade_add(mapper, state);
  if (state.detached_removals) replay_detached_removals(mapper, state);
}

// Taken out of the object's collections while no session watched it: the session it joins now
// cascades the removals, as SQLAlchemy's save-update cascade carries an attribute's pending
// history (the removed object joins too, and leaves as an orphan or loses its foreign key).
void SessionCore::replay_detached_removals(const MapperBase& mapper, InstanceState& state) {
  for (auto& removal : take_detached_removals(state)) {
    const MapperBase& target = mapper.relationships()[removal.relationship].target_mapper();
    if (state_for(target, removal.target).session != this) add(target, removal.target);
    relationship_changed(state, removal.relationship, removal.target, false);
  }
}

void SessionCore::cascade_add(const MapperBase& mapper, InstanceState& state) {
  const auto& relationships = mapper.relationships();
  // Nothing to cascade to: no owner to lock (an atomic compare-and-swap per add()).
  if (relationships.empty()) return;
  auto owner = state.self.lock();
  for (std::size_t i = 0; i < relationships.size(); ++i) {
    const RelationshipInfo& rel = relationships[i];
    if (!state.relationship_loaded(i)) continue;
    const MapperBase& target = rel.target_mapper();
    for (const auto& item : rel.items(state.object)) {
      InstanceState& item_state = state_for(target, item);
      // Keep the other side in step for graphs built before add() (no hooks then).
      if (rel.back_index >= 0 && owner)
        target.relationships()[std::size_t(rel.back_index)].mirror(item_state.object, owner, true);
      if (rel.kind == RelationshipKind::many_to_many && state.status == ObjectState::pending)
        changes_.association_changes().push_back({&mapper, i, owner, item, true});
      if ((rel.cascade & cascade_save_update) && item_state.session != this) add(target, item);
      // A persistent child of a new parent takes its key at the flush.
      flag_modified(item_state);
    }
  }
}

InstanceState& SessionCore::state_in_session(const MapperBase& mapper,
                                             const std::shared_ptr<void>& object,
                                             const char* caller) {
  InstanceState& state = state_for(mapper, object);
  if (state.session != this)
    throw InvalidStateError(std::string(caller) + ": the object of '" + mapper.table_name() +
                            "' is " + to_string(state.status) + " and not in this session");
  return state;
}

void SessionCore::remove(const MapperBase& mapper, const std::shared_ptr<void>& object) {
  check_usable();
  InstanceState& state = state_in_session(mapper, object, "remove()");
  if (state.status == ObjectState::pending) {
    // Deleting a pending object just forgets it, as SQLAlchemy's expunge of a pending object.
    expunge(mapper, object);
    return;
  }
  if (state.status != ObjectState::persistent) return;
  // An operation that throws changes nothing: whatever the cascade must know is loaded first,
  // so that a load that fails (or that an async session refuses) leaves every state as it was.
  load_for_remove(state);
  mark_deleted(mapper, state, object);
}

void SessionCore::load_for_remove(InstanceState& root) {
  // Loading the children must not flush anything before the deletion is decided.
  ++no_autoflush_;
  struct Restore {
    int& depth;
    ~Restore() { --depth; }
  } restore{no_autoflush_};
  std::vector<InstanceState*> todo{&root};
  std::unordered_set<const InstanceState*> seen{&root};
  while (!todo.empty()) {
    InstanceState& state = *todo.back();
    todo.pop_back();
    const auto& relationships = state.mapper->relationships();
    for (std::size_t i = 0; i < relationships.size(); ++i) {
      const RelationshipInfo& rel = relationships[i];
      if (rel.kind == RelationshipKind::many_to_one) continue;
      // Children must be known either to delete them or to null their foreign key (SQLAlchemy
      // loads them too, unless passive_deletes is set).
      if (!state.relationship_loaded(i)) load_relationship(state, i);
      if (!(rel.cascade & cascade_delete)) continue;
      for (const auto& item : rel.items(state.object)) {
        InstanceState& child = state_for(rel.target_mapper(), item);
        if (child.session != this || child.status != ObjectState::persistent) continue;
        if (!seen.insert(&child).second) continue;
        todo.push_back(&child);
      }
    }
  }
}

void SessionCore::mark_deleted(const MapperBase& mapper, InstanceState& state,
                               const std::shared_ptr<void>& object) {
  state.status = ObjectState::deleted;
  changes_.deleted().push_back(Entry{object, &state});
  cascade_remove(mapper, state);
}

void SessionCore::cascade_remove(const MapperBase& mapper, InstanceState& state) {
  const auto& relationships = mapper.relationships();
  for (std::size_t i = 0; i < relationships.size(); ++i) {
    const RelationshipInfo& rel = relationships[i];
    if (rel.kind == RelationshipKind::many_to_one) continue;
    const bool cascade = rel.cascade & cascade_delete;
    auto owner = state.self.lock();
    for (const auto& item : rel.items(state.object)) {
      const MapperBase& target = rel.target_mapper();
      if (rel.kind == RelationshipKind::many_to_many) {
        changes_.association_changes().push_back({&mapper, i, owner, item, false});
        // cascade "delete" along a many-to-many deletes the related objects too (loaded by
        // load_for_remove(), as the one-to-many children are).
        InstanceState& related = state_for(target, item);
        if (cascade && related.session == this && related.status == ObjectState::persistent)
          mark_deleted(target, related, item);
        continue;
      }
      InstanceState& child = state_for(target, item);
      if (cascade) {
        // Loaded by load_for_remove(): nothing here loads, so nothing here can fail halfway.
        if (child.session == this && child.status == ObjectState::pending) expunge(target, item);
        if (child.session == this && child.status == ObjectState::persistent)
          mark_deleted(target, child, item);
      } else if (child.session == this && child.status == ObjectState::persistent) {
        write_column(child, rel.remote_column, Value());
      }
    }
  }
}

void SessionCore::expunge(const MapperBase& mapper, const std::shared_ptr<void>& object) {
  InstanceState& state = state_for(mapper, object);
  if (state.session != this) return;
  changes_.forget(state);
  if (!state.identity.empty()) identity_map(mapper).erase(state.identity);
  state.session = nullptr;
  state.status = state.identity.empty() ? ObjectState::transient : ObjectState::detached;
}

void SessionCore::expire(const MapperBase& mapper, const std::shared_ptr<void>& object) {
  InstanceState& state = state_for(mapper, object);
  if (state.session != this || state.status != ObjectState::persistent)
    throw InvalidStateError("expire(): the object is not persistent in this session");
  state.expired = true;
  state.set_all_loaded(false);
}

void SessionCore::expire_all() {
  for (auto& [mapper, map] : maps_)
    for (auto& entry : map) {
      entry.state->expired = true;
      entry.state->set_all_loaded(false);
    }
}

void SessionCore::make_persistent(Entry entry) {
  InstanceState& state = *entry.state;
  if (state.session != this) attach(state, entry.object);
  identity_map(*state.mapper).insert_or_assign(std::move(entry));
  state.status = ObjectState::persistent;
}

namespace {

// A savepoint the session does not know of would desynchronise its objects from the database
// (a rolled-back INSERT would stay persistent): the session's connection refuses them.
void refuse_nested(Connection& connection) noexcept {
  connection.refuse_nested("begin_nested() on a session's connection: the session would not "
                           "know of the savepoint; use the session's begin_nested()");
}

} // namespace

Connection& SessionCore::connection() {
  check_usable();
  if (!connection_) {
    connection_.emplace(engine_.connect());
    refuse_nested(*connection_);
  }
  if (!transaction_) transaction_.emplace(connection_->begin());
  return *connection_;
}

void SessionCore::adopt_connection(Connection connection) {
  check_usable();
  if (connection_) throw InvalidStateError("the session already holds a connection");
  connection_.emplace(std::move(connection));
  refuse_nested(*connection_);
}

bool CountingPlan::next(PlanStep& step) {
  if (!inner_.next(step)) return false;
  SessionAccess(session_).count_statements(1);
  return true;
}

void SessionCore::run(Plan& plan) {
  Connection& conn = connection();
  CountingPlan counting(*this, plan);
  run_plan(counting, conn);
}

std::exception_ptr SessionCore::run_and_commit(Plan& plan) {
  Connection& conn = connection();
  CountingPlan counting(*this, plan);
  return run_plan_and_commit(counting, conn, *transaction_);
}

// A many-to-one reference that was assigned decides its foreign key.
void SessionCore::sync_references(InstanceState& state) {
  const MapperBase& mapper = *state.mapper;
  const auto& rels = mapper.relationships();
  for (std::size_t i = 0; i < rels.size(); ++i) {
    const RelationshipInfo& rel = rels[i];
    if (rel.kind != RelationshipKind::many_to_one) continue;
    if (!state.relationship_loaded(i)) continue;
    auto targets = rel.items(state.object);
    RelationshipBits& bits = *state.relationship_bits();
    const bool assigned = bits.assigned & (1ull << i);
    bits.assigned &= ~(1ull << i);
    if (targets.empty() && !assigned) continue;
    Value key;
    if (!targets.empty()) {
      const MapperBase& target = rel.target_mapper();
      InstanceState& target_state = state_for(target, targets.front());
      // A reference to an object being deleted cannot stand: the key becomes NULL.
      if (target_state.status != ObjectState::deleted)
        key = target.column_value(target_state.object, rel.remote_column);
      if (target_state.status == ObjectState::pending && target_state.identity.empty())
        throw InvalidStateError("flush: '" + mapper.table_name() + "." + rel.name +
                                "' refers to a pending '" + target.table_name() +
                                "' that is not flushed before it");
    }
    if (!(mapper.column_value(state.object, rel.local_column) == key))
      mapper.set_column_value(state.object, rel.local_column, key);
  }
}

namespace {

// Whether some mapped class holds a many-to-one reference to `target`'s objects: a Ref is weak,
// so the identity map must keep such objects alive for the references to stay valid.
bool referenced_by_many_to_one(const MapperBase& target) {
  for (const MapperBase* mapper : registered_mappers())
    for (const auto& rel : mapper->relationships())
      if (rel.kind == RelationshipKind::many_to_one && &rel.target_mapper() == &target) return true;
  return false;
}

bool has_kind(const MapperBase& mapper, RelationshipKind kind) {
  for (const auto& rel : mapper.relationships())
    if (rel.kind == kind) return true;
  return false;
}

} // namespace

void SessionCore::let_go(IdentityMap& map, std::size_t i) noexcept {
  InstanceState& state = *map.at(i).state;
  state.session = nullptr;
  state.status = ObjectState::detached;
  map.erase_at(i);
}

void SessionCore::for_each_changed(const ChangedVisitor& visit) {
  if (!options_.autodetect_changes) {
    visit_flagged(visit);
    return;
  }
  for (auto& [mapper, map] : maps_) {
    // An empty map is common (a get() that missed makes one): skip the registry walk below.
    if (map.empty()) continue;
    const bool may_drop = !referenced_by_many_to_one(*mapper);
    // A reassigned reference is a change too, though no column was written yet: classes with
    // many-to-one references synchronise each object's foreign keys before comparing.
    const bool has_references = has_kind(*mapper, RelationshipKind::many_to_one);
    std::uint64_t mask = 0;
    // The next entry at or after `i` that changed (`mask` says how) or can be let go (`mask`
    // is 0); map.size() when there is none. The map's segments are scanned run by run.
    auto next = [&](std::size_t i) {
      if (!has_references) {
        for (; i < map.size();) {
          const std::span<IdentityEntry> run = map.run_from(i);
          const std::size_t found = mapper->find_changed(run, 0, may_drop, mask);
          if (found < run.size()) return i + found;
          i += run.size();
        }
        return map.size();
      }
      for (; i < map.size(); ++i) {
        if (map.at(i).state->status != ObjectState::persistent) continue;
        sync_references(*map.at(i).state);
        if (mapper->find_changed({&map.at(i), 1}, 0, may_drop, mask) == 0) return i;
      }
      return map.size();
    };
    std::size_t i = next(0);
    while (i < map.size()) {
      if (mask != 0) {
        if (!visit(*mapper, map.at(i), mask)) return;
        i = next(i + 1);
        continue;
      }
      let_go(map, i);
      i = next(i);
    }
  }
}

void SessionCore::visit_flagged(const ChangedVisitor& visit) {
  if (identity_map_size() >= release_at_) release_unreachable();
  // By index, and the visitor gets a copy: were the flagged list to grow meanwhile, its entries
  // would move. (Nothing flags during this walk today: a flush flags the children whose foreign
  // keys it sets before it collects its updates.)
  EntryList& flagged = changes_.flagged();
  for (std::size_t i = 0; i < flagged.size(); ++i) {
    Entry entry = flagged[i];
    InstanceState& state = *entry.state;
    if (state.session != this || state.status != ObjectState::persistent) continue;
    sync_references(state);
    const std::uint64_t mask = state.mapper->changed_columns(state);
    if (mask != 0 && !visit(*state.mapper, entry, mask)) return;
  }
}

// Unlike the change-detection walk, this one lets go of unreachable objects without comparing
// them: without detection, a change to an object nobody flagged is not written anyway, and an
// object nobody can reach can no longer be flagged.
void SessionCore::release_unreachable() {
  for (auto& [mapper, map] : maps_) {
    if (map.empty() || referenced_by_many_to_one(*mapper)) continue;
    for (std::size_t i = 0; i < map.size();) {
      if (map.at(i).state->status == ObjectState::persistent && only_the_map_holds(map.at(i)))
        let_go(map, i);
      else
        ++i;
    }
  }
  // At least 1024: a small session is not worth a walk per flush.
  release_at_ = std::max<std::size_t>(1024, 2 * identity_map_size());
}

void SessionCore::modified(const MapperBase& mapper, const std::shared_ptr<void>& object) {
  check_usable();
  flag_modified(state_in_session(mapper, object, "modified()"));
}

void SessionCore::flag_modified(InstanceState& state) {
  if (options_.autodetect_changes || state.flagged_modified || state.session != this ||
      state.status != ObjectState::persistent)
    return;
  auto object = state.self.lock();
  if (!object) return;
  changes_.flag(std::move(object), state);
}

void SessionCore::write_column(InstanceState& state, std::size_t column, const Value& value) {
  state.mapper->set_column_value(state.object, column, value);
  flag_modified(state);
}

bool SessionCore::has_changes() {
  if (changes_.has_unflushed()) return true;
  // A session that holds no object has nothing to compare: the autoflush of a first get()
  // or query costs no walk.
  if (identity_map_size() == 0) return false;
  return persistent_changed();
}

bool SessionCore::persistent_changed() {
  bool changed = false;
  for_each_changed([&](const MapperBase&, Entry&, std::uint64_t) {
    changed = true;
    return false;
  });
  return changed;
}

void SessionCore::autoflush() {
  if (!options_.autoflush || flushing_ || no_autoflush_ > 0) return;
  if (has_changes()) flush();
}

void SessionCore::commit() {
  check_usable();
  flush_and_commit();
  after_commit();
}

Transaction* SessionCore::open_transaction() {
  check_usable();
  return transaction_ ? &*transaction_ : nullptr;
}

void SessionCore::after_commit() {
  end_transaction();
  changes_.committed();
  if (options_.expire_on_commit) expire_all();
}

void SessionCore::abort_transaction() noexcept {
  if (transaction_) {
    try {
      transaction_->rollback();
    } catch (...) {
      // A connection whose rollback failed is in an unknown state: the pool must drop it.
      if (connection_) connection_->invalidate();
    }
  }
  end_transaction();
}

void SessionCore::end_transaction() noexcept {
  changes_.transaction_ended(); // savepoints end with the transaction
  transaction_.reset();
  connection_.reset(); // back to the pool between transactions, as SQLAlchemy does
}

void SessionCore::rollback() {
  if (closed_) throw InvalidStateError("the session is closed");
  abort_transaction();
  needs_rollback_ = false;
  restore_objects(0, 0);
}

void SessionCore::restore_objects(std::size_t inserted_from, std::size_t deleted_from) {
  changes_.undo(this, maps_, inserted_from, deleted_from);
  // Unflushed changes go with the transaction, as in SQLAlchemy: back to the last flushed or
  // loaded values, then expired so that the next load brings the database's.
  for (auto& [mapper, map] : maps_)
    for (auto& entry : map)
      mapper->restore_snapshot(*entry.state);
  expire_all();
}

std::string SessionCore::savepoint_sql(SavepointOp op, std::uint32_t id) const {
  // Named apart from Connection::begin_nested()'s savepoints.
  const std::string name = "retort_session_sp_" + std::to_string(id);
  const SqlDialect& dialect = engine_.dialect();
  switch (op) {
  case SavepointOp::begin: return dialect.savepoint_sql(name);
  case SavepointOp::release: return dialect.release_savepoint_sql(name);
  case SavepointOp::rollback: return dialect.rollback_to_savepoint_sql(name);
  }
  return {};
}

std::uint32_t SessionCore::savepoint_begun() {
  check_usable();
  return changes_.savepoint_begun();
}

bool SessionCore::savepoint_active(std::uint32_t id) const noexcept {
  return changes_.savepoint_active(id);
}

void SessionCore::savepoint_released(std::uint32_t id) noexcept { changes_.savepoint_released(id); }

void SessionCore::savepoint_rolled_back(std::uint32_t id) {
  const auto mark = changes_.savepoint_ended(id);
  if (!mark) return;
  restore_objects(mark->inserted, mark->deleted);
  // Rows the savepoint UPDATEd are back as they were: so are their objects.
  changes_.undo_savepoint_updates(this, *mark);
}

std::weak_ptr<void> SessionCore::lifetime() {
  if (!lifetime_) lifetime_ = std::make_shared<char>();
  return lifetime_;
}

bool StatementPlan::next(PlanStep& step) {
  if (sent_) return false;
  sent_ = true;
  step.sql = sql_;
  return true;
}

void SessionCore::detach_all() {
  for (auto& [mapper, map] : maps_)
    for (auto& entry : map) {
      InstanceState& state = *entry.state;
      state.session = nullptr;
      state.status = ObjectState::detached;
      // Many-to-many collections hold both sides strongly; clearing them here breaks the
      // cycle, so objects nobody else holds are freed. A later access raises "detached".
      const auto& relationships = mapper->relationships();
      for (std::size_t i = 0; i < relationships.size(); ++i) {
        if (relationships[i].kind != RelationshipKind::many_to_many) continue;
        relationships[i].assign(state.object, {});
        state.set_loaded(i, false);
      }
    }
  changes_.detach(this);
}

void SessionCore::close() {
  if (closed_) return;
  abort_transaction();
  detach_all();
  maps_.clear();
  changes_.clear();
  closed_ = true;
}

void SessionCore::relationship_changed(InstanceState& owner, std::size_t index,
                                       const std::shared_ptr<void>& target, bool added) {
  const RelationshipInfo& rel = owner.mapper->relationships()[index];
  const MapperBase& target_mapper = rel.target_mapper();
  InstanceState& target_state = state_for(target_mapper, target);
  if (rel.kind == RelationshipKind::many_to_one)
    owner.relationship_bits()->assigned |= 1ull << index;
  // The session sees relationship members change: without change detection, both sides are
  // flagged here so that the foreign keys this moves are written.
  flag_modified(owner);
  flag_modified(target_state);
  auto owner_object = owner.self.lock();
  if (rel.back_index >= 0 && owner_object) {
    const auto& back = target_mapper.relationships()[std::size_t(rel.back_index)];
    if (added && rel.kind == RelationshipKind::one_to_many) {
      // A child appended to a collection belongs to its new parent, wherever it was before.
      move_child(owner, index, owner_object, target_state);
    } else if (target_state.session != this ||
               target_state.relationship_loaded(std::size_t(rel.back_index))) {
      // Mirror only into a side that is in memory; an unloaded one will load the truth.
      back.mirror(target_state.object, owner_object, added);
      if (back.kind == RelationshipKind::many_to_one)
        target_state.relationship_bits()->assigned |= 1ull << rel.back_index;
    }
    // A child given a parent (child->parent = p) is saved with it, as the parent's collection
    // would cascade it (SQLAlchemy's save-update cascade along the backref); and the child of
    // a parent being deleted is kept when it is given a parent that stays.
    if (added && rel.kind == RelationshipKind::many_to_one &&
        (back.cascade & cascade_save_update) && target_state.session == this &&
        target_state.status != ObjectState::deleted && !closed_) {
      if (owner.session != this)
        add(*owner.mapper, owner_object);
      else if (owner.status == ObjectState::deleted)
        undelete(owner);
    }
  }
  if (rel.kind == RelationshipKind::many_to_many)
    changes_.association_changes().push_back({owner.mapper, index, owner_object, target, added});
  if (added && (rel.cascade & cascade_save_update) && !closed_) {
    if (target_state.session != this)
      add(target_mapper, target);
    else if (target_state.status == ObjectState::deleted &&
             rel.kind != RelationshipKind::many_to_one)
      undelete(target_state); // re-parented after its old parent's delete cascade reached it
  }
  if (!added && rel.kind == RelationshipKind::one_to_many) {
    // A pending child dropped from a delete-orphan collection is never inserted: it leaves the
    // session at once, as in SQLAlchemy, unless another parent holds it.
    if ((rel.cascade & cascade_delete_orphan) && target_state.session == this &&
        target_state.status == ObjectState::pending &&
        !has_parent(*owner.mapper, index, target_state)) {
      expunge_pending_orphan(*this, target_mapper, target);
      return;
    }
    changes_.orphans().push_back(
        {owner.mapper, index, target, owner.mapper->column_value(owner.object, rel.local_column)});
  }
  // Taken out of a many-to-many collection with delete-orphan: deleted at the flush unless
  // another parent holds it then.
  if (!added && rel.kind == RelationshipKind::many_to_many && (rel.cascade & cascade_delete_orphan))
    changes_.orphans().push_back({owner.mapper, index, target, Value()});
}

void SessionCore::move_child(InstanceState& parent, std::size_t index,
                             const std::shared_ptr<void>& parent_object, InstanceState& child) {
  const RelationshipInfo& rel = parent.mapper->relationships()[index];
  const auto back_index = std::size_t(rel.back_index);
  const auto& back = rel.target_mapper().relationships()[back_index];
  // The old parent's collection, when in memory, gives the child up (SQLAlchemy's backref
  // "move"); one not loaded will load without it once the new foreign key is flushed.
  auto old = previous_parent(*parent.mapper, index, child);
  if (old && old != parent_object) {
    InstanceState& old_state = state_for(*parent.mapper, old);
    if (old_state.relationship_loaded(index)) {
      auto child_object = child.self.lock();
      if (child_object) rel.mirror(old_state.object, child_object, false);
    }
  }
  // The back reference now names the new parent, loaded or not: it is the truth from here on.
  back.mirror(child.object, parent_object, true);
  if (RelationshipBits* bits = child.relationship_bits()) {
    bits->loaded |= 1ull << back_index;
    bits->assigned |= 1ull << back_index;
  }
}

std::shared_ptr<void> SessionCore::previous_parent(const MapperBase& parent_mapper,
                                                   std::size_t index, InstanceState& child) {
  const RelationshipInfo& rel = parent_mapper.relationships()[index];
  const auto back_index = std::size_t(rel.back_index);
  const MapperBase& child_mapper = rel.target_mapper();
  if (child.session != this || child.relationship_loaded(back_index)) {
    auto parents = child_mapper.relationships()[back_index].items(child.object);
    return parents.empty() ? nullptr : parents.front();
  }
  // Not loaded: the parent its foreign key names, if the session holds it (no SQL, as
  // SQLAlchemy's passive "no fetch" history).
  const auto& pk = parent_mapper.primary_key();
  if (pk.size() != 1 || pk.front() != rel.local_column) return nullptr;
  Value fk = child_mapper.column_value(child.object, rel.remote_column);
  if (fk.is_null()) return nullptr;
  IdentityMap* map = maps_.find(&parent_mapper);
  if (map == nullptr) return nullptr;
  std::string key;
  encode_identity(fk, key);
  IdentityEntry* hit = map->find(key);
  return hit == nullptr ? nullptr : hit->object;
}

bool SessionCore::has_parent(const MapperBase& parent_mapper, std::size_t index,
                             const InstanceState& child) {
  const RelationshipInfo& rel = parent_mapper.relationships()[index];
  auto alive = [&](const InstanceState& parent) {
    return parent.session == this && parent.status != ObjectState::deleted;
  };
  if (rel.back_index >= 0 && child.relationship_loaded(std::size_t(rel.back_index))) {
    auto parents =
        rel.target_mapper().relationships()[std::size_t(rel.back_index)].items(child.object);
    if (!parents.empty() && alive(state_for(parent_mapper, parents.front()))) return true;
  }
  auto holds = [&](const Entry& entry) {
    if (entry.state->mapper != &parent_mapper || !alive(*entry.state) ||
        !entry.state->relationship_loaded(index))
      return false;
    for (const auto& item : rel.items(entry.state->object))
      if (item.get() == child.object) return true;
    return false;
  };
  for (const auto& entry : changes_.pending())
    if (holds(entry)) return true;
  if (IdentityMap* map = maps_.find(&parent_mapper))
    for (const auto& entry : *map)
      if (holds(entry)) return true;
  return false;
}

void SessionCore::undelete(InstanceState& state) {
  changes_.forget_deleted(state);
  state.status = ObjectState::persistent;
  flag_modified(state);
}

} // namespace retort::detail

namespace retort::detail {

void SessionCore::enter() {
  const std::uintptr_t self = this_thread_token();
  if (user_.load(std::memory_order_relaxed) == self) {
    ++depth_;
    return;
  }
  std::uintptr_t expected = 0;
  if (!user_.compare_exchange_strong(expected, self, std::memory_order_acquire,
                                     std::memory_order_relaxed))
    in_use(expected);
  depth_ = 1;
}

void SessionCore::leave() noexcept {
  if (--depth_ == 0) user_.store(0, std::memory_order_release);
}

void SessionCore::begin_async_use() {
  std::uintptr_t expected = 0;
  if (!user_.compare_exchange_strong(expected, async_user, std::memory_order_acquire,
                                     std::memory_order_relaxed))
    in_use(expected);
}

void SessionCore::end_async_use() noexcept { user_.store(0, std::memory_order_release); }

void SessionCore::in_use(std::uintptr_t user) {
  if (user == async_user)
    throw InvalidStateError("the session is in use: an awaited operation of it (flush, commit, "
                            "a query) is under way; a session serves one coroutine at a time, "
                            "await one operation before starting the next");
  throw InvalidStateError("the session is in use by another thread: a session serves one thread "
                          "at a time (give each thread its own Session)");
}

void load_relationship(const RelationshipHook& hook) {
  if (hook.owner == nullptr) return;
  InstanceState& owner = *hook.owner;
  const RelationshipInfo& rel = owner.mapper->relationships()[hook.index];
  if (owner.session == nullptr)
    throw InvalidStateError("lazy load of '" + owner.mapper->table_name() + "." + rel.name +
                            "' on a " + to_string(owner.status) +
                            " object: it belongs to no session; load it eagerly or attach it");
  if (rel.strategy == LoadStrategy::raise ||
      (owner.relationship_bits()->raise & (1ull << hook.index)))
    throw InvalidStateError("'" + owner.mapper->table_name() + "." + rel.name +
                            "' is not loaded and its loader strategy is raise; use "
                            "selectinload() or joinedload() in the query");
  SessionAccess(*owner.session).load_relationship(owner, hook.index);
}

namespace {

// A change of the collection of an owner outside any session reaches the other side at once, as
// SQLAlchemy's backref does: the child's reference names the owner, or no longer does.
// Otherwise adding the child to a session would cascade the owner back in along a stale
// reference and put the child back into the collection. Only for a child outside every session
// too: a session holding the child learns of the change when the owner joins it.
void mirror_detached_change(const InstanceState& owner, const RelationshipInfo& rel,
                            const std::shared_ptr<void>& target, bool added) {
  if (rel.back_index < 0 || rel.kind != RelationshipKind::one_to_many) return;
  auto owner_object = owner.self.lock();
  if (!owner_object) return;
  const MapperBase& target_mapper = rel.target_mapper();
  InstanceState* child = target_mapper.state_of(target);
  if (child != nullptr && child->session != nullptr) return;
  const auto back_index = std::size_t(rel.back_index);
  const RelationshipInfo& back = target_mapper.relationships()[back_index];
  const auto held = back.items(target.get());
  const bool names_owner = !held.empty() && held.front() == owner_object;
  if (names_owner == added) return;
  back.mirror(target.get(), owner_object, added);
  // The session the child joins writes its foreign key from the reference.
  if (child != nullptr)
    if (RelationshipBits* bits = child->relationship_bits()) bits->assigned |= 1ull << back_index;
}

} // namespace

void relationship_changed(const RelationshipHook& hook, const std::shared_ptr<void>& target,
                          bool added) {
  if (hook.owner == nullptr || !target) return;
  InstanceState& owner = *hook.owner;
  if (owner.session != nullptr) {
    SessionAccess(*owner.session).relationship_changed(owner, hook.index, target, added);
    return;
  }
  if (!added) {
    // Taken out of a collection of an owner outside any session: remembered for the session
    // the owner joins next (a reference's change needs none: its foreign key is in the owner).
    const RelationshipInfo& rel = owner.mapper->relationships()[hook.index];
    if (rel.kind != RelationshipKind::many_to_one && (rel.cascade & cascade_save_update))
      remember_detached_removal(owner, hook.index, target);
    mirror_detached_change(owner, rel, target, false);
    return;
  }
  // Put back while still outside any session: the removal is undone.
  const RelationshipInfo& rel = owner.mapper->relationships()[hook.index];
  if (owner.detached_removals) cancel_detached_removal(owner, hook.index, target.get());
  mirror_detached_change(owner, rel, target, true);
  // An owner outside any session given a target inside one (child->parent = p): the target's
  // session mirrors it and cascades the owner in along back_populates, as SQLAlchemy does.
  const MapperBase& target_mapper = owner.mapper->relationships()[hook.index].target_mapper();
  const InstanceState* target_state = target_mapper.state_of(target);
  if (target_state == nullptr || target_state->session == nullptr) return;
  SessionAccess(*target_state->session).relationship_changed(owner, hook.index, target, added);
}

bool relationship_loaded(const RelationshipHook& hook) noexcept {
  if (hook.owner == nullptr) return true;
  return hook.owner->relationship_loaded(hook.index);
}

} // namespace retort::detail

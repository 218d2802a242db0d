// Session: SQLAlchemy's unit of work over plain structs. add() objects, query() them, change
// them, commit(). See README "Sessions" for where the semantics differ from SQLAlchemy (plain
// members cannot be intercepted: changes are found by comparing with a snapshot at flush).
#pragma once

#include <retort/core/export.hpp>
#include <retort/engine/engine.hpp>
#include <retort/orm/detail/session_core.hpp>
#include <retort/orm/expression.hpp>
#include <retort/orm/mapper_impl.hpp>
#include <retort/orm/query.hpp>

#include <memory>
#include <vector>

namespace retort {

namespace detail {

/// A primary-key argument of get() as the Value it is compared and bound as.
template <typename K> Value key_value(const K& key) {
  if constexpr (std::is_convertible_v<const K&, std::string_view>)
    return Value(std::string(std::string_view(key)));
  else if constexpr (Mappable<K>)
    return to_value(key);
  else
    return Value(key);
}

} // namespace detail

class Session;

/// A SAVEPOINT of a session's transaction (SQLAlchemy's session.begin_nested()). commit()
/// flushes and releases it; rollback() returns the database and the session's objects to where
/// they stood when it began (objects inserted since become transient, deleted ones persistent,
/// pending ones transient, changed ones are restored and expired), and the enclosing
/// transaction goes on. Dies rolled back unless committed, as a Transaction does.
class RETORT_API SessionSavepoint {
public:
  SessionSavepoint(SessionSavepoint&& other) noexcept;
  SessionSavepoint& operator=(SessionSavepoint&&) = delete;
  SessionSavepoint(const SessionSavepoint&) = delete;
  SessionSavepoint& operator=(const SessionSavepoint&) = delete;
  /// Rolls back if still active.
  ~SessionSavepoint();

  /// Flushes, then releases the savepoint: what happened in it joins the enclosing transaction.
  /// InvalidStateError when it is no longer active.
  void commit();
  /// Rolls back to the savepoint (a no-op when it is no longer active).
  void rollback();
  /// True until commit() or rollback(), or until the session's transaction ends.
  bool is_active() const noexcept;

private:
  friend class Session;
  SessionSavepoint(detail::SessionCore& core, std::uint32_t id);
  // The session, unless it is gone.
  detail::SessionCore* core() const noexcept;

  detail::SessionCore* core_;
  std::weak_ptr<void> alive_;
  std::uint32_t id_;
};

/// A unit of work bound to an engine. Belongs to one thread; objects it hands out outlive it
/// (they become detached when it closes).
class RETORT_API Session {
public:
  /// A session on `engine`; no connection is taken until the first statement.
  explicit Session(Engine engine, SessionOptions options = {});
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  /// Closes the session (rolling back anything uncommitted).
  ~Session();

  /// Adds a new object (moved in) and returns the session's pointer to it.
  template <Mapped T> std::shared_ptr<T> add(T object) {
    InstanceState* state = nullptr;
    auto tracked = typed_mapper_of<T>().make_tracked(state, std::move(object));
    core()->add(mapper_of<T>(), tracked);
    return tracked;
  }
  /// Adds an object the application holds (pending, or re-attached when detached).
  template <Mapped T> const std::shared_ptr<T>& add(const std::shared_ptr<T>& object) {
    core()->add(mapper_of<T>(), object);
    return object;
  }
  /// Adds several objects.
  template <Mapped T> void add_all(const std::vector<std::shared_ptr<T>>& objects) {
    for (const auto& o : objects)
      core()->add(mapper_of<T>(), o);
  }
  /// Marks an object for deletion at the next flush (SQLAlchemy's session.delete()).
  template <Mapped T> void remove(const std::shared_ptr<T>& object) {
    core()->remove(mapper_of<T>(), object);
  }
  /// The object with this primary key: from the identity map without SQL when loaded, else
  /// SELECTed; nullptr when there is no such row. A composite key takes one value per column.
  template <Mapped T, typename... K> std::shared_ptr<T> get(const K&... key) {
    const Value values[] = {detail::key_value(key)...};
    return std::static_pointer_cast<T>(core()->get(mapper_of<T>(), values));
  }
  /// A query for one or more entities.
  template <Mapped... T> Query<T...> query() { return Query<T...>(*core()); }
  /// A query for an aliased entity.
  template <Mapped T> Query<T> query(const Aliased<T>& alias) {
    return Query<T>(*core(), alias.from());
  }
  /// Copies `object`'s values onto the session's object with the same key (or a new pending
  /// one) and returns that.
  template <Mapped T> std::shared_ptr<T> merge(const T& object) {
    return std::static_pointer_cast<T>(core()->merge(mapper_of<T>(), &object));
  }
  /// Flags a persistent object as changed, for sessions with autodetect_changes off (where a
  /// flush writes only flagged objects); harmless otherwise. SQLAlchemy's flag_modified().
  template <Mapped T> void modified(const std::shared_ptr<T>& object) {
    core()->modified(mapper_of<T>(), object);
  }
  /// Reloads an object now, discarding unflushed changes.
  template <Mapped T> void refresh(const std::shared_ptr<T>& object) {
    core()->refresh(mapper_of<T>(), object);
  }
  /// Marks an object stale: the next load overwrites it and get() goes to the database.
  template <Mapped T> void expire(const std::shared_ptr<T>& object) {
    core()->expire(mapper_of<T>(), object);
  }
  /// Removes an object from the session.
  template <Mapped T> void expunge(const std::shared_ptr<T>& object) {
    core()->expunge(mapper_of<T>(), object);
  }
  /// The object's lifecycle state as this session sees it.
  template <Mapped T> ObjectState state_of(const std::shared_ptr<T>& object) const {
    return core_->state_of(mapper_of<T>(), object);
  }

  /// Writes pending changes now (inside the session's transaction).
  void flush();
  /// Flushes, then begins a SAVEPOINT inside the session's transaction (beginning that first
  /// when needed); see SessionSavepoint. Savepoints nest.
  [[nodiscard]] SessionSavepoint begin_nested();
  /// Flushes and commits; with expire_on_commit, objects are expired.
  void commit();
  /// Rolls back: objects added or inserted in this transaction become transient, deleted ones
  /// persistent again, and every object is expired.
  void rollback();
  /// Ends the session: rolls back, detaches every object. Further use throws.
  void close();
  /// Expires every object.
  void expire_all();
  /// Runs a Core statement in the session's transaction (after autoflush).
  template <typename Statement> Result execute(const Statement& statement) {
    auto core = this->core();
    core->autoflush();
    return core->connection().execute(statement);
  }
  /// The session's connection, with its transaction begun.
  Connection& connection();
  /// The engine.
  const Engine& engine() const;
  /// Number of objects in the identity map.
  std::size_t identity_map_size() const noexcept;
  /// Statements the session has sent so far (tests and benchmarks count SQL with it).
  std::uint64_t statements_executed() const noexcept;

private:
  // The core, entered for one call (the owner check, SessionCore::enter()).
  detail::SessionCore::Entered core();

  std::unique_ptr<detail::SessionCore> core_;
};

/// Makes sessions with fixed settings, like SQLAlchemy's sessionmaker(bind=engine).
class RETORT_API SessionFactory {
public:
  /// Sessions on `engine` with `options`.
  explicit SessionFactory(Engine engine, SessionOptions options = {});
  /// A new session.
  Session operator()() const;

private:
  Engine engine_;
  SessionOptions options_;
};

/// SQLAlchemy's sessionmaker(bind=engine).
inline SessionFactory sessionmaker(Engine engine, SessionOptions options = {}) {
  return SessionFactory(std::move(engine), options);
}

} // namespace retort

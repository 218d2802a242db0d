// The non-template heart of Session: identity map, object states, transaction, flush and
// loading. Session<...> templates only convert types and call in here, so the unit of work is
// compiled once, in libretort, not in every file that uses a session.
#pragma once

#include <retort/core/export.hpp>
#include <retort/engine/connection.hpp>
#include <retort/engine/engine.hpp>
#include <retort/engine/transaction.hpp>
#include <retort/orm/detail/change_tracker.hpp>
#include <retort/orm/detail/identity_map.hpp>
#include <retort/orm/detail/identity_maps.hpp>
#include <retort/orm/instance_state.hpp>
#include <retort/orm/mapper.hpp>
#include <retort/orm/plan.hpp>
#include <retort/sql/from.hpp>
#include <retort/sql/select.hpp>

#include <boost/container/small_vector.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace retort {

/// Session settings (SQLAlchemy's sessionmaker arguments).
struct SessionOptions {
  /// Flush pending changes before each query and each get() that misses the identity map.
  bool autoflush = true;
  /// Expire every object at commit, so the next load refreshes it from the database.
  bool expire_on_commit = true;
  /// Find changed objects by comparing every persistent object with its snapshot at each
  /// flush. Turned off, a flush writes new and deleted objects, relationship changes, and only
  /// those persistent objects passed to Session::modified(): its cost follows the changes, not
  /// the objects held, which bulk work over many held objects needs (EF Core's
  /// AutoDetectChangesEnabled; SQLAlchemy instruments attributes, plain members cannot be).
  bool autodetect_changes = true;
};

namespace detail {

/// One entity column group in a query's SELECT list.
struct EntitySpec {
  const MapperBase* mapper = nullptr;
  /// The table or its alias the columns come from.
  FromItem from;
};

/// A load of the objects an eager load brought in: relationship `relationship` of their class,
/// and what to load of its objects in turn (a chained loader option).
struct NestedLoad {
  std::size_t relationship = 0;
  LoadStrategy strategy = LoadStrategy::selectin;
  std::vector<NestedLoad> nested;
};

/// An eager load requested for entity `entity`'s relationship `relationship`.
struct EagerSpec {
  std::size_t entity = 0;
  std::size_t relationship = 0;
  LoadStrategy strategy = LoadStrategy::selectin;
  /// Loads of the related objects this one brings in (chained options).
  std::vector<NestedLoad> nested;
};

/// One step of a loader option's path: a relationship of a class (by mapper) and strategy.
struct LoaderStep {
  const MapperBase* mapper = nullptr;
  std::size_t relationship = 0;
  LoadStrategy strategy = LoadStrategy::selectin;
};

/// A loader option given on a query: relationship of a class (by mapper) and strategy, then
/// the steps chained after it, each on the class the step before leads to.
struct LoaderOption {
  const MapperBase* mapper = nullptr;
  std::size_t relationship = 0;
  LoadStrategy strategy = LoadStrategy::selectin;
  /// Further steps (selectinload(&A::b).selectinload(&B::c)).
  std::vector<LoaderStep> then;
};

/// Rows of entity objects produced by a query (nullptr for an outer join's missing side),
/// `width` objects per row, stored flat: one allocation for a whole result instead of a
/// vector per row.
class EntityRows {
public:
  /// One row: the objects of each entity, in query order.
  using RowView = std::span<const std::shared_ptr<void>>;

  /// Rows of `width` entities each.
  explicit EntityRows(std::size_t width = 1) : width_(width == 0 ? 1 : width) {}
  /// Number of rows.
  std::size_t size() const noexcept { return objects_.size() / width_; }
  /// True when there is no row.
  bool empty() const noexcept { return objects_.empty(); }
  /// Row `i`.
  RowView operator[](std::size_t i) const noexcept {
    return {objects_.data() + i * width_, width_};
  }
  /// Reserves room for `rows` rows.
  void reserve(std::size_t rows) { objects_.reserve(rows * width_); }
  /// The objects, row after row (to append a row, push `width` objects).
  std::vector<std::shared_ptr<void>>& objects() noexcept { return objects_; }
  /// Removes every row.
  void clear() noexcept { objects_.clear(); }

  /// Iterates rows as RowViews.
  class iterator {
  public:
    /// Row `i` of `rows`.
    iterator(const EntityRows* rows, std::size_t i) : rows_(rows), i_(i) {}
    /// The row.
    RowView operator*() const noexcept { return (*rows_)[i_]; }
    /// The next row.
    iterator& operator++() noexcept {
      ++i_;
      return *this;
    }
    /// Same position.
    bool operator==(const iterator& other) const noexcept { return i_ == other.i_; }

  private:
    const EntityRows* rows_;
    std::size_t i_;
  };
  /// First row.
  iterator begin() const noexcept { return {this, 0}; }
  /// Past the last row.
  iterator end() const noexcept { return {this, size()}; }

private:
  std::size_t width_;
  std::vector<std::shared_ptr<void>> objects_;
};

/// A flush decided and ready to run: its plan, then end_flush() with the outcome.
class RETORT_API FlushJob {
public:
  virtual ~FlushJob();
  /// The statements to run.
  virtual Plan& plan() = 0;
  /// COMMIT follows the plan: its last statement may be marked final, to go out with it.
  virtual void commit_follows() noexcept = 0;
};

/// A load decided and ready to run: its plan, then the objects.
class RETORT_API LoadJob {
public:
  virtual ~LoadJob();
  /// The statements to run.
  virtual Plan& plan() = 0;
  /// The rows of objects, once the plan has run.
  virtual EntityRows take_rows() = 0;
};

/// The session's identity map, states, unit of work and loaders: what Session, AsyncSession
/// and Query call. The unit of work and the loaders reach its internals through SessionAccess
/// (framework/src/orm/session_access.hpp); its change tracking is a ChangeTracker.
class RETORT_API SessionCore {
public:
  /// A session on `engine` with `options`; it checks a connection out at first use.
  SessionCore(Engine engine, SessionOptions options);
  /// Closes the session (see close()).
  ~SessionCore();
  SessionCore(const SessionCore&) = delete;
  SessionCore& operator=(const SessionCore&) = delete;

  /// The engine.
  const Engine& engine() const noexcept { return engine_; }
  /// The options.
  const SessionOptions& options() const noexcept { return options_; }

  /// One call inside the session for its lifetime. The owner check (DESIGN.md): a session
  /// serves one thread at a time. A call that enters the session while another thread is
  /// inside it, or while an awaited operation is under way, throws InvalidStateError before it
  /// touches anything, so the connection, the pool and the objects stay sound. Between calls a
  /// session may move to another thread. Calls nest on one thread (a lazy load inside a flush).
  class [[nodiscard]] Entered {
  public:
    /// Enters `core`.
    explicit Entered(SessionCore& core) : core_(core) { core_.enter(); }
    ~Entered() { core_.leave(); }
    Entered(const Entered&) = delete;
    Entered& operator=(const Entered&) = delete;
    /// The session, for the call.
    SessionCore* operator->() const noexcept { return &core_; }
    /// The session, for the call.
    SessionCore& operator*() const noexcept { return core_; }

  private:
    SessionCore& core_;
  };

  /// One awaited operation (AsyncSession) for its lifetime (the coroutine's frame): until it
  /// ends no other call may enter, from this thread or any other (another coroutine sharing
  /// the session is refused too). It may end on another thread than it began.
  class [[nodiscard]] AsyncUse {
  public:
    /// Begins an awaited operation on `core`.
    explicit AsyncUse(SessionCore& core) : core_(core) { core_.begin_async_use(); }
    ~AsyncUse() { core_.end_async_use(); }
    AsyncUse(const AsyncUse&) = delete;
    AsyncUse& operator=(const AsyncUse&) = delete;

  private:
    SessionCore& core_;
  };

  /// Adds `object` (any shared_ptr to a mapped object) as pending, or re-attaches it.
  void add(const MapperBase& mapper, const std::shared_ptr<void>& object);
  /// Marks `object` for deletion at the next flush.
  void remove(const MapperBase& mapper, const std::shared_ptr<void>& object);
  /// The object with primary key `key`, from the identity map or the database.
  std::shared_ptr<void> get(const MapperBase& mapper, std::span<const Value> key);
  /// What get() answers from the identity map alone: `found` when no SQL is needed, with the
  /// object or nullptr (deleted). Not found when the object is absent or expired.
  struct LoadedLookup {
    bool found = false;
    std::shared_ptr<void> object;
  };
  /// The identity-map half of get(), shared by the blocking and the async session; throws
  /// ArgumentError when `key` does not match the primary key's column count.
  LoadedLookup find_loaded(const MapperBase& mapper, std::span<const Value> key);
  /// After a SELECT by primary key `key` found no row: an object of the identity map with that
  /// key (expired, or get() would not have asked) is deleted, as if this transaction had
  /// flushed its deletion; a rollback brings it back.
  void forget_vanished(const MapperBase& mapper, std::span<const Value> key);
  /// Copies `object`'s state onto the persistent object with the same key (loading it if
  /// needed) or onto a new pending object; returns the session's object.
  std::shared_ptr<void> merge(const MapperBase& mapper, const void* object);
  /// Removes `object` from the session; it becomes detached (or transient if never flushed).
  void expunge(const MapperBase& mapper, const std::shared_ptr<void>& object);
  /// Flags a persistent object as changed, for sessions that do not detect changes (a no-op
  /// for pending and deleted objects); InvalidStateError when it is not in this session.
  void modified(const MapperBase& mapper, const std::shared_ptr<void>& object);
  /// Expires one object: its values are replaced by the next load; get() reloads it.
  void expire(const MapperBase& mapper, const std::shared_ptr<void>& object);
  /// Expires every object.
  void expire_all();
  /// Reloads one object from the database now.
  void refresh(const MapperBase& mapper, const std::shared_ptr<void>& object);
  /// The lifecycle state of `object` as this session sees it.
  ObjectState state_of(const MapperBase& mapper, const std::shared_ptr<void>& object) const;

  /// Writes every pending change (unit of work), inside the session's transaction.
  void flush();
  /// Decides a flush without running it (nullptr when one is already under way); an executor
  /// runs the plan, then end_flush() records the outcome. flush() is these three steps.
  std::unique_ptr<FlushJob> begin_flush();
  /// Finishes a flush: states on success; on `error`, undo, roll back, and rethrow it.
  void end_flush(FlushJob& job, std::exception_ptr error);
  /// Decides a load without running it (see load()).
  std::unique_ptr<LoadJob> begin_load(const Select& select, const std::vector<EntitySpec>& entities,
                                      const std::vector<EagerSpec>& eager);
  /// True when a flush would write something.
  bool needs_flush() { return has_changes(); }
  /// Forbids lazy loading (async sessions: eager loading is the way there).
  void forbid_lazy_loading() noexcept { lazy_loading_ = false; }
  /// Makes every blocking call (a Query's all(), count(), ...) an InvalidStateError: an async
  /// session's queries are run with co_await, never on the io thread.
  void forbid_blocking() noexcept { blocking_ = false; }
  /// Runs `select` (after an autoflush) and hands its rows to `sink`, blocking; `call` names
  /// the caller in the error of a session that forbids blocking calls.
  void run_select(const Select& select, RowSink& sink, const char* call);
  /// Flushes and commits.
  void commit();
  /// The open transaction, for an executor that commits it itself (async); nullptr if none.
  Transaction* open_transaction();
  /// The rest of commit() once the transaction has committed: connection back to the pool,
  /// object states, expiry.
  void after_commit();
  /// After a COMMIT that failed: the transaction is over, and the session insists on
  /// rollback() before further use (as after a failed flush).
  void commit_failed() noexcept;
  /// Rolls the transaction back and restores object states (see Session docs).
  void rollback();

  // Savepoints (Session::begin_nested(), AsyncSession::begin_nested()): the session decides and
  // keeps the books, its caller runs the statement (blocking or awaited).
  /// What a savepoint statement does.
  enum class SavepointOp : std::uint8_t { begin, release, rollback };
  /// The statement of `op` on savepoint `id` (for begin: next_savepoint_id()).
  std::string savepoint_sql(SavepointOp op, std::uint32_t id) const;
  /// The id the next savepoint gets.
  std::uint32_t next_savepoint_id() const noexcept { return changes_.next_savepoint_id(); }
  /// After its SAVEPOINT ran (with nothing left to flush): records where the transaction's
  /// lists stood, and returns the savepoint's id.
  std::uint32_t savepoint_begun();
  /// True while savepoint `id` is open: not released, rolled back, or ended with the
  /// transaction (commit, rollback, a failed flush, close).
  bool savepoint_active(std::uint32_t id) const noexcept;
  /// After RELEASE SAVEPOINT: `id` and the savepoints inside it are over; what they did
  /// belongs to the enclosing transaction.
  void savepoint_released(std::uint32_t id) noexcept;
  /// After ROLLBACK TO SAVEPOINT: objects inserted since become transient, deleted ones
  /// persistent again, pending ones transient, unflushed changes are undone and every object is
  /// expired; `id` and the savepoints inside it are over.
  void savepoint_rolled_back(std::uint32_t id);
  /// A token that lives as long as the session: savepoint handles check it first.
  std::weak_ptr<void> lifetime();
  /// Expunges everything and returns the connection; the session is unusable afterwards.
  void close();
  /// True after close().
  bool closed() const noexcept { return closed_; }

  /// Flushes when autoflush is on and there is something to flush.
  void autoflush();
  /// The session's connection, with a transaction begun.
  Connection& connection();
  /// True while the session holds a connection.
  bool has_connection() const noexcept { return connection_.has_value(); }
  /// The connection the session holds, without beginning a transaction; nullptr without one.
  Connection* held_connection() noexcept { return connection_ ? &*connection_ : nullptr; }
  /// True when the session holds a connection driven non-blocking (Connection::can_pipeline());
  /// an async session runs other drivers' plans on worker threads.
  bool connection_pipelines() const { return connection_ && connection_->can_pipeline(); }
  /// Gives the session a connection its caller checked out (an async session checks out
  /// without blocking, then hands it over); connection() then uses it.
  void adopt_connection(Connection connection);
  /// Runs a plan on the session's connection, counting statements.
  void run(Plan& plan);

  /// Runs `select` (whose columns start with each entity's columns, in order) and turns rows
  /// into objects through the identity map, then runs the eager loads.
  EntityRows load(const Select& select, const std::vector<EntitySpec>& entities,
                  const std::vector<EagerSpec>& eager);
  /// Like load(), but hands over rows in chunks of `chunk` objects (yield_per), each with its
  /// `eager` loads done; a joined collection, which a chunk could split, is an ArgumentError.
  void load_chunked(const Select& select, const std::vector<EntitySpec>& entities,
                    const std::vector<EagerSpec>& eager, std::size_t chunk,
                    const std::function<void(EntityRows&)>& consume);
  /// The eager loads that apply to `entities` given per-query options and mapped defaults;
  /// `limited`: the query has LIMIT or OFFSET, which joined collections would miscount.
  std::vector<EagerSpec> eager_loads(const std::vector<EntitySpec>& entities,
                                     const std::vector<LoaderOption>& options, bool limited) const;

  /// Number of objects in the identity map (for tests).
  std::size_t identity_map_size() const noexcept;
  /// Statements this session has sent (for tests and benchmarks).
  std::uint64_t statements_executed() const noexcept { return statements_; }

private:
  // The unit of work's and the loaders' view (framework/src/orm/session_access.hpp).
  friend class SessionAccess;

  using Entry = IdentityEntry;
  using EntryList = ChangeTracker::EntryList;
  // Receives a changed persistent object and its changed-column mask; false stops the walk.
  using ChangedVisitor = std::function<bool(const MapperBase&, Entry&, std::uint64_t)>;

  // What user_ holds while an awaited operation is under way; thread tokens are the addresses
  // of an int, never odd.
  static constexpr std::uintptr_t async_user = 1;
  [[noreturn]] static void in_use(std::uintptr_t user);

  // See Entered and AsyncUse.
  void enter();
  void leave() noexcept;
  void begin_async_use();
  void end_async_use() noexcept;

  // The state of `object`, creating and recording one for an object made outside the ORM.
  static InstanceState& state_for(const MapperBase& mapper, const std::shared_ptr<void>& object);
  IdentityMap& identity_map(const MapperBase& mapper);
  // Throws InvalidStateError naming `call` when blocking calls are forbidden.
  void check_blocking(const char* call) const;
  // Runs a plan, then commits the session's transaction (see run_plan_and_commit()).
  std::exception_ptr run_and_commit(Plan& plan);
  // Puts a just-inserted object in the identity map as persistent (the entry is moved in).
  void make_persistent(Entry entry);
  // Finds or loads the object of a row: identity map first, then a new object; `map` is the
  // mapper's identity map (looked up once by a load, not per row).
  std::shared_ptr<void> object_from_row(const MapperBase& mapper, const DriverStatement& row,
                                        int first);
  std::shared_ptr<void> object_from_row(const MapperBase& mapper, IdentityMap& map,
                                        const DriverStatement& row, int first);
  // Loads one relationship of `owner` (lazy loading).
  void load_relationship(InstanceState& owner, std::size_t relationship);
  // Records a change of a relationship member and mirrors it on the other side.
  void relationship_changed(InstanceState& owner, std::size_t relationship,
                            const std::shared_ptr<void>& target, bool added);
  // True when `child` still has a parent through `parent_mapper`'s one-to-many relationship
  // `relationship`: its back reference names one that is not being deleted, or a loaded
  // collection of a pending or persistent parent holds it (so it is no orphan).
  bool has_parent(const MapperBase& parent_mapper, std::size_t relationship,
                  const InstanceState& child);
  // `child`, pending here, left the collection of an owner no session has seen (which one is
  // unknown): the flush takes it out of the session unless a parent holds it then along every
  // delete-orphan relationship to its class (SQLAlchemy's "orphaned outside of session").
  void orphaned_outside(const MapperBase& child_mapper, const std::shared_ptr<void>& child);
  // Clears that mark of `child` (SQLAlchemy's _save_or_update_state() does): add() was given it
  // again, or a collection no session watches took it in.
  void clear_orphaned_outside(const void* child) noexcept;
  // Calls `visit` for every persistent object whose columns changed since its snapshot (many-
  // to-one references synchronised first), and lets go of clean ones that nothing can reach
  // any more: not the application (only the identity map holds them) and no many-to-one
  // reference (their class is the target of none). SQLAlchemy's identity map is
  // weak-referencing for the same reason: an unreachable object cannot change, so keeping it
  // would only make every later flush scan it again. Without change detection
  // (SessionOptions::autodetect_changes), only flagged objects are compared, and unreachable
  // ones are let go by an occasional walk (release_unreachable()).
  void for_each_changed(const ChangedVisitor& visit);
  // True when a persistent object's columns changed since its snapshot (a walk that stops at
  // the first one).
  bool persistent_changed();
  // Flags an object of this session as changed when the session does not detect changes
  // (a no-op otherwise, and for objects that are not persistent here).
  void flag_modified(InstanceState& state);
  // Sets a member the session itself decides (a foreign key) and flags the object, so that a
  // session without change detection writes it too.
  void write_column(InstanceState& state, std::size_t column, const Value& value);
  // Sets the foreign keys of `state` from its loaded many-to-one references.
  void sync_references(InstanceState& state);

  void check_usable() const;
  // Checks that the session can flush and marks a flush under way; false when one already is.
  bool start_flush();
  // The state of `object`; InvalidStateError naming `caller` unless it belongs to this session.
  InstanceState& state_in_session(const MapperBase& mapper, const std::shared_ptr<void>& object,
                                  const char* caller);
  void attach(InstanceState& state, const std::shared_ptr<void>& object);
  void cascade_add(const MapperBase& mapper, InstanceState& state);
  void replay_detached_removals(const MapperBase& mapper, InstanceState& state);
  void detach_all();
  void end_transaction() noexcept;
  void abort_transaction() noexcept;
  void load_for_remove(InstanceState& root);
  // merge(): source object → the session's object it was merged into.
  using MergeMemo = std::unordered_map<const void*, std::shared_ptr<void>>;
  std::shared_ptr<void> merge_into(const MapperBase& mapper, const void* object, MergeMemo& memo);
  void merge_relationships(const MapperBase& mapper, const void* object, InstanceState& state,
                           MergeMemo& memo);
  void keep_foreign_keys(const RelationshipInfo& rel, std::size_t index, InstanceState& state,
                         const std::vector<std::shared_ptr<void>>& merged);
  void mark_deleted(const MapperBase& mapper, InstanceState& state,
                    const std::shared_ptr<void>& object);
  void cascade_remove(const MapperBase& mapper, InstanceState& state);
  void move_child(InstanceState& parent, std::size_t relationship,
                  const std::shared_ptr<void>& parent_object, InstanceState& child);
  std::shared_ptr<void> previous_parent(const MapperBase& parent_mapper, std::size_t relationship,
                                        InstanceState& child);
  void undelete(InstanceState& state);
  // Undoes the object states of what the transaction did since its lists stood at
  // `inserted_from` and `deleted_from` (0, 0: the whole transaction).
  void restore_objects(std::size_t inserted_from, std::size_t deleted_from);
  bool has_changes();
  void flush_and_commit();
  void visit_flagged(const ChangedVisitor& visit);
  void let_go(IdentityMap& map, std::size_t i) noexcept;
  void release_unreachable();

  Engine engine_;
  SessionOptions options_;
  IdentityMaps maps_;
  ChangeTracker changes_;
  // Without change detection no flush walks the identity maps, so nothing lets go of objects
  // only the session holds; a release walk runs when the maps reach this size, which then
  // doubles (amortised O(1) per object, as a growing vector's copies).
  std::size_t release_at_ = 1024;
  // Made by the first savepoint only (a session per request must not pay a heap block for it).
  std::shared_ptr<void> lifetime_;
  std::optional<Connection> connection_;
  std::optional<Transaction> transaction_;
  std::uint64_t statements_ = 0;
  // object_from_row()'s encoded key, reused from row to row so that no row allocates one.
  std::string row_key_;
  int no_autoflush_ = 0;
  bool lazy_loading_ = true;
  bool blocking_ = true;
  bool needs_rollback_ = false;
  bool closed_ = false;
  bool flushing_ = false;
  // The thread inside the session (this_thread_token()), async_user, or 0: see enter().
  std::atomic<std::uintptr_t> user_{0};
  // Calls of user_'s thread that are under way (nested ones included).
  unsigned depth_ = 0;
};

/// A plan of one statement without parameters or rows (a savepoint's).
class RETORT_API StatementPlan final : public Plan {
public:
  /// A plan that runs `sql`.
  explicit StatementPlan(std::string sql) : sql_(std::move(sql)) {}
  /// The statement, once.
  bool next(PlanStep& step) override;

private:
  std::string sql_;
  bool sent_ = false;
};

/// A plan that counts the statements it hands out into its session's statements_executed();
/// both the blocking and the async session run their plans through one.
class RETORT_API CountingPlan final : public Plan {
public:
  /// Counts `inner`'s statements for `session`.
  CountingPlan(SessionCore& session, Plan& inner) : session_(session), inner_(inner) {}
  /// The inner plan's next step, counted.
  bool next(PlanStep& step) override;

private:
  SessionCore& session_;
  Plan& inner_;
};

} // namespace detail
} // namespace retort

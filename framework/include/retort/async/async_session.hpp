// AsyncSession: the Session for Asio coroutines. It shares the Session's unit of work and
// loaders (one SessionCore); only the executor differs. Lazy loading is an error here: load
// relationships eagerly (selectinload / joinedload) in the query.
//
//   boost::asio::awaitable<void> work(retort::Engine engine) {
//     retort::AsyncSession session(engine);
//     session.add(User{.name = "Ann"});
//     co_await session.commit();
//     auto users = co_await session.all(session.query<User>().filter(col(&User::age) < 30));
//   }
#pragma once

#include <utility>

#include <retort/async/executor.hpp>
#include <retort/core/export.hpp>
#include <retort/orm/session.hpp>

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <tuple>
#include <vector>

namespace retort {

/// A SAVEPOINT of an AsyncSession: SessionSavepoint's semantics (the same bookkeeping), its
/// statements awaited. A destructor cannot await: one dropped while active rolls the whole
/// session back (AsyncSession::rollback()), so await commit() or rollback().
class RETORT_API AsyncSavepoint {
public:
  AsyncSavepoint(AsyncSavepoint&& other) noexcept;
  AsyncSavepoint& operator=(AsyncSavepoint&&) = delete;
  AsyncSavepoint(const AsyncSavepoint&) = delete;
  AsyncSavepoint& operator=(const AsyncSavepoint&) = delete;
  /// Rolls the session back if still active (see above).
  ~AsyncSavepoint();

  /// Flushes, then releases the savepoint; InvalidStateError when it is no longer active.
  boost::asio::awaitable<void> commit();
  /// Rolls back to the savepoint (a no-op when it is no longer active).
  boost::asio::awaitable<void> rollback();
  /// True until commit() or rollback(), or until the session's transaction ends.
  bool is_active() const noexcept;

private:
  friend class AsyncSession;
  AsyncSavepoint(detail::SessionCore& core, std::uint32_t id);
  detail::SessionCore* core() const noexcept;

  detail::SessionCore* core_;
  std::weak_ptr<void> alive_;
  std::uint32_t id_;
};

/// A session whose I/O is awaited. Belongs to one coroutine (or strand) at a time.
class RETORT_API AsyncSession {
public:
  /// A session on `engine`.
  explicit AsyncSession(Engine engine, SessionOptions options = {});
  ~AsyncSession();
  AsyncSession(AsyncSession&&) noexcept;
  AsyncSession& operator=(AsyncSession&&) noexcept;

  /// Adds a new object (no I/O until the next flush).
  template <Mapped T> std::shared_ptr<T> add(T object) {
    InstanceState* state = nullptr;
    auto tracked = typed_mapper_of<T>().make_tracked(state, std::move(object));
    detail::SessionCore::Entered(*core_)->add(mapper_of<T>(), tracked);
    return tracked;
  }
  /// Adds an object the application holds (pending, or re-attached when detached).
  template <Mapped T> const std::shared_ptr<T>& add(const std::shared_ptr<T>& object) {
    detail::SessionCore::Entered(*core_)->add(mapper_of<T>(), object);
    return object;
  }
  /// Adds several objects.
  template <Mapped T> void add_all(const std::vector<std::shared_ptr<T>>& objects) {
    detail::SessionCore::Entered entered(*core_);
    for (const auto& o : objects)
      entered->add(mapper_of<T>(), o);
  }
  /// Marks an object for deletion at the next flush.
  template <Mapped T> void remove(const std::shared_ptr<T>& object) {
    detail::SessionCore::Entered(*core_)->remove(mapper_of<T>(), object);
  }
  /// Flags a persistent object as changed (see Session::modified()).
  template <Mapped T> void modified(const std::shared_ptr<T>& object) {
    detail::SessionCore::Entered(*core_)->modified(mapper_of<T>(), object);
  }
  /// A query to run with all().
  template <Mapped... T> Query<T...> query() { return Query<T...>(*core_); }

  /// Runs `query` (after an autoflush) and returns its results.
  template <Mapped... T>
  boost::asio::awaitable<std::vector<typename Query<T...>::Row>> all(const Query<T...>& query) {
    auto eager = query.eager_loads();
    detail::SessionCore::AsyncUse use(*core_);
    auto rows = co_await load(query.statement(), query.entities(), eager);
    co_return Query<T...>::rows_of(rows);
  }
  /// Number of results of `query` (after an autoflush), as Query::count().
  template <Mapped... T> boost::asio::awaitable<std::int64_t> count(const Query<T...>& query) {
    detail::ScalarSink<std::int64_t> sink;
    Select statement = query.count_statement();
    co_await select_rows(std::move(statement), sink);
    co_return sink.take("count()");
  }
  /// Whether `query` has any result (after an autoflush), as Query::exists().
  template <Mapped... T> boost::asio::awaitable<bool> exists(const Query<T...>& query) {
    detail::ScalarSink<bool> sink;
    Select statement = query.exists_statement();
    co_await select_rows(std::move(statement), sink);
    co_return sink.take("exists()");
  }
  /// Typed columns of `query`'s rows, as Query::values(): values(query, col(&User::name)).
  template <Mapped... T, typename... V>
  boost::asio::awaitable<std::vector<std::tuple<V...>>> values(const Query<T...>& query,
                                                               const TypedExpr<V>&... exprs) {
    detail::TupleSink<V...> sink;
    Select statement = query.values_statement(exprs...);
    co_await select_rows(std::move(statement), sink);
    co_return sink.take();
  }
  /// The object with this primary key (identity map first, no SQL when loaded).
  template <Mapped T, typename... K>
  boost::asio::awaitable<std::shared_ptr<T>> get(const K&... key) {
    const auto& mapper = typed_mapper_of<T>();
    const Value values[] = {detail::key_value(key)...};
    Query<T> q(*core_);
    std::vector<detail::EagerSpec> eager;
    {
      detail::SessionCore::Entered use(*core_);
      // The same identity-map answer as Session::get(); only the SELECT is awaited.
      detail::SessionCore::LoadedLookup loaded = core_->find_loaded(mapper, values);
      if (loaded.found) co_return std::static_pointer_cast<T>(loaded.object);
      const auto& pk = mapper.primary_key();
      for (std::size_t i = 0; i < pk.size(); ++i)
        q.filter(mapper.table().c(mapper.columns()[pk[i]].name) == Expr(values[i]));
      eager = q.eager_loads();
    }
    detail::SessionCore::AsyncUse use(*core_);
    auto rows = co_await load(q.statement(), q.entities(), eager);
    auto found = Query<T>::rows_of(rows);
    if (found.empty()) core_->forget_vanished(mapper, values);
    co_return found.empty() ? nullptr : found.front();
  }

  /// Writes pending changes.
  boost::asio::awaitable<void> flush();
  /// Flushes, then begins a SAVEPOINT (see AsyncSavepoint, Session::begin_nested()).
  boost::asio::awaitable<AsyncSavepoint> begin_nested();
  /// Flushes and commits.
  boost::asio::awaitable<void> commit();
  /// Rolls back (see Session::rollback()).
  void rollback();
  /// The object's lifecycle state.
  template <Mapped T> ObjectState state_of(const std::shared_ptr<T>& object) const {
    return core_->state_of(mapper_of<T>(), object);
  }
  /// Statements the session has sent so far (tests and benchmarks count SQL with it).
  std::uint64_t statements_executed() const noexcept { return core_->statements_executed(); }

private:
  // Runs a SelectPlan of `select` into `sink` (after an autoflush), as one awaited operation.
  boost::asio::awaitable<void> select_rows(Select select, RowSink& sink);
  boost::asio::awaitable<detail::EntityRows> load(Select select,
                                                  std::vector<detail::EntitySpec> entities,
                                                  std::vector<detail::EagerSpec> eager);

  std::unique_ptr<detail::SessionCore> core_;
};

} // namespace retort

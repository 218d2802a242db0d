// Query<T...>: SQLAlchemy's session.query(User) — filter, filter_by, join, order_by, limit,
// eager-loading options — returning objects through the identity map, tuples of objects for
// several entities, or typed column values.
#pragma once

#include <retort/core/error.hpp>
#include <retort/engine/result.hpp>
#include <retort/orm/detail/session_core.hpp>
#include <retort/orm/expression.hpp>
#include <retort/orm/mapper_impl.hpp>
#include <retort/orm/plan.hpp>
#include <retort/sql/compiler.hpp>
#include <retort/sql/select.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace retort {

/// A loader option for Query::options().
using LoaderOption = detail::LoaderOption;

namespace detail {
/// The class a relationship member of C leads to.
template <Mapped C, typename M> using related_t = typename MemberKind<C, M>::target;
} // namespace detail

/// A loader option whose last step leads to class T: chain the next step on T's relationships,
/// e.g. selectinload(&Company::staff).selectinload(&User::addresses) (SQLAlchemy's chained
/// options). A member of another class does not compile.
template <Mapped T> class LoaderChain : public LoaderOption {
public:
  /// The option `option`, leading to T.
  explicit LoaderChain(LoaderOption option) : LoaderOption(std::move(option)) {}
  /// Then loads `member` of the objects loaded so far with one SELECT ... IN.
  template <typename M> auto selectinload(M T::*member) const {
    return next(member, LoadStrategy::selectin);
  }
  /// Then loads `member` with a LEFT OUTER JOIN (in the statement that loads T's objects).
  template <typename M> auto joinedload(M T::*member) const {
    return next(member, LoadStrategy::joined);
  }
  /// Then leaves `member` to load on first access.
  template <typename M> auto lazyload(M T::*member) const {
    return next(member, LoadStrategy::lazy);
  }
  /// Then makes access to the unloaded `member` an error.
  template <typename M> auto raiseload(M T::*member) const {
    return next(member, LoadStrategy::raise);
  }

private:
  template <typename M>
  LoaderChain<detail::related_t<T, M>> next(M T::*member, LoadStrategy strategy) const {
    LoaderOption option = *this;
    option.then.push_back(
        {&mapper_of<T>(), typed_mapper_of<T>().relationship_of(member), strategy});
    return LoaderChain<detail::related_t<T, M>>(std::move(option));
  }
};

namespace detail {
template <Mapped C, typename M>
LoaderChain<related_t<C, M>> loader_option(M C::*member, LoadStrategy strategy) {
  return LoaderChain<related_t<C, M>>(
      LoaderOption{&mapper_of<C>(), typed_mapper_of<C>().relationship_of(member), strategy, {}});
}
} // namespace detail

namespace detail {

/// The first column of the first row, as V (count(), exists()).
template <typename V> class ScalarSink final : public RowSink {
public:
  /// Keeps the first row's value.
  void row(const DriverStatement& row) override {
    if (!value_) value_ = retort::Row(row).get<V>(0);
  }
  /// The value; NoResultFound naming `call` when no row came.
  V take(const char* call) {
    if (!value_) throw NoResultFound(std::string(call) + ": the statement returned no row");
    return *value_;
  }

private:
  std::optional<V> value_;
};

/// Every row as a tuple of V... (values()).
template <typename... V> class TupleSink final : public RowSink {
public:
  /// Reads one row.
  void row(const DriverStatement& row) override {
    const retort::Row r(row);
    rows_.push_back([&]<std::size_t... I>(std::index_sequence<I...>) {
      return std::tuple<V...>(r.get<V>(static_cast<int>(I))...);
    }(std::index_sequence_for<V...>{}));
  }
  /// The rows read.
  std::vector<std::tuple<V...>> take() { return std::move(rows_); }

private:
  std::vector<std::tuple<V...>> rows_;
};

} // namespace detail

/// Load `member`'s relationship with one extra SELECT ... IN for all parents of the query.
template <Mapped C, typename M> auto selectinload(M C::*member) {
  return detail::loader_option(member, LoadStrategy::selectin);
}
/// Load `member`'s relationship with a LEFT OUTER JOIN in the query itself.
template <Mapped C, typename M> auto joinedload(M C::*member) {
  return detail::loader_option(member, LoadStrategy::joined);
}
/// Load `member`'s relationship on first access.
template <Mapped C, typename M> auto lazyload(M C::*member) {
  return detail::loader_option(member, LoadStrategy::lazy);
}
/// Make access to the unloaded relationship an error.
template <Mapped C, typename M> auto raiseload(M C::*member) {
  return detail::loader_option(member, LoadStrategy::raise);
}

/// A query for mapped entities T... (one entity: objects; several: tuples of objects).
template <Mapped... T> class Query {
  static_assert(sizeof...(T) >= 1, "query<T...>() needs at least one mapped class");

public:
  /// What all() returns one of.
  using Row = std::conditional_t<sizeof...(T) == 1,
                                 std::shared_ptr<std::tuple_element_t<0, std::tuple<T...>>>,
                                 std::tuple<std::shared_ptr<T>...>>;

  /// A query over the entities' tables.
  explicit Query(detail::SessionCore& session)
      : session_(&session), entities_{
                                detail::EntitySpec{&mapper_of<T>(), mapper_of<T>().table()}...} {}
  /// A query over an aliased entity.
  Query(detail::SessionCore& session, const FromItem& from) requires(sizeof...(T) == 1)
      : session_(&session), entities_{detail::EntitySpec{&mapper_of<T>(), from}...} {}

  /// Adds a WHERE criterion (several are ANDed): filter(col(&User::age) < 30).
  Query& filter(const Expr& criterion) {
    where_.push_back(criterion);
    return *this;
  }
  /// WHERE member = value, type-checked: filter_by(&User::name, "John").
  template <Mapped C, typename M, typename V>
  requires detail::comparable<TypedExpr<M>, V> Query& filter_by(M C::*member, const V& value) {
    return filter(col(member) == value);
  }
  /// ORDER BY.
  template <typename... E> Query& order_by(const E&... exprs) {
    (order_.push_back(Expr(exprs)), ...);
    return *this;
  }
  /// LIMIT.
  Query& limit(std::int64_t n) {
    limit_ = n;
    return *this;
  }
  /// OFFSET.
  Query& offset(std::int64_t n) {
    offset_ = n;
    return *this;
  }
  /// SELECT DISTINCT.
  Query& distinct() {
    distinct_ = true;
    return *this;
  }
  /// GROUP BY.
  template <typename... E> Query& group_by(const E&... exprs) {
    (group_.push_back(Expr(exprs)), ...);
    return *this;
  }
  /// HAVING.
  Query& having(const Expr& criterion) {
    having_.push_back(criterion);
    return *this;
  }
  /// Eager-loading options: options(selectinload(&User::addresses)).
  template <typename... O> Query& options(const O&... loader_options) {
    (loader_options_.push_back(static_cast<const LoaderOption&>(loader_options)), ...);
    return *this;
  }

  /// INNER JOIN along a relationship: join(&User::addresses).
  template <Mapped C, typename M> Query& join(M C::*relationship) {
    return join_relationship<C>(relationship, false);
  }
  /// LEFT OUTER JOIN along a relationship.
  template <Mapped C, typename M> Query& outerjoin(M C::*relationship) {
    return join_relationship<C>(relationship, true);
  }
  /// INNER JOIN of U's table with an explicit ON clause: join<Address>(on).
  template <Mapped U> Query& join(const Expr& on) {
    joins_.push_back({mapper_of<U>().table(), on, false});
    return *this;
  }
  /// LEFT OUTER JOIN of U's table with an explicit ON clause.
  template <Mapped U> Query& outerjoin(const Expr& on) {
    joins_.push_back({mapper_of<U>().table(), on, true});
    return *this;
  }
  /// INNER JOIN of an aliased entity.
  template <Mapped U> Query& join(const Aliased<U>& alias, const Expr& on) {
    joins_.push_back({alias.from(), on, false});
    return *this;
  }
  /// LEFT OUTER JOIN of an aliased entity.
  template <Mapped U> Query& outerjoin(const Aliased<U>& alias, const Expr& on) {
    joins_.push_back({alias.from(), on, true});
    return *this;
  }

  /// Every result.
  std::vector<Row> all() const {
    detail::SessionCore::Entered use(*session_);
    auto rows = session_->load(statement(), entities_, eager());
    return rows_of(rows);
  }
  /// The first result (LIMIT 1), or nullptr / a tuple of nullptrs.
  std::optional<Row> first_row() const {
    Query copy = *this;
    copy.limit_ = 1;
    auto rows = copy.all();
    if (rows.empty()) return std::nullopt;
    return rows.front();
  }
  /// The first result or nullptr (single-entity queries).
  Row first() const requires(sizeof...(T) == 1) {
    auto row = first_row();
    return row ? *row : nullptr;
  }
  /// Exactly one result; NoResultFound or MultipleResultsFound otherwise.
  Row one() const {
    auto row = one_or_none_row();
    if (!row) throw NoResultFound("one(): the query returned no rows");
    return *row;
  }
  /// At most one result (nullptr when none, single-entity); MultipleResultsFound for more.
  Row one_or_none() const requires(sizeof...(T) == 1) {
    auto row = one_or_none_row();
    return row ? *row : nullptr;
  }
  /// Number of results: SELECT count(*) FROM (query). Blocking: an AsyncSession's query
  /// refuses (InvalidStateError); co_await session.count(query) there.
  std::int64_t count() const {
    detail::ScalarSink<std::int64_t> sink;
    session_->run_select(count_statement(), sink, "Query::count()");
    return sink.take("count()");
  }
  /// Whether there is any result: SELECT EXISTS (query). Blocking, as count().
  bool exists() const {
    detail::ScalarSink<bool> sink;
    session_->run_select(exists_statement(), sink, "Query::exists()");
    return sink.take("exists()");
  }
  /// The SELECT count() runs.
  Select count_statement() const {
    return retort::select(retort::count()).select_from(statement().subquery("anon_1"));
  }
  /// The SELECT exists() runs.
  Select exists_statement() const {
    return retort::select(retort::exists(statement()).label("exists_1"));
  }
  /// Streams results in chunks of `n` (SQLAlchemy's yield_per): `consume` gets each chunk, its
  /// loader options applied, and may drop it, so memory stays bounded whatever the result size.
  /// joinedload() of a collection cannot be applied in chunks: ArgumentError.
  void yield_per(std::size_t n, const std::function<void(std::vector<Row>&)>& consume) const {
    detail::SessionCore::Entered use(*session_);
    session_->load_chunked(statement(), entities_, eager(), n, [&](detail::EntityRows& rows) {
      std::vector<Row> chunk;
      chunk.reserve(rows.size());
      for (auto row : rows)
        chunk.push_back(convert(row));
      consume(chunk);
    });
  }
  /// Typed columns instead of entities: values(col(&User::name), count_all()) → tuples.
  /// Blocking, as count().
  template <typename... V>
  std::vector<std::tuple<V...>> values(const TypedExpr<V>&... exprs) const {
    detail::TupleSink<V...> sink;
    session_->run_select(values_statement(exprs...), sink, "Query::values()");
    return sink.take();
  }
  /// The SELECT values(exprs...) runs.
  template <typename... V> Select values_statement(const TypedExpr<V>&... exprs) const {
    return decorate(retort::select(exprs.expr()...));
  }
  /// The entities selected (for executors that run the query themselves).
  const std::vector<detail::EntitySpec>& entities() const noexcept { return entities_; }
  /// The eager loads this query makes.
  std::vector<detail::EagerSpec> eager_loads() const { return eager(); }
  /// Moves loaded entity rows into this query's result rows (`rows` is left empty). Moving,
  /// not copying, spares two atomic reference-count updates per object.
  static std::vector<Row> rows_of(detail::EntityRows& rows) {
    // Made at full size and assigned in place: a push_back per row was a call per loaded row.
    std::vector<Row> out(rows.size());
    std::shared_ptr<void>* objects = rows.objects().data();
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = take(objects + i * sizeof...(T));
    rows.clear();
    return out;
  }
  /// The SELECT this query runs.
  Select statement() const {
    Select s;
    for (const auto& e : entities_)
      s = std::move(s).add_columns(e.from);
    return decorate(std::move(s));
  }

private:
  struct JoinSpec {
    FromItem target;
    Expr on;
    bool outer;
  };

  template <Mapped C, typename M> Query& join_relationship(M C::*member, bool outer) {
    const MapperBase& mapper = mapper_of<C>();
    const RelationshipInfo& rel =
        mapper.relationships()[typed_mapper_of<C>().relationship_of(member)];
    const MapperBase& target = rel.target_mapper();
    const FromItem& source = mapper.table();
    const std::string& local = mapper.columns()[rel.local_column].name;
    const std::string& remote = target.columns()[rel.remote_column].name;
    if (rel.kind == RelationshipKind::many_to_many) {
      const FromItem& link = rel.secondary_table;
      joins_.push_back({link, link.c(rel.secondary_local) == source.c(local), outer});
      joins_.push_back(
          {target.table(), target.table().c(remote) == link.c(rel.secondary_remote), outer});
    } else {
      joins_.push_back({target.table(), target.table().c(remote) == source.c(local), outer});
    }
    return *this;
  }

  Select decorate(Select s) const {
    for (const auto& j : joins_)
      s = j.outer ? std::move(s).outerjoin(j.target, j.on) : std::move(s).join(j.target, j.on);
    for (const auto& w : where_)
      s = std::move(s).where(w);
    if (!group_.empty()) s = std::move(s).group_by_list(group_);
    for (const auto& h : having_)
      s = std::move(s).having(h);
    if (!order_.empty()) s = std::move(s).order_by_list(order_);
    if (limit_) s = std::move(s).limit(*limit_);
    if (offset_) s = std::move(s).offset(*offset_);
    if (distinct_) s = std::move(s).distinct();
    return s;
  }

  std::vector<detail::EagerSpec> eager() const {
    detail::SessionCore::Entered use(*session_);
    return session_->eager_loads(entities_, loader_options_, limit_ || offset_);
  }

  std::optional<Row> one_or_none_row() const {
    Query copy = *this;
    copy.limit_ = 2;
    auto rows = copy.all();
    if (rows.size() > 1) throw MultipleResultsFound("the query returned more than one row");
    if (rows.empty()) return std::nullopt;
    return rows.front();
  }

  // A result row from the objects at `row`: moved out of a mutable row, copied from a const
  // one (std::move of a const shared_ptr selects static_pointer_cast's copying overload).
  template <typename Object> static Row make_row(Object* row) {
    if constexpr (sizeof...(T) == 1) {
      using U = std::tuple_element_t<0, std::tuple<T...>>;
      return std::static_pointer_cast<U>(std::move(row[0]));
    } else {
      return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return std::tuple<std::shared_ptr<T>...>(std::static_pointer_cast<T>(std::move(row[I]))...);
      }
      (std::index_sequence_for<T...>{});
    }
  }
  static Row take(std::shared_ptr<void>* row) { return make_row(row); }
  static Row convert(detail::EntityRows::RowView row) { return make_row(row.data()); }

  detail::SessionCore* session_;
  std::vector<detail::EntitySpec> entities_;
  std::vector<Expr> where_;
  std::vector<Expr> order_;
  std::vector<Expr> group_;
  std::vector<Expr> having_;
  std::vector<JoinSpec> joins_;
  std::vector<LoaderOption> loader_options_;
  std::optional<std::int64_t> limit_;
  std::optional<std::int64_t> offset_;
  bool distinct_ = false;
};

} // namespace retort

// Loading: rows to objects through the identity map, and relationship loaders (lazy, selectin,
// joined). Every load is a Plan run by the session's executor; nothing here does I/O itself.
#include <retort/core/error.hpp>
#include <retort/orm/detail/session_core.hpp>
#include <retort/sql/compiler.hpp>
#include <retort/sql/select.hpp>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace retort::detail {

namespace {

// SQLAlchemy's selectin loader uses chunks of 500 keys: short enough for every dialect's
// parameter limit, long enough that round trips stay rare.
constexpr std::size_t in_chunk = 500;

PlanStep compiled_step(SessionCore& session, const Select& select, RowSink* sink) {
  CompiledSql compiled =
      compile(select, session.engine().dialect(), &session.engine().statement_cache());
  PlanStep step;
  step.sql = std::move(compiled.sql);
  step.params = std::move(compiled.params);
  step.sink = sink;
  return step;
}

std::string key_of(const Value& value) {
  std::string key;
  encode_identity(value, key);
  return key;
}

Expr order_of(const FromItem& from, const RelationshipInfo& rel) {
  const Expr& column = from.c(rel.order_column);
  return rel.order_descending ? column.desc() : column.asc();
}

/// Loads one relationship for many parents of one mapper: one SELECT per chunk of 500 keys
/// (plus none at all for many-to-one targets already in the identity map).
class RelationshipLoader final : public RowSink {
public:
  RelationshipLoader(SessionCore& session, const MapperBase& mapper, std::size_t index,
                     std::vector<InstanceState*> parents)
      : session_(session), mapper_(mapper), index_(index), rel_(mapper.relationships()[index]),
        target_(rel_.target_mapper()), parents_(std::move(parents)) {
    prepare();
  }

  /// The next SELECT, or false when every chunk has run (then the results are assigned).
  bool next(PlanStep& step) {
    if (position_ >= keys_.size()) {
      finish();
      return false;
    }
    const std::size_t end = std::min(keys_.size(), position_ + in_chunk);
    std::vector<Expr> values(keys_.begin() + std::ptrdiff_t(position_),
                             keys_.begin() + std::ptrdiff_t(end));
    position_ = end;
    step = compiled_step(session_, select_for(std::move(values)), this);
    return true;
  }

  void row(const DriverStatement& row) override {
    auto object = session_.object_from_row(target_, row, 0);
    if (!object) return;
    Value link;
    switch (rel_.kind) {
    case RelationshipKind::many_to_one:
      link = target_.column_value(object.get(), rel_.remote_column);
      break;
    case RelationshipKind::one_to_many:
      link = target_.column_value(object.get(), rel_.remote_column);
      break;
    case RelationshipKind::many_to_many:
      link = row.get_value(static_cast<int>(target_.columns().size()));
      break;
    }
    found_[key_of(link)].push_back(std::move(object));
  }

private:
  void prepare() {
    std::unordered_set<std::string> seen;
    for (InstanceState* parent : parents_) {
      Value key = mapper_.column_value(parent->object, rel_.local_column);
      if (key.is_null()) continue;
      std::string encoded = key_of(key);
      if (rel_.kind == RelationshipKind::many_to_one && from_identity_map(encoded)) continue;
      if (seen.insert(encoded).second) keys_.push_back(Expr(std::move(key)));
    }
  }

  // A many-to-one target referenced by its primary key may already be loaded: no SQL then,
  // as SQLAlchemy's lazy loader does for simple many-to-ones.
  bool from_identity_map(const std::string& encoded) {
    if (target_.primary_key().size() != 1 || target_.primary_key().front() != rel_.remote_column)
      return false;
    auto& map = session_.identity_map(target_);
    auto* hit = map.find(encoded);
    if (hit == nullptr || hit->state->expired) return false;
    found_[encoded].push_back(hit->object);
    return true;
  }

  Select select_for(std::vector<Expr> keys) const {
    const FromItem& target = target_.table();
    Select select = retort::select(target);
    if (rel_.kind == RelationshipKind::many_to_many) {
      const FromItem& link = rel_.secondary_table;
      select = std::move(select)
                   .add_columns(link.c(rel_.secondary_local))
                   .join(link, link.c(rel_.secondary_remote) ==
                                   target.c(target_.columns()[rel_.remote_column].name))
                   .where(link.c(rel_.secondary_local).in_(std::move(keys)));
    } else {
      select = std::move(select).where(
          target.c(target_.columns()[rel_.remote_column].name).in_(std::move(keys)));
    }
    if (!rel_.order_column.empty()) select = std::move(select).order_by(order_of(target, rel_));
    return select;
  }

  void finish() {
    const int back = rel_.back_index;
    for (InstanceState* parent : parents_) {
      Value key = mapper_.column_value(parent->object, rel_.local_column);
      std::vector<std::shared_ptr<void>> items;
      if (!key.is_null())
        if (auto hit = found_.find(key_of(key)); hit != found_.end()) items = hit->second;
      // A back reference of a one-to-many is the parent itself: set it without SQL.
      if (rel_.kind == RelationshipKind::one_to_many && back >= 0)
        if (auto self = parent->self.lock())
          for (const auto& item : items) {
            InstanceState* child = target_.state_of(item);
            // A reference the application already holds (maybe reassigned) stays as it is.
            if (child == nullptr || child->relationship_loaded(std::size_t(back))) continue;
            target_.relationships()[std::size_t(back)].assign(child->object, {self});
            child->set_loaded(std::size_t(back));
          }
      rel_.assign(parent->object, std::move(items));
      parent->set_loaded(index_);
    }
  }

  SessionCore& session_;
  const MapperBase& mapper_;
  std::size_t index_;
  const RelationshipInfo& rel_;
  const MapperBase& target_;
  std::vector<InstanceState*> parents_;
  std::vector<Expr> keys_;
  std::size_t position_ = 0;
  std::unordered_map<std::string, std::vector<std::shared_ptr<void>>> found_;
};

/// The main SELECT of a query, then its selectin loads.
class LoadPlan final : public Plan, public RowSink {
public:
  LoadPlan(SessionCore& session, const Select& select, const std::vector<EntitySpec>& entities,
           const std::vector<EagerSpec>& eager, std::size_t chunk,
           const std::function<void(EntityRows&)>* consume)
      : session_(session), select_(select), entities_(entities), eager_(eager), chunk_(chunk),
        consume_(consume) {
    rows_ = EntityRows(entities_.size());
    for (const auto& spec : eager_)
      if (spec.strategy == LoadStrategy::joined) joined_.push_back(spec);
    offsets_.push_back(0);
    for (const auto& e : entities_)
      offsets_.push_back(offsets_.back() + static_cast<int>(e.mapper->columns().size()));
    add_joined_columns();
  }

  bool next(PlanStep& step) override {
    if (!main_done_) {
      main_done_ = true;
      step = compiled_step(session_, select_, this);
      return true;
    }
    while (true) {
      if (loader_ && loader_->next(step)) return true;
      loader_.reset();
      if (next_eager_ >= eager_.size()) return false;
      const EagerSpec& spec = eager_[next_eager_++];
      if (spec.strategy != LoadStrategy::selectin) continue;
      auto parents = parents_of(spec.entity);
      if (parents.empty()) continue;
      loader_.emplace(session_, *entities_[spec.entity].mapper, spec.relationship,
                      std::move(parents));
    }
  }

  void row(const DriverStatement& row) override {
    auto& objects = rows_.objects();
    const std::size_t start = objects.size();
    for (std::size_t i = 0; i < entities_.size(); ++i)
      objects.push_back(
          session_.object_from_row(*entities_[i].mapper, map_of(i), row, offsets_[i]));
    if (!joined_.empty()) {
      const EntityRows::RowView added(objects.data() + start, entities_.size());
      read_joined(row, added);
      // Joined collections repeat the parent; SQLAlchemy uniquifies these rows too.
      if (entities_.size() == 1 && (!added.front() || !seen_.insert(added.front().get()).second)) {
        objects.resize(start);
        return;
      }
    }
    if (consume_ != nullptr && rows_.size() >= chunk_) hand_over();
  }

  /// Gives the rows collected so far to the consumer, then lets go of every clean object that
  /// nobody else holds, so that memory stays bounded however long the stream (SQLAlchemy gets
  /// the same from its weak-referencing identity map).
  void hand_over() {
    if (rows_.empty()) return;
    (*consume_)(rows_);
    // The consumer is application code: it may even have closed the session and its maps.
    std::fill(maps_.begin(), maps_.end(), nullptr);
    std::vector<std::pair<const MapperBase*, std::weak_ptr<void>>> seen;
    for (auto row : rows_)
      for (std::size_t e = 0; e < row.size(); ++e)
        if (row[e]) seen.emplace_back(entities_[e].mapper, row[e]);
    rows_.clear();
    for (auto& [entity_mapper, weak] : seen) {
      auto object = weak.lock();
      // Held by the identity map and by `object` alone: the application kept no pointer.
      if (!object || object.use_count() != 2) continue;
      const MapperBase& mapper = *entity_mapper;
      InstanceState* state = mapper.state_of(object);
      if (state == nullptr || state->status != ObjectState::persistent) continue;
      if (mapper.changed_columns(*state) != 0) continue;
      session_.expunge(mapper, object);
    }
  }

  void done(std::int64_t) override {
    if (main_finished_) return;
    main_finished_ = true;
    finish_joined();
    mark_strategies();
  }

  EntityRows take_rows() { return std::move(rows_); }
  /// True when the rows are handed over in chunks (yield_per).
  bool chunked() const noexcept { return consume_ != nullptr; }

private:
  // The identity map of entity `i`, looked up once per load rather than once per row.
  IdentityMap& map_of(std::size_t i) {
    if (maps_.empty()) maps_.resize(entities_.size(), nullptr);
    if (maps_[i] == nullptr) maps_[i] = &session_.identity_map(*entities_[i].mapper);
    return *maps_[i];
  }

  void add_joined_columns() {
    for (std::size_t k = 0; k < joined_.size(); ++k) {
      const EagerSpec& spec = joined_[k];
      const MapperBase& mapper = *entities_[spec.entity].mapper;
      const RelationshipInfo& rel = mapper.relationships()[spec.relationship];
      const MapperBase& target = rel.target_mapper();
      FromItem alias = target.table().alias(target.table_name() + "_j" + std::to_string(k + 1));
      const FromItem& parent = entities_[spec.entity].from;
      Expr on;
      if (rel.kind == RelationshipKind::one_to_many)
        on = alias.c(target.columns()[rel.remote_column].name) ==
             parent.c(mapper.columns()[rel.local_column].name);
      else
        on = alias.c(target.columns()[rel.remote_column].name) ==
             parent.c(mapper.columns()[rel.local_column].name);
      select_ = std::move(select_).outerjoin(alias, on).add_columns(alias);
      if (!rel.order_column.empty()) select_ = std::move(select_).order_by(order_of(alias, rel));
      joined_offsets_.push_back(offsets_.back());
      offsets_.push_back(offsets_.back() + static_cast<int>(target.columns().size()));
      joined_found_.emplace_back();
    }
  }

  void read_joined(const DriverStatement& row, EntityRows::RowView objects) {
    for (std::size_t k = 0; k < joined_.size(); ++k) {
      const EagerSpec& spec = joined_[k];
      const auto& parent = objects[spec.entity];
      if (!parent) continue;
      const RelationshipInfo& rel =
          entities_[spec.entity].mapper->relationships()[spec.relationship];
      auto child = session_.object_from_row(rel.target_mapper(), row, joined_offsets_[k]);
      auto& items = joined_found_[k][parent.get()];
      if (child && std::find(items.begin(), items.end(), child) == items.end())
        items.push_back(std::move(child));
    }
  }

  void finish_joined() {
    for (std::size_t k = 0; k < joined_.size(); ++k) {
      const EagerSpec& spec = joined_[k];
      const MapperBase& mapper = *entities_[spec.entity].mapper;
      const RelationshipInfo& rel = mapper.relationships()[spec.relationship];
      for (const auto& objects : all_parents(spec.entity)) {
        InstanceState* state = mapper.state_of(objects);
        if (state == nullptr) continue;
        auto found = joined_found_[k].find(objects.get());
        std::vector<std::shared_ptr<void>> items;
        if (found != joined_found_[k].end()) items = found->second;
        if (rel.kind == RelationshipKind::one_to_many && rel.back_index >= 0)
          for (const auto& item : items)
            if (InstanceState* child = rel.target_mapper().state_of(item);
                child != nullptr && !child->relationship_loaded(std::size_t(rel.back_index))) {
              rel.target_mapper().relationships()[std::size_t(rel.back_index)].assign(child->object,
                                                                                      {objects});
              child->set_loaded(std::size_t(rel.back_index));
            }
        rel.assign(state->object, std::move(items));
        state->set_loaded(spec.relationship);
      }
    }
  }

  // Per-query raiseload()/lazyload() decide how these objects' relationships behave on access.
  void mark_strategies() {
    for (const auto& spec : eager_) {
      if (spec.strategy != LoadStrategy::raise && spec.strategy != LoadStrategy::lazy) continue;
      const MapperBase& mapper = *entities_[spec.entity].mapper;
      for (const auto& object : all_parents(spec.entity))
        if (InstanceState* state = mapper.state_of(object)) {
          if (spec.strategy == LoadStrategy::raise)
            state->relationship_bits()->raise |= 1ull << spec.relationship;
          else
            state->relationship_bits()->raise &= ~(1ull << spec.relationship);
        }
    }
  }

  std::vector<std::shared_ptr<void>> all_parents(std::size_t entity) const {
    std::vector<std::shared_ptr<void>> out;
    std::unordered_set<const void*> unique;
    for (auto row : rows_)
      if (row[entity] && unique.insert(row[entity].get()).second) out.push_back(row[entity]);
    return out;
  }

  std::vector<InstanceState*> parents_of(std::size_t entity) const {
    std::vector<InstanceState*> out;
    const MapperBase& mapper = *entities_[entity].mapper;
    for (const auto& object : all_parents(entity))
      if (InstanceState* state = mapper.state_of(object)) out.push_back(state);
    return out;
  }

  SessionCore& session_;
  Select select_;
  const std::vector<EntitySpec>& entities_;
  std::vector<EagerSpec> eager_;
  std::vector<EagerSpec> joined_;
  std::vector<int> offsets_;
  std::vector<int> joined_offsets_;
  std::vector<std::unordered_map<const void*, std::vector<std::shared_ptr<void>>>> joined_found_;
  std::unordered_set<const void*> seen_;
  std::vector<IdentityMap*> maps_;
  std::size_t chunk_;
  const std::function<void(EntityRows&)>* consume_;
  EntityRows rows_;
  bool main_done_ = false;
  bool main_finished_ = false;
  std::size_t next_eager_ = 0;
  std::optional<RelationshipLoader> loader_;
};

/// Lazy load of one relationship of one parent: a RelationshipLoader as a plan.
class LazyPlan final : public Plan {
public:
  LazyPlan(SessionCore& session, InstanceState& owner, std::size_t index)
      : loader_(session, *owner.mapper, index, {&owner}) {}
  bool next(PlanStep& step) override { return loader_.next(step); }

private:
  RelationshipLoader loader_;
};

} // namespace

std::shared_ptr<void> SessionCore::object_from_row(const MapperBase& mapper,
                                                   const DriverStatement& row, int first) {
  return object_from_row(mapper, identity_map(mapper), row, first);
}

std::shared_ptr<void> SessionCore::object_from_row(const MapperBase& mapper, IdentityMap& map,
                                                   const DriverStatement& row, int first) {
  std::string& key = row_key_;
  if (!mapper.row_identity(row, first, key)) return nullptr;
  const std::uint64_t hash = IdentityMap::hash(key);
  const IdentityMap::Probe probe = map.probe(key, hash);
  if (auto* hit = probe.found) {
    InstanceState& state = *hit->state;
    // Expired objects take the database's values, unless the application changed them since:
    // then its changes win and are flushed, as with SQLAlchemy's modified attributes. Without
    // change detection only flagged changes are flushed, so only those win.
    if (state.expired) {
      const bool kept = (options_.autodetect_changes || state.flagged_modified) &&
                        mapper.changed_columns(state) != 0;
      if (!kept) mapper.load_into(state, row, first);
      state.expired = false;
    }
    return hit->object;
  }
  InstanceState* state = nullptr;
  auto object = mapper.load_new(row, first, state);
  state->identity = key;
  state->status = ObjectState::persistent;
  // attach() in short: a new object's self pointer is set already, and a class without
  // relationships has no member to hook (a call less per loaded row).
  state->session = this;
  if (!mapper.relationships().empty()) attach(*state, object);
  // Nothing above touched the map (building an object reads the row alone): the probe holds.
  map.insert_at(probe, Entry{object, state}, hash);
  return object;
}

std::vector<EagerSpec> SessionCore::eager_loads(const std::vector<EntitySpec>& entities,
                                                const std::vector<LoaderOption>& options) const {
  std::vector<EagerSpec> out;
  for (std::size_t e = 0; e < entities.size(); ++e) {
    const MapperBase& mapper = *entities[e].mapper;
    const auto& relationships = mapper.relationships();
    for (std::size_t r = 0; r < relationships.size(); ++r) {
      LoadStrategy strategy = relationships[r].strategy;
      for (const auto& option : options)
        if (option.mapper == &mapper && option.relationship == r) strategy = option.strategy;
      // A joined load through an association table is done as selectin (one more SELECT).
      if (strategy == LoadStrategy::joined &&
          relationships[r].kind == RelationshipKind::many_to_many)
        strategy = LoadStrategy::selectin;
      const bool overridden = strategy != relationships[r].strategy;
      if (strategy == LoadStrategy::selectin || strategy == LoadStrategy::joined ||
          (overridden && (strategy == LoadStrategy::raise || strategy == LoadStrategy::lazy)))
        out.push_back({e, r, strategy});
    }
  }
  return out;
}

LoadJob::~LoadJob() = default;

namespace {

class LoadPlanJob final : public LoadJob {
public:
  LoadPlanJob(SessionCore& session, const Select& select, std::vector<EntitySpec> entities,
              const std::vector<EagerSpec>& eager)
      : entities_(std::move(entities)), plan_(session, select, entities_, eager, 0, nullptr) {}
  Plan& plan() override { return plan_; }
  EntityRows take_rows() override { return plan_.take_rows(); }

private:
  std::vector<EntitySpec> entities_; // the plan refers to them
  LoadPlan plan_;
};

} // namespace

std::unique_ptr<LoadJob> SessionCore::begin_load(const Select& select,
                                                 const std::vector<EntitySpec>& entities,
                                                 const std::vector<EagerSpec>& eager) {
  check_usable();
  return std::make_unique<LoadPlanJob>(*this, select, entities, eager);
}

EntityRows SessionCore::load(const Select& select, const std::vector<EntitySpec>& entities,
                             const std::vector<EagerSpec>& eager) {
  check_usable();
  autoflush();
  auto job = begin_load(select, entities, eager);
  run(job->plan());
  return job->take_rows();
}

void SessionCore::load_chunked(const Select& select, const std::vector<EntitySpec>& entities,
                               std::size_t chunk, const std::function<void(EntityRows&)>& consume) {
  check_usable();
  autoflush();
  if (chunk == 0) throw ArgumentError("yield_per(): the chunk size must be positive");
  LoadPlan plan(*this, select, entities, {}, chunk, &consume);
  run(plan);
  plan.hand_over();
}

void SessionCore::load_relationship(InstanceState& owner, std::size_t index) {
  check_usable();
  if (!lazy_loading_)
    throw InvalidStateError("lazy loading of '" + owner.mapper->table_name() + "." +
                            owner.mapper->relationships()[index].name +
                            "' in an async session: load it eagerly with selectinload() or "
                            "joinedload() in the query");
  if (owner.status == ObjectState::pending || owner.identity.empty()) {
    owner.set_loaded(index); // nothing in the database yet
    return;
  }
  autoflush();
  LazyPlan plan(*this, owner, index);
  run(plan);
}

SessionCore::LoadedLookup SessionCore::find_loaded(const MapperBase& mapper,
                                                   std::span<const Value> key) {
  check_usable();
  const auto& pk = mapper.primary_key();
  if (key.size() != pk.size())
    throw ArgumentError("get(): '" + mapper.table_name() + "' has a primary key of " +
                        std::to_string(pk.size()) + " column(s) but " + std::to_string(key.size()) +
                        " value(s) were given");
  // A session that holds no object of the class has none to find: a new session's get()
  // encodes no key and makes no map until its row arrives.
  IdentityMap* map = maps_.find(&mapper);
  if (map == nullptr || map->empty()) return {};
  std::string& encoded = row_key_; // free again before object_from_row() reuses it
  encoded.clear();
  for (const auto& v : key)
    encode_identity(v, encoded);
  auto* hit = map->find(encoded);
  if (hit == nullptr) return {};
  const InstanceState& state = *hit->state;
  if (state.status == ObjectState::deleted) return {true, nullptr};
  if (state.expired) return {}; // get() goes back to the database
  return {true, hit->object};
}

std::shared_ptr<void> SessionCore::get(const MapperBase& mapper, std::span<const Value> key) {
  if (LoadedLookup loaded = find_loaded(mapper, key); loaded.found) return loaded.object;
  autoflush();
  const auto& pk = mapper.primary_key();
  // The SELECT by key is compiled once per mapper and dialect; a get() then only binds.
  const std::string& sql = mapper.statement_sql(&engine_.dialect(), "get", [&] {
    const FromItem& table = mapper.table();
    Select select = retort::select(table);
    for (std::size_t column : pk)
      select = std::move(select).where(table.c(mapper.columns()[column].name) == Expr(0));
    return compile(select, engine_.dialect()).sql;
  });
  // One statement, its first row: run here as run_plan() would run a one-step plan, without a
  // plan's rounds around it (they were a tenth of a get() in a new session). Only the blocking
  // Session calls this; AsyncSession::get() runs a query, by the async executor.
  Connection& conn = connection();
  ++statements_;
  Result result = conn.execute_sql(sql, key);
  if (!result.has_row()) return nullptr;
  return object_from_row(mapper, result.row().statement(), 0);
}

void SessionCore::refresh(const MapperBase& mapper, const std::shared_ptr<void>& object) {
  InstanceState& state = state_for(mapper, object);
  if (state.session != this || state.status != ObjectState::persistent)
    throw InvalidStateError("refresh(): the object is not persistent in this session");
  state.expired = true;
  // A refresh discards unflushed changes, so the reload must not see them as changes.
  mapper.restore_snapshot(state);
  state.set_all_loaded(false);
  std::vector<Value> key;
  for (std::size_t column : mapper.primary_key())
    key.push_back(mapper.column_value(state.object, column));
  auto reloaded = get(mapper, key);
  if (!reloaded)
    throw NoResultFound("refresh(): the row of '" + mapper.table_name() +
                        "' no longer exists in the database");
}

std::shared_ptr<void> SessionCore::merge(const MapperBase& mapper, const void* object) {
  check_usable();
  std::vector<Value> key;
  bool has_key = true;
  for (std::size_t column : mapper.primary_key()) {
    key.push_back(mapper.column_value(object, column));
    if (key.back().is_null() ||
        (mapper.autoincrement_column() == column && key.back().kind() == ValueKind::integer &&
         key.back().as_int() == 0))
      has_key = false;
  }
  std::shared_ptr<void> target = has_key ? get(mapper, key) : nullptr;
  if (!target) {
    InstanceState* state = nullptr;
    auto copy = mapper.adopt_copy(object, state);
    add(mapper, copy);
    return copy;
  }
  InstanceState& state = state_for(mapper, target);
  for (std::size_t i = 0; i < mapper.columns().size(); ++i)
    mapper.set_column_value(state.object, i, mapper.column_value(object, i));
  flag_modified(state);
  return target;
}

} // namespace retort::detail

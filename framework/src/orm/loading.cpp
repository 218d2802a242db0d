// Loading: rows to objects through the identity map, and relationship loaders (lazy, selectin,
// joined). Every load is a Plan run by the session's executor; nothing here does I/O itself.
#include <retort/core/error.hpp>
#include <retort/orm/detail/session_core.hpp>
#include <retort/sql/compiler.hpp>
#include <retort/sql/select.hpp>

#include "session_access.hpp"
#include "statement_slots.hpp"

#include <algorithm>
#include <deque>
#include <unordered_map>
#include <unordered_set>

namespace retort::detail {

namespace {

// SQLAlchemy's selectin loader uses chunks of 500 keys: short enough for every dialect's
// parameter limit, long enough that round trips stay rare.
constexpr std::size_t in_chunk = 500;

PlanStep compiled_step(const SessionAccess& session, const Select& select, RowSink* sink) {
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
  RelationshipLoader(SessionAccess session, const MapperBase& mapper, std::size_t index,
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

  /// The related objects this load brought in, each once (the parents of a chained load).
  std::vector<std::shared_ptr<void>> targets() const {
    std::vector<std::shared_ptr<void>> out;
    std::unordered_set<const void*> unique;
    for (const auto& [key, items] : found_)
      for (const auto& item : items)
        if (unique.insert(item.get()).second) out.push_back(item);
    return out;
  }
  /// The class of the related objects.
  const MapperBase& target() const noexcept { return target_; }

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
            // (state_for(): an object the application made has its state in the session.)
            InstanceState* child = &session_.state_for(target_, item);
            // A reference the application already holds (maybe reassigned) stays as it is.
            if (child->relationship_loaded(std::size_t(back))) continue;
            target_.relationships()[std::size_t(back)].assign(child->object, {self});
            child->set_loaded(std::size_t(back));
          }
      rel_.assign(parent->object, std::move(items));
      parent->set_loaded(index_);
    }
  }

  SessionAccess session_;
  const MapperBase& mapper_;
  std::size_t index_;
  const RelationshipInfo& rel_;
  const MapperBase& target_;
  std::vector<InstanceState*> parents_;
  std::vector<Expr> keys_;
  std::size_t position_ = 0;
  std::unordered_map<std::string, std::vector<std::shared_ptr<void>>> found_;
};

/// How a load hands its rows over in chunks (yield_per): each chunk's relationship loads are a
/// plan of their own, given to `run` (the session's executor) before `consume` gets the chunk.
struct Chunks {
  std::size_t size = 0;
  const std::function<void(EntityRows&)>* consume = nullptr;
  std::function<void(Plan&)> run;
};

/// The main SELECT of a query (with its joined loads), then its selectin loads, then the loads
/// chained after them (selectinload(&A::b).selectinload(&B::c)), level by level. In chunks
/// (yield_per), the same loads run for each chunk's objects before it is handed over.
class LoadPlan final : public Plan, public RowSink {
public:
  LoadPlan(SessionCore& session, const Select& select, const std::vector<EntitySpec>& entities,
           const std::vector<EagerSpec>& eager, const Chunks* chunks)
      : session_(session), select_(select), entities_(entities), eager_(eager), chunks_(chunks) {
    rows_ = EntityRows(entities_.size());
    offsets_.push_back(0);
    for (const auto& e : entities_)
      offsets_.push_back(offsets_.back() + static_cast<int>(e.mapper->columns().size()));
    for (const auto& spec : eager_)
      if (spec.strategy == LoadStrategy::joined)
        add_joined(JoinedLoad{spec.entity, -1, entities_[spec.entity].mapper, spec.relationship,
                              &spec.nested});
  }

  bool next(PlanStep& step) override {
    if (!main_done_) {
      main_done_ = true;
      step = compiled_step(session_, select_, this);
      return true;
    }
    return next_related(step);
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
    if (chunks_ != nullptr && rows_.size() >= chunks_->size) hand_over();
  }

  /// Loads the relationships of the rows collected so far and gives the rows to the consumer,
  /// then lets go of every clean object that nobody else holds (the related ones too), so that
  /// memory stays bounded however long the stream (SQLAlchemy gets the same from its
  /// weak-referencing identity map).
  void hand_over() {
    if (rows_.empty()) return;
    load_related();
    if (!queue_.empty()) {
      RelatedLoads related(*this);
      chunks_->run(related);
    }
    // Per chunk: the next chunk's joined rows start afresh.
    for (std::size_t k = 0; k < joined_.size(); ++k) {
      joined_found_[k].clear();
      joined_parents_[k].clear();
    }
    seen_.clear();
    (*chunks_->consume)(rows_);
    // The consumer is application code: it may even have closed the session and its maps.
    std::fill(maps_.begin(), maps_.end(), nullptr);
    std::vector<std::pair<const MapperBase*, std::weak_ptr<void>>> seen;
    for (auto row : rows_)
      for (std::size_t e = 0; e < row.size(); ++e)
        if (row[e]) seen.emplace_back(entities_[e].mapper, row[e]);
    rows_.clear();
    // Parents before the objects they hold: letting a parent go frees its collections.
    for (auto& item : related_)
      seen.push_back(std::move(item));
    related_.clear();
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
    if (chunked()) return; // each chunk loads its relationships when it is handed over
    load_related();
  }

  EntityRows take_rows() { return std::move(rows_); }
  /// True when the rows are handed over in chunks (yield_per).
  bool chunked() const noexcept { return chunks_ != nullptr; }

private:
  /// The relationship loads of one chunk as a plan of their own.
  class RelatedLoads final : public Plan {
  public:
    explicit RelatedLoads(LoadPlan& load) : load_(load) {}
    bool next(PlanStep& step) override { return load_.next_related(step); }

  private:
    LoadPlan& load_;
  };

  // The relationships of the rows read so far: the joined ones from the rows themselves, the
  // raise/lazy marks, and the selectin loads queued for next_related().
  void load_related() {
    finish_joined();
    mark_strategies();
    for (const auto& spec : eager_)
      if (spec.strategy == LoadStrategy::selectin)
        queue_.push_back({entities_[spec.entity].mapper, spec.relationship, &spec.nested,
                          parents_of(spec.entity)});
  }

  // The next SELECT of the queued relationship loads; false when none is left.
  bool next_related(PlanStep& step) {
    while (true) {
      if (loader_) {
        if (loader_->next(step)) return true;
        if (chunked())
          for (auto& target : loader_->targets())
            related_.emplace_back(&loader_->target(), std::move(target));
        // Done: the objects it brought in are the parents of the loads chained after it.
        if (!loader_nested_->empty())
          enqueue(loader_->target(), *loader_nested_, loader_->targets(), false);
        loader_.reset();
      }
      if (queue_.empty()) return false;
      PendingLoad load = std::move(queue_.front());
      queue_.pop_front();
      if (load.parents.empty()) continue;
      loader_nested_ = load.nested;
      loader_.emplace(session_, *load.mapper, load.relationship, std::move(load.parents));
    }
  }
  /// A relationship loaded by a LEFT OUTER JOIN in the main SELECT: of a root entity
  /// (`parent_join` < 0) or of the objects another joined load brings in (a chain).
  struct JoinedLoad {
    std::size_t entity = 0;
    int parent_join = -1;
    const MapperBase* mapper = nullptr;
    std::size_t relationship = 0;
    const std::vector<NestedLoad>* nested = nullptr;
  };
  /// A selectin load waiting for its turn, with the objects whose relationship it loads.
  struct PendingLoad {
    const MapperBase* mapper = nullptr;
    std::size_t relationship = 0;
    const std::vector<NestedLoad>* nested = nullptr;
    std::vector<InstanceState*> parents;
  };

  // The identity map of entity `i`, looked up once per load rather than once per row.
  IdentityMap& map_of(std::size_t i) {
    if (maps_.empty()) maps_.resize(entities_.size(), nullptr);
    if (maps_[i] == nullptr) maps_[i] = &session_.identity_map(*entities_[i].mapper);
    return *maps_[i];
  }

  // Adds a joined load to the main SELECT, then the joined loads chained after it.
  void add_joined(JoinedLoad load) {
    const std::size_t k = joined_.size();
    const MapperBase& mapper = *load.mapper;
    const RelationshipInfo& rel = mapper.relationships()[load.relationship];
    const MapperBase& target = rel.target_mapper();
    FromItem alias = target.table().alias(target.table_name() + "_j" + std::to_string(k + 1));
    const FromItem& parent = load.parent_join < 0 ? entities_[load.entity].from
                                                  : aliases_[std::size_t(load.parent_join)];
    Expr on = alias.c(target.columns()[rel.remote_column].name) ==
              parent.c(mapper.columns()[rel.local_column].name);
    select_ = std::move(select_).outerjoin(alias, on).add_columns(alias);
    if (!rel.order_column.empty()) select_ = std::move(select_).order_by(order_of(alias, rel));
    joined_offsets_.push_back(offsets_.back());
    offsets_.push_back(offsets_.back() + static_cast<int>(target.columns().size()));
    joined_.push_back(load);
    aliases_.push_back(std::move(alias));
    joined_found_.emplace_back();
    joined_parents_.emplace_back();
    row_joined_.emplace_back();
    // A joined step under a joined one joins on in the same SELECT; any other step waits for
    // finish_joined().
    for (const auto& nested : *load.nested)
      if (nested.strategy == LoadStrategy::joined &&
          target.relationships()[nested.relationship].kind != RelationshipKind::many_to_many)
        add_joined(JoinedLoad{load.entity, static_cast<int>(k), &target, nested.relationship,
                              &nested.nested});
  }

  void read_joined(const DriverStatement& row, EntityRows::RowView objects) {
    // Parents come before the loads chained after them, so each finds its parent of this row.
    for (std::size_t k = 0; k < joined_.size(); ++k) {
      const JoinedLoad& load = joined_[k];
      row_joined_[k] = nullptr;
      const std::shared_ptr<void>& parent =
          load.parent_join < 0 ? objects[load.entity] : row_joined_[std::size_t(load.parent_join)];
      if (!parent) continue;
      const RelationshipInfo& rel = load.mapper->relationships()[load.relationship];
      auto child = session_.object_from_row(rel.target_mapper(), row, joined_offsets_[k]);
      auto [found, first_seen] = joined_found_[k].try_emplace(parent.get());
      if (first_seen) joined_parents_[k].push_back(parent);
      auto& items = found->second;
      if (child && std::find(items.begin(), items.end(), child) == items.end())
        items.push_back(child);
      row_joined_[k] = std::move(child);
    }
  }

  void finish_joined() {
    for (std::size_t k = 0; k < joined_.size(); ++k) {
      const JoinedLoad& load = joined_[k];
      const MapperBase& mapper = *load.mapper;
      const RelationshipInfo& rel = mapper.relationships()[load.relationship];
      const MapperBase& target = rel.target_mapper();
      std::vector<std::shared_ptr<void>> targets;
      std::unordered_set<const void*> unique;
      for (const auto& object : joined_parents_[k]) {
        InstanceState& state = session_.state_for(mapper, object);
        std::vector<std::shared_ptr<void>> items = joined_found_[k][object.get()];
        for (const auto& item : items)
          if (unique.insert(item.get()).second) {
            targets.push_back(item);
            if (chunked()) related_.emplace_back(&target, item);
          }
        if (rel.kind == RelationshipKind::one_to_many && rel.back_index >= 0)
          for (const auto& item : items)
            if (InstanceState* child = &session_.state_for(target, item);
                !child->relationship_loaded(std::size_t(rel.back_index))) {
              target.relationships()[std::size_t(rel.back_index)].assign(child->object, {object});
              child->set_loaded(std::size_t(rel.back_index));
            }
        rel.assign(state.object, std::move(items));
        state.set_loaded(load.relationship);
      }
      if (!load.nested->empty()) enqueue(target, *load.nested, targets, true);
    }
  }

  // The loads chained after a load that brought `objects` of class `mapper` in.
  // `joined_done`: the joined ones among them were part of the main SELECT.
  void enqueue(const MapperBase& mapper, const std::vector<NestedLoad>& nested,
               const std::vector<std::shared_ptr<void>>& objects, bool joined_done) {
    std::vector<InstanceState*> states;
    states.reserve(objects.size());
    for (const auto& object : objects)
      states.push_back(&session_.state_for(mapper, object));
    for (const auto& load : nested) {
      const bool many_to_many =
          mapper.relationships()[load.relationship].kind == RelationshipKind::many_to_many;
      switch (load.strategy) {
      case LoadStrategy::joined:
        if (joined_done && !many_to_many) break; // loaded with the main SELECT
        [[fallthrough]];
      case LoadStrategy::selectin:
        // A joined step after a selectin step is loaded by a SELECT of its own too.
        queue_.push_back({&mapper, load.relationship, &load.nested, states});
        break;
      case LoadStrategy::raise:
      case LoadStrategy::lazy:
        for (InstanceState* state : states) {
          RelationshipBits& bits = *state->relationship_bits();
          if (load.strategy == LoadStrategy::raise)
            bits.raise |= 1ull << load.relationship;
          else
            bits.raise &= ~(1ull << load.relationship);
        }
        break;
      }
    }
  }

  // Per-query raiseload()/lazyload() decide how these objects' relationships behave on access.
  void mark_strategies() {
    for (const auto& spec : eager_) {
      if (spec.strategy != LoadStrategy::raise && spec.strategy != LoadStrategy::lazy) continue;
      const MapperBase& mapper = *entities_[spec.entity].mapper;
      for (const auto& object : all_parents(spec.entity)) {
        RelationshipBits& bits = *session_.state_for(mapper, object).relationship_bits();
        if (spec.strategy == LoadStrategy::raise)
          bits.raise |= 1ull << spec.relationship;
        else
          bits.raise &= ~(1ull << spec.relationship);
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

  // The states of entity `entity`'s objects, each once. Through the session: an object the
  // application made and added has no state of the ORM's own making (state_of() is null), and
  // its relationships were left unloaded.
  std::vector<InstanceState*> parents_of(std::size_t entity) {
    std::vector<InstanceState*> out;
    const MapperBase& mapper = *entities_[entity].mapper;
    for (const auto& object : all_parents(entity))
      out.push_back(&session_.state_for(mapper, object));
    return out;
  }

  SessionAccess session_;
  Select select_;
  const std::vector<EntitySpec>& entities_;
  // Owned: the joined and pending loads point into its nested lists.
  const std::vector<EagerSpec> eager_;
  std::vector<JoinedLoad> joined_;
  std::vector<FromItem> aliases_;
  std::vector<int> offsets_;
  std::vector<int> joined_offsets_;
  std::vector<std::unordered_map<const void*, std::vector<std::shared_ptr<void>>>> joined_found_;
  // Per joined load: its parents in the order they came, and the object it read from this row.
  std::vector<std::vector<std::shared_ptr<void>>> joined_parents_;
  std::vector<std::shared_ptr<void>> row_joined_;
  std::unordered_set<const void*> seen_;
  std::vector<IdentityMap*> maps_;
  const Chunks* chunks_;
  // In chunks: the objects the chunk's relationship loads brought in, let go with the chunk.
  std::vector<std::pair<const MapperBase*, std::weak_ptr<void>>> related_;
  EntityRows rows_;
  bool main_done_ = false;
  bool main_finished_ = false;
  std::deque<PendingLoad> queue_;
  std::optional<RelationshipLoader> loader_;
  const std::vector<NestedLoad>* loader_nested_ = nullptr;
};

/// Lazy load of one relationship of one parent: a RelationshipLoader as a plan.
class LazyPlan final : public Plan {
public:
  LazyPlan(SessionCore& session, InstanceState& owner, std::size_t index)
      : loader_(SessionAccess(session), *owner.mapper, index, {&owner}) {}
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

namespace {

std::string step_name(const MapperBase& mapper, std::size_t relationship) {
  return mapper.table_name() + "." + mapper.relationships()[relationship].name;
}

// Adds the steps of `steps` from `first` on to `into` (the loads of `from`'s objects), merged
// with the loads already asked for on the same path.
void add_steps(std::vector<NestedLoad>& into, const std::vector<LoaderStep>& steps,
               std::size_t first, const MapperBase& from, LoadStrategy before,
               const std::string& path) {
  if (first >= steps.size()) return;
  const LoaderStep& step = steps[first];
  if (step.mapper != &from || step.relationship >= from.relationships().size())
    throw ArgumentError("loader option " + path + ": the next step is not a relationship of '" +
                        from.table_name() + "', the class the step before leads to");
  const std::string here = path + " -> " + step_name(from, step.relationship);
  // Nothing is loaded after a lazy or raise step, so nothing could apply what follows it.
  if (before == LoadStrategy::lazy || before == LoadStrategy::raise)
    throw ArgumentError("loader option " + here +
                        ": a step after a lazyload() or raiseload() step cannot be applied; "
                        "load the step before it eagerly");
  auto found = std::find_if(into.begin(), into.end(), [&](const NestedLoad& load) {
    return load.relationship == step.relationship;
  });
  if (found == into.end()) {
    into.push_back({step.relationship, step.strategy, {}});
    found = into.end() - 1;
  } else {
    found->strategy = step.strategy;
  }
  add_steps(found->nested, steps, first + 1,
            from.relationships()[step.relationship].target_mapper(), step.strategy, here);
}

// Under LIMIT/OFFSET the main SELECT must have one row per object of the query, or the limit
// counts joined rows: a joined collection anywhere in the chain of joined steps would repeat
// them, so it runs as selectin (SQLAlchemy wraps the limited query in a subquery instead).
// Joined many-to-ones add no rows and stay in the one statement; the steps after a selectin
// step are SELECTs of their own, which no limit cuts.
void keep_one_row_per_object(const MapperBase& mapper, std::size_t relationship,
                             LoadStrategy& strategy, std::vector<NestedLoad>& nested) {
  if (strategy != LoadStrategy::joined) return;
  const RelationshipInfo& rel = mapper.relationships()[relationship];
  if (rel.kind != RelationshipKind::many_to_one) {
    strategy = LoadStrategy::selectin;
    return;
  }
  for (auto& load : nested)
    keep_one_row_per_object(rel.target_mapper(), load.relationship, load.strategy, load.nested);
}

} // namespace

std::vector<EagerSpec> SessionCore::eager_loads(const std::vector<EntitySpec>& entities,
                                                const std::vector<LoaderOption>& options,
                                                bool limited) const {
  std::vector<EagerSpec> out;
  std::vector<bool> used(options.size(), false);
  for (std::size_t e = 0; e < entities.size(); ++e) {
    const MapperBase& mapper = *entities[e].mapper;
    const auto& relationships = mapper.relationships();
    for (std::size_t r = 0; r < relationships.size(); ++r) {
      LoadStrategy strategy = relationships[r].strategy;
      for (std::size_t o = 0; o < options.size(); ++o)
        if (options[o].mapper == &mapper && options[o].relationship == r) {
          strategy = options[o].strategy;
          used[o] = true;
        }
      // A joined load through an association table is done as selectin (one more SELECT).
      if (strategy == LoadStrategy::joined &&
          relationships[r].kind == RelationshipKind::many_to_many)
        strategy = LoadStrategy::selectin;
      const bool overridden = strategy != relationships[r].strategy;
      if (!(strategy == LoadStrategy::selectin || strategy == LoadStrategy::joined ||
            (overridden && (strategy == LoadStrategy::raise || strategy == LoadStrategy::lazy))))
        continue;
      EagerSpec spec{e, r, strategy, {}};
      for (const auto& option : options)
        if (option.mapper == &mapper && option.relationship == r)
          add_steps(spec.nested, option.then, 0, relationships[r].target_mapper(), strategy,
                    step_name(mapper, r));
      out.push_back(std::move(spec));
    }
  }
  // An option that reached no relationship of the query is an error, never dropped.
  for (std::size_t o = 0; o < options.size(); ++o) {
    if (used[o]) continue;
    const LoaderOption& option = options[o];
    bool on_entity = false;
    for (const auto& entity : entities)
      on_entity = on_entity || entity.mapper == option.mapper;
    if (option.mapper == nullptr || option.relationship >= option.mapper->relationships().size())
      throw ArgumentError("a loader option names no relationship");
    if (!on_entity)
      throw ArgumentError("loader option " + step_name(*option.mapper, option.relationship) +
                          ": '" + option.mapper->table_name() +
                          "' is not an entity of this query; start the option at one of the "
                          "query's entities and chain the rest");
  }
  // A chain after a step that stays lazy by default (no spec was made for it): nothing loads
  // the objects the rest of the chain would apply to.
  for (const auto& option : options) {
    if (option.then.empty()) continue;
    bool applied = false;
    for (const auto& spec : out)
      applied = applied || (entities[spec.entity].mapper == option.mapper &&
                            spec.relationship == option.relationship);
    if (!applied)
      throw ArgumentError("loader option " + step_name(*option.mapper, option.relationship) +
                          " -> ...: a step after a lazyload() step cannot be applied; load the "
                          "step before it eagerly");
  }
  if (limited)
    for (auto& spec : out)
      keep_one_row_per_object(*entities[spec.entity].mapper, spec.relationship, spec.strategy,
                              spec.nested);
  return out;
}

LoadJob::~LoadJob() = default;

namespace {

class LoadPlanJob final : public LoadJob {
public:
  LoadPlanJob(SessionCore& session, const Select& select, std::vector<EntitySpec> entities,
              const std::vector<EagerSpec>& eager)
      : entities_(std::move(entities)), plan_(session, select, entities_, eager, nullptr) {}
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

void SessionCore::check_blocking(const char* call) const {
  if (!blocking_)
    throw InvalidStateError(std::string(call) +
                            " would block the io thread: this query belongs to an AsyncSession; "
                            "co_await the session's all(), count(), exists() or values() instead");
}

void SessionCore::run_select(const Select& select, RowSink& sink, const char* call) {
  Entered use(*this);
  check_blocking(call);
  check_usable();
  autoflush();
  SelectPlan plan(select, engine_.dialect(), &engine_.statement_cache(), sink);
  run(plan);
}

EntityRows SessionCore::load(const Select& select, const std::vector<EntitySpec>& entities,
                             const std::vector<EagerSpec>& eager) {
  check_blocking("Query::all()");
  check_usable();
  autoflush();
  auto job = begin_load(select, entities, eager);
  run(job->plan());
  return job->take_rows();
}

namespace {

// A joined collection repeats its parent over several rows, which two chunks could split
// between them: yield_per() cannot apply it (SQLAlchemy refuses it too). A joined many-to-one,
// and the joined steps chained after it, come one row per parent and are fine.
void check_joined_chunkable(const MapperBase& mapper, std::size_t relationship,
                            const std::vector<NestedLoad>& nested) {
  const RelationshipInfo& rel = mapper.relationships()[relationship];
  if (rel.kind == RelationshipKind::one_to_many)
    throw ArgumentError("yield_per(): joinedload() of the collection " +
                        step_name(mapper, relationship) +
                        " cannot be applied to rows handed over in chunks (a parent's rows could "
                        "fall into two chunks); load it with selectinload()");
  const MapperBase& target = rel.target_mapper();
  for (const auto& load : nested)
    if (load.strategy == LoadStrategy::joined &&
        target.relationships()[load.relationship].kind != RelationshipKind::many_to_many)
      check_joined_chunkable(target, load.relationship, load.nested);
}

} // namespace

void SessionCore::load_chunked(const Select& select, const std::vector<EntitySpec>& entities,
                               const std::vector<EagerSpec>& eager, std::size_t chunk,
                               const std::function<void(EntityRows&)>& consume) {
  check_blocking("Query::yield_per()");
  check_usable();
  if (chunk == 0) throw ArgumentError("yield_per(): the chunk size must be positive");
  for (const auto& spec : eager)
    if (spec.strategy == LoadStrategy::joined)
      check_joined_chunkable(*entities[spec.entity].mapper, spec.relationship, spec.nested);
  autoflush();
  const Chunks chunks{chunk, &consume, [this](Plan& related) { run(related); }};
  LoadPlan plan(*this, select, entities, eager, &chunks);
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
  Entered use(*this);
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
      select =
          std::move(select).where(table.c(mapper.columns()[column].name) == column_typed_slot());
    return compile(select, engine_.dialect()).sql;
  });
  // One statement, its first row: run here as run_plan() would run a one-step plan, without a
  // plan's rounds around it (they were a tenth of a get() in a new session). Only the blocking
  // Session calls this; AsyncSession::get() runs a query, by the async executor.
  Connection& conn = connection();
  ++statements_;
  Result result = conn.execute_sql(sql, key);
  if (!result.has_row()) {
    forget_vanished(mapper, key);
    return nullptr;
  }
  return object_from_row(mapper, result.row().statement(), 0);
}

void SessionCore::forget_vanished(const MapperBase& mapper, std::span<const Value> key) {
  IdentityMap* map = maps_.find(&mapper);
  if (map == nullptr || map->empty()) return;
  std::string encoded;
  for (const auto& v : key)
    encode_identity(v, encoded);
  auto* hit = map->find(encoded);
  if (hit == nullptr) return;
  // Its row was deleted by another transaction: the object is deleted, as if this transaction
  // had flushed its deletion (SQLAlchemy's _remove_newly_deleted()): out of the identity map,
  // detached at commit, persistent again after a rollback.
  Entry entry = *hit;
  map->erase(encoded);
  entry.state->status = ObjectState::deleted;
  changes_.deleted_in_transaction().push_back(std::move(entry));
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
  // Looking up the related objects must not flush the half-merged graph (SQLAlchemy merges
  // with no_autoflush too).
  ++no_autoflush_;
  struct Restore {
    int& depth;
    ~Restore() { --depth; }
  } restore{no_autoflush_};
  MergeMemo memo;
  return merge_into(mapper, object, memo);
}

std::shared_ptr<void> SessionCore::merge_into(const MapperBase& mapper, const void* object,
                                              MergeMemo& memo) {
  // Each object of the graph is merged once (a back reference leads back to its parent).
  if (auto found = memo.find(object); found != memo.end()) return found->second;
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
  if (target.get() == object) return target; // the session's own object
  if (!target) {
    InstanceState* state = nullptr;
    target = mapper.adopt_copy(object, state);
    // Its related objects are the merged ones, set below like any change of the member.
    for (const auto& rel : mapper.relationships())
      rel.assign(state->object, {});
    memo.emplace(object, target);
    add(mapper, target);
  } else {
    memo.emplace(object, target);
    InstanceState& state = state_for(mapper, target);
    for (std::size_t i = 0; i < mapper.columns().size(); ++i)
      mapper.set_column_value(state.object, i, mapper.column_value(object, i));
    flag_modified(state);
  }
  merge_relationships(mapper, object, state_for(mapper, target), memo);
  return target;
}

void SessionCore::merge_relationships(const MapperBase& mapper, const void* object,
                                      InstanceState& state, MergeMemo& memo) {
  const auto& relationships = mapper.relationships();
  for (std::size_t i = 0; i < relationships.size(); ++i) {
    const RelationshipInfo& rel = relationships[i];
    // A member the source does not hold (not loaded) says nothing, as in SQLAlchemy.
    if (!(rel.cascade & cascade_merge) || !rel.states_items(object)) continue;
    std::vector<std::shared_ptr<void>> merged;
    for (const auto& item : rel.items(const_cast<void*>(object)))
      merged.push_back(merge_into(rel.target_mapper(), item.get(), memo));
    // What the session's object holds now, to find what leaves (orphans) and what joins.
    if (!state.relationship_loaded(i)) load_relationship(state, i);
    const auto current = rel.items(state.object);
    auto held = [](const std::vector<std::shared_ptr<void>>& list, const std::shared_ptr<void>& o) {
      return std::find(list.begin(), list.end(), o) != list.end();
    };
    rel.assign(state.object, merged);
    for (const auto& item : current)
      if (!held(merged, item)) relationship_changed(state, i, item, false);
    for (const auto& item : merged)
      if (!held(current, item)) relationship_changed(state, i, item, true);
    keep_foreign_keys(rel, i, state, merged);
  }
}

// A plain struct cannot say which members were set: the merged columns of a related object may
// hold a foreign key the application never filled in. The relationship is the truth for it.
void SessionCore::keep_foreign_keys(const RelationshipInfo& rel, std::size_t index,
                                    InstanceState& state,
                                    const std::vector<std::shared_ptr<void>>& merged) {
  if (rel.kind == RelationshipKind::many_to_one) {
    if (merged.empty()) return;
    state.relationship_bits()->assigned |= 1ull << index; // the flush sets the key from it
    flag_modified(state);
    return;
  }
  if (rel.kind != RelationshipKind::one_to_many || state.identity.empty()) return;
  const MapperBase& target = rel.target_mapper();
  const Value key = state.mapper->column_value(state.object, rel.local_column);
  for (const auto& item : merged) {
    InstanceState& child = state_for(target, item);
    if (!(target.column_value(child.object, rel.remote_column) == key))
      write_column(child, rel.remote_column, key);
  }
}

} // namespace retort::detail

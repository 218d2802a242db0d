// The unit of work: flush() decides every INSERT, UPDATE and DELETE up front, in foreign-key
// order, and hands them to the executor as a FlushPlan. Statements are built only when reached,
// so children see the keys their parents were just given. Nothing here does I/O by itself.
// The order of classes is flush_order.cpp's, the INSERT shapes insert_shape.cpp's, the checks
// of rows written and rows changed flush_checks.cpp's.
#include <retort/core/error.hpp>
#include <retort/orm/detail/session_core.hpp>
#include <retort/sql/compiler.hpp>
#include <retort/sql/delete.hpp>
#include <retort/sql/dialect.hpp>
#include <retort/sql/insert.hpp>
#include <retort/sql/update.hpp>

#include "flush_checks.hpp"
#include "flush_order.hpp"
#include "insert_shape.hpp"
#include "pending_orphans.hpp"
#include "session_access.hpp"
#include "statement_slots.hpp"

#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace retort::detail {

namespace {

using Entry = SessionAccess::Entry;

// The common flush (add() and commit() of one object) has one class, one object, one key: the
// lists a flush keeps hold that much inline, where std::vectors cost six heap blocks per flush.
template <typename T> using InlineOne = boost::container::small_vector<T, 1>;

// Keys per DELETE ... WHERE pk IN (...), as SQLAlchemy's selectin chunk.
constexpr std::size_t max_keys_per_delete = 500;

bool is_unset_key(const Value& v) {
  return v.is_null() || (v.kind() == ValueKind::integer && v.as_int() == 0);
}

Value key_value(const InstanceState& state, std::size_t column) {
  return state.mapper->column_value(state.object, column);
}

/// The flush as a plan.
class FlushPlan final : public Plan, public RowSink {
public:
  explicit FlushPlan(SessionCore& session)
      : session_(session), dialect_(session.engine().dialect()) {
    apply_orphans();
    collect_deletes();
    collect_inserts();
    collect_row_switches();
    propagate_persistent_parents();
  }

  bool next(PlanStep& step) override {
    while (true) {
      switch (phase_) {
      case Phase::inserts:
        if (next_insert(step)) return true;
        phase_ = Phase::updates;
        collect_updates();
        break;
      case Phase::updates:
        if (next_update(step)) return true;
        phase_ = Phase::association_deletes;
        collect_associations();
        break;
      case Phase::association_deletes:
        if (next_association(step, association_deletes_)) return true;
        phase_ = Phase::association_inserts;
        break;
      case Phase::association_inserts:
        if (next_association(step, association_inserts_)) return true;
        phase_ = Phase::deletes;
        break;
      case Phase::deletes:
        if (next_delete(step)) return true;
        phase_ = Phase::finished;
        break;
      case Phase::finished: return false;
      }
    }
  }

  void row(const DriverStatement& row) override {
    returned_.push_back(row.get_value(0));
    // Row by row (the key and server defaults come back): every returned column to its member.
    if (batch_.size() == 1)
      for (std::size_t k = 1; k < returned_columns_.size(); ++k)
        batch_mapper_->set_column_from_row(batch_[0]->object, returned_columns_[k], row,
                                           static_cast<int>(k));
  }

  // The batch's keys are last - n + 1 ... last: SQLite gives each new row the largest rowid plus
  // one, so one INSERT's rows are numbered consecutively in VALUES order.
  void last_insert_id(std::int64_t last) override {
    const auto n = static_cast<std::int64_t>(batch_.size());
    for (std::int64_t k = 0; k < n; ++k)
      returned_.emplace_back(last - n + 1 + k);
  }

  void done(std::int64_t) override { finish_insert(); }

  /// The session commits right after this flush: the last statement may carry the COMMIT.
  void commit_follows() noexcept { commit_follows_ = true; }

  /// After success: states become persistent / deleted, snapshots are retaken.
  void commit_states() {
    for (auto& group : inserts_)
      for (auto& entry : group.objects) {
        InstanceState& state = *entry.state;
        state.mapper->take_snapshot(state);
        session_.inserted_in_transaction().push_back(entry);
        session_.make_persistent(std::move(entry)); // the flush is done with its list
      }
    // Inside a savepoint, the values before each UPDATE are kept to undo it (not per row
    // otherwise).
    if (session_.in_savepoint())
      for (auto& [state, mask] : updates_)
        session_.note_savepoint_update(*state);
    for (auto& [state, mask] : updates_)
      state->mapper->take_snapshot(*state);
    // A row switch: the new object owns the row now; the old one is deleted as if its DELETE
    // had run (a rollback brings it back and makes the new one transient).
    for (auto& [entry, old] : switches_) {
      InstanceState& state = *entry.state;
      state.mapper->take_snapshot(state);
      session_.deleted_in_transaction().push_back(old);
      session_.inserted_in_transaction().push_back(entry);
      session_.make_persistent(std::move(entry)); // replaces the old object's map entry
    }
    for (auto& entry : deletes_) {
      session_.identity_map(*entry.state->mapper).erase(entry.state->identity);
      session_.deleted_in_transaction().push_back(entry);
    }
    session_.pending().clear();
    session_.deleted().clear();
    session_.association_changes().clear();
    session_.orphans().clear();
  }

  /// After failure: keys generated by this flush are undone; everything stays pending.
  void undo() noexcept {
    // The driver may have failed to read a key back (a table made again WITHOUT ROWID under the
    // same name since the hint was taken): the next flush probes the table first.
    for (const MapperBase* mapper : driver_keyed_)
      set_key_hint(*mapper, KeyHint::unknown);
    std::sort(generated_.begin(), generated_.end());
    for (auto& group : inserts_)
      for (auto& entry : group.objects) {
        InstanceState& state = *entry.state;
        if (state.identity.empty()) continue;
        if (auto column = state.mapper->autoincrement_column())
          if (std::binary_search(generated_.begin(), generated_.end(), &state))
            state.mapper->reset_column(state.object, *column);
        state.identity.clear();
      }
    for (auto& [entry, old] : switches_)
      entry.state->identity.clear();
  }

private:
  enum class Phase {
    inserts,
    updates,
    association_deletes,
    association_inserts,
    deletes,
    finished
  };

  // How the keys of an INSERT whose shape takes them from last_insert_id() are known for sure.
  // driver: a one-row INSERT whose key the driver proves (DriverConnection::generated_key()).
  enum class KeySource { arithmetic, row_by_row, returning, probe, driver };

  struct InsertGroup {
    const MapperBase* mapper = nullptr;
    InlineOne<Entry> objects;
    bool self_referential = false;
    // What the dialect's probe found about the table, once asked, and how the group's keys are
    // then known (see key_source()).
    KeyProbe probe;
    std::optional<KeySource> source;
  };

  // ---- orphans and deletes -------------------------------------------------------------

  void apply_orphans() {
    for (auto& orphan : session_.orphans()) {
      const RelationshipInfo& rel = orphan.parent_mapper->relationships()[orphan.relationship];
      const MapperBase& child_mapper = rel.target_mapper();
      InstanceState* child = &session_.state_for(child_mapper, orphan.child);
      if (!session_.holds(*child)) continue;
      // Given to another parent (or back to the same one) since: no orphan.
      if (session_.has_parent(*orphan.parent_mapper, orphan.relationship, *child)) continue;
      if (child->status == ObjectState::pending) {
        // Never inserted: a delete-orphan child leaves the session (one without delete-orphan
        // is inserted without a parent, as SQLAlchemy does).
        if (rel.cascade & cascade_delete_orphan)
          expunge_pending_orphan(session_.core(), child_mapper, orphan.child);
        continue;
      }
      if (child->status != ObjectState::persistent) continue;
      // Taken out of a many-to-many collection with delete-orphan, and no parent holds it.
      if (rel.kind == RelationshipKind::many_to_many) {
        session_.remove(child_mapper, orphan.child);
        continue;
      }
      // Still attached to the same parent in the database, and not given another one by its
      // foreign key?
      Value fk = child_mapper.column_value(child->object, rel.remote_column);
      if (!(fk == orphan.parent_key)) continue;
      if (rel.cascade & cascade_delete_orphan)
        session_.remove(child_mapper, orphan.child);
      else
        session_.write_column(*child, rel.remote_column, Value());
    }
  }

  void collect_deletes() {
    if (session_.deleted().empty()) return;
    auto order = dependency_order(classes_of(session_.deleted()));
    // Children first: reverse foreign-key order.
    for (auto it = order.rbegin(); it != order.rend(); ++it)
      for (auto& entry : session_.deleted())
        if (entry.state->mapper == *it && entry.state->status == ObjectState::deleted)
          deletes_.push_back(entry);
  }

  // ---- inserts ---------------------------------------------------------------------------

  void collect_inserts() {
    const auto& pending = session_.pending();
    if (pending.empty()) return;
    // Objects of one class (a commit of one object, a bulk add): one group in the order they
    // were added, without working out the classes and their order.
    const MapperBase* only = pending.front().state->mapper;
    if (std::all_of(pending.begin(), pending.end(),
                    [only](const Entry& entry) { return entry.state->mapper == only; })) {
      add_group(*only).objects.assign(pending.begin(), pending.end());
      finish_group(inserts_.back());
      return;
    }
    for (const auto* mapper : dependency_order(classes_of(pending))) {
      InsertGroup& group = add_group(*mapper);
      for (const auto& entry : pending)
        if (entry.state->mapper == mapper) group.objects.push_back(entry);
      finish_group(group);
    }
  }

  InsertGroup& add_group(const MapperBase& mapper) {
    InsertGroup& group = inserts_.emplace_back();
    group.mapper = &mapper;
    for (const auto& c : mapper.columns())
      if (c.fk_table == mapper.table_name()) group.self_referential = true;
    return group;
  }

  void finish_group(InsertGroup& group) {
    if (group.self_referential) order_self_referential(group);
  }

  // Rows of a self-referential table: each parent before its children (a depth-first order
  // over the many-to-one references between pending objects).
  void order_self_referential(InsertGroup& group) {
    const MapperBase& mapper = *group.mapper;
    std::unordered_map<const void*, Entry> by_object;
    for (auto& e : group.objects)
      by_object.emplace(e.state->object, e);
    InlineOne<Entry> ordered;
    std::unordered_set<const void*> placed, visiting;
    std::function<void(const Entry&)> place = [&](const Entry& e) {
      if (placed.contains(e.state->object)) return;
      if (!visiting.insert(e.state->object).second)
        throw ArgumentError("flush: pending rows of '" + mapper.table_name() +
                            "' reference each other in a cycle");
      const auto& rels = mapper.relationships();
      for (std::size_t i = 0; i < rels.size(); ++i) {
        if (rels[i].kind != RelationshipKind::many_to_one || &rels[i].target_mapper() != &mapper)
          continue;
        for (const auto& target : rels[i].items(e.state->object))
          if (auto found = by_object.find(target.get()); found != by_object.end())
            place(found->second);
      }
      placed.insert(e.state->object);
      ordered.push_back(e);
    };
    for (auto& e : group.objects)
      place(e);
    group.objects = std::move(ordered);
  }

  // SQLAlchemy's "row switch": a pending object with the primary key of an object deleted in
  // the same flush takes its row over with an UPDATE. Inserts run before deletes (children
  // need their parents' rows), so an INSERT would collide with the row still there.
  void collect_row_switches() {
    if (deletes_.empty() || inserts_.empty()) return;
    std::string key;
    for (auto& group : inserts_) {
      const MapperBase& mapper = *group.mapper;
      for (std::size_t i = 0; i < group.objects.size();) {
        InstanceState& state = *group.objects[i].state;
        auto old = deletes_.end();
        if (key_is_set(state)) {
          mapper.object_identity(state.object, key);
          old = std::find_if(deletes_.begin(), deletes_.end(), [&](const Entry& e) {
            return e.state->mapper == &mapper && e.state->identity == std::string_view(key);
          });
        }
        if (old == deletes_.end()) {
          ++i;
          continue;
        }
        // Its key now, not at the end: pending children check their parent has one.
        state.identity = key;
        switches_.emplace_back(group.objects[i], *old);
        deletes_.erase(old);
        group.objects.erase(group.objects.begin() + std::ptrdiff_t(i));
        // Its key is known: its new children take it now, as after an INSERT.
        propagate_to_children(state);
      }
    }
  }

  static bool key_is_set(const InstanceState& state) {
    const MapperBase& mapper = *state.mapper;
    for (std::size_t k : mapper.primary_key()) {
      Value v = mapper.column_value(state.object, k);
      if (v.is_null() || (mapper.autoincrement_column() == k && is_unset_key(v))) return false;
    }
    return true;
  }

  // Children in loaded one-to-many collections of persistent parents take the parent's key.
  // Without change detection a collection that changed flagged its owner (relationship_changed):
  // the flagged objects are all the parents to look at.
  void propagate_persistent_parents() {
    if (!session_.options().autodetect_changes) {
      // By index: flagging a child here appends to the vector, which may reallocate.
      auto& flagged = session_.flagged();
      for (std::size_t i = 0; i < flagged.size(); ++i)
        if (flagged[i].state->status == ObjectState::persistent &&
            has_one_to_many(*flagged[i].state->mapper))
          propagate_to_children(*flagged[i].state);
      return;
    }
    for (auto& [mapper, map] : session_.maps()) {
      if (!has_one_to_many(*mapper)) continue;
      for (auto& entry : map)
        if (entry.state->status == ObjectState::persistent) propagate_to_children(*entry.state);
    }
  }

  static bool has_one_to_many(const MapperBase& mapper) {
    for (const auto& rel : mapper.relationships())
      if (rel.kind == RelationshipKind::one_to_many) return true;
    return false;
  }

  void propagate_to_children(InstanceState& parent) {
    const MapperBase& mapper = *parent.mapper;
    const auto& rels = mapper.relationships();
    for (std::size_t i = 0; i < rels.size(); ++i) {
      const RelationshipInfo& rel = rels[i];
      if (rel.kind != RelationshipKind::one_to_many) continue;
      if (!parent.relationship_loaded(i)) continue;
      Value key = key_value(parent, rel.local_column);
      const MapperBase& target = rel.target_mapper();
      for (const auto& child : rel.items(parent.object)) {
        InstanceState& state = session_.state_for(target, child);
        if (state.status == ObjectState::deleted) continue;
        if (!(target.column_value(state.object, rel.remote_column) == key))
          session_.write_column(state, rel.remote_column, key);
      }
    }
  }

  bool next_insert(PlanStep& step) {
    while (insert_group_ < inserts_.size()) {
      InsertGroup& group = inserts_[insert_group_];
      if (insert_position_ < group.objects.size()) {
        build_insert(group, step);
        return true;
      }
      ++insert_group_;
      insert_position_ = 0;
    }
    return false;
  }

  // True when the last insert batch is the flush's last statement. Conservative: classes with
  // relationships may hand new keys on (children, association rows), so they never qualify.
  bool nothing_after_inserts() {
    if (!deletes_.empty() || !switches_.empty() || !session_.association_changes().empty())
      return false;
    for (const auto& group : inserts_)
      if (!group.mapper->relationships().empty()) return false;
    // A session that holds no persistent object (a commit of new ones) has nothing to compare.
    return session_.identity_map_size() == 0 || !session_.persistent_changed();
  }

  // Which columns an object leaves to the database: a generated key still unset, and columns
  // with a server default left NULL.
  std::uint64_t omitted_columns(const InstanceState& state) const {
    const MapperBase& mapper = *state.mapper;
    std::uint64_t mask = 0;
    const auto& columns = mapper.columns();
    for (std::size_t i = 0; i < columns.size(); ++i) {
      const bool generated = mapper.autoincrement_column() == i;
      if (!generated && columns[i].server_default.empty()) continue;
      Value v = mapper.column_value(state.object, i);
      if (generated ? is_unset_key(v) : v.is_null()) mask |= 1ull << i;
    }
    return mask;
  }

  void check_required(const InstanceState& state, std::uint64_t required) const {
    const MapperBase& mapper = *state.mapper;
    for (std::uint64_t bits = required; bits != 0; bits &= bits - 1) {
      const auto i = static_cast<std::size_t>(std::countr_zero(bits));
      if (!mapper.column_is_null(state.object, i)) continue;
      throw InvalidStateError("flush: column '" + mapper.table_name() + "." +
                              mapper.columns()[i].name +
                              "' is NOT NULL and has no default, but a pending object leaves it "
                              "unset");
    }
  }

  // last_insert_id() - n + 1 ... last holds for a multi-row INSERT only while nothing else
  // inserts into the table in between (a trigger), the rowids stay below their maximum, and the
  // key is the rowid at all; a probe of the table (once per class and flush) says so. A one-row
  // INSERT needs only to know its own key, which the driver proves after it has run
  // (DriverConnection::generated_key(): SQLite checks the key column is the rowid's alias once
  // per prepared statement, and again only when a schema change made SQLite prepare it anew).
  // That is for tables a probe has found to key by the rowid; one it found not to
  // asks RETURNING, and one it has not seen yet is probed first. A probe in every new session,
  // with the write lock taken before it, was most of a one-object commit (4x the raw INSERT).
  KeySource key_source(InsertGroup& group, PlanStep& step) {
    const std::size_t rows_left = group.objects.size() - insert_position_;
    if (!group.probe.done()) {
      // Not probed yet, so at the group's start: rows_left is the whole group.
      if (rows_left == 1) {
        const KeyHint hint = key_hint_of(*group.mapper);
        if (hint == KeyHint::last_id) return KeySource::driver;
        if (hint == KeyHint::not_last_id && dialect_.supports_returning())
          return KeySource::returning;
      }
      const MapperBase& mapper = *group.mapper;
      const std::string& key = mapper.columns()[*mapper.autoincrement_column()].name;
      step.sql = dialect_.generated_key_probe_sql(mapper.table_name(), key);
      if (step.sql.empty()) return KeySource::arithmetic; // the dialect vouches for it
      step.params.clear();
      step.params.emplace_back(mapper.table_name());
      step.params.emplace_back(key);
      step.sink = &group.probe;
      // A read before the INSERT: the transaction takes the write lock first, or on SQLite the
      // INSERT fails ("database is locked") instead of waiting while another connection writes.
      step.writes_follow = true;
      return KeySource::probe;
    }
    if (group.source) return *group.source;
    set_key_hint(*group.mapper,
                 group.probe.key_is_last_id() ? KeyHint::last_id : KeyHint::not_last_id);
    if (!group.probe.key_is_last_id()) {
      if (!dialect_.supports_returning())
        throw NotSupportedError(
            "flush: the key '" + group.mapper->table_name() + "." +
                group.mapper->columns()[*group.mapper->autoincrement_column()].name +
                "' is not the rowid, and the database has no RETURNING",
            "", 0, "");
      group.source = KeySource::returning;
    } else {
      // Decided for all the group's rows at once: the largest key the probe saw grows with them.
      group.source =
          group.probe.consecutive(rows_left) ? KeySource::arithmetic : KeySource::row_by_row;
    }
    return *group.source;
  }

  void build_insert(InsertGroup& group, PlanStep& step) {
    const MapperBase& mapper = *group.mapper;
    // Rows that share the omitted columns go into one multi-row statement.
    InstanceState& first = *group.objects[insert_position_].state;
    session_.sync_references(first);
    const std::uint64_t omitted = omitted_columns(first);
    InsertShape* chosen = &insert_shape_of(mapper, dialect_, omitted, group.self_referential);
    // Refused before any SQL, the probe included.
    check_required(first, chosen->required);
    bool driver_proves_key = false;
    if (chosen->use_last_id) {
      const KeySource source = key_source(group, step);
      if (source == KeySource::probe) return;
      driver_proves_key = source == KeySource::driver;
      if (source != KeySource::arithmetic && !driver_proves_key) {
        // One row per statement: its key is then exact, from last_insert_id() or RETURNING.
        fallback_shape_ = *chosen;
        fallback_shape_.limit = 1;
        fallback_shape_.use_last_id = source == KeySource::row_by_row;
        fallback_shape_.sql = nullptr;
        chosen = &fallback_shape_;
      }
    }
    InsertShape& shape = *chosen;
    batch_.clear();
    batch_.push_back(&first);
    while (batch_.size() < shape.limit && insert_position_ + batch_.size() < group.objects.size()) {
      InstanceState& next = *group.objects[insert_position_ + batch_.size()].state;
      session_.sync_references(next);
      if (omitted_columns(next) != omitted) break;
      check_required(next, shape.required);
      batch_.push_back(&next);
    }
    insert_position_ += batch_.size();

    // Text is borrowed from the objects: the statement runs (or, pipelined, is sent) before
    // control returns to code that could change them.
    if (shape.nan_checked != 0)
      for (const InstanceState* state : batch_)
        check_no_nan(*state, shape.nan_checked);
    step.params.clear();
    step.params.reserve(batch_.size() * shape.inserted.size());
    for (const InstanceState* state : batch_)
      mapper.append_bound_values(state->object, shape.written, step.params);
    if (shape.sql == nullptr || shape.rows != batch_.size()) {
      shape.sql = &mapper.statement_sql(
          &dialect_, insert_sql_key(shape.use_last_id, omitted, batch_.size()), [&] {
            return insert_sql(mapper, shape.inserted,
                              shape.use_last_id ? ColumnList{} : shape.returned, batch_.size());
          });
      shape.rows = batch_.size();
    }
    step.shared_sql = shape.sql;
    step.sink = this;
    step.want_last_insert_id = shape.use_last_id;
    if (driver_proves_key) {
      if (std::find(driver_keyed_.begin(), driver_keyed_.end(), &mapper) == driver_keyed_.end())
        driver_keyed_.push_back(&mapper);
      step.key_table = mapper.table_name();
      step.key_column = mapper.columns()[*mapper.autoincrement_column()].name;
    }
    // A key the driver proves after the INSERT may turn out unreadable (the table changed
    // since the hint): that delivery can fail, so the INSERT may not carry the COMMIT (on SQLite
    // it would run alone, committing as it runs, before the key is known).
    step.final = commit_follows_ && !driver_proves_key &&
                 insert_position_ == group.objects.size() && insert_group_ + 1 == inserts_.size() &&
                 nothing_after_inserts();
    // Decided by walking everything once: the plan ends here without walking it again.
    if (step.final) phase_ = Phase::finished;
    // Copied: another flush on this thread (an async session's) may change the shape before
    // this statement's keys come back.
    returned_columns_ = shape.returned;
    returned_.clear();
    batch_mapper_ = &mapper;
  }

  // The cache key of an INSERT's SQL, written in place: three temporary strings per statement
  // were a tenth of a one-object flush.
  static std::string insert_sql_key(bool use_last_id, std::uint64_t omitted, std::size_t rows) {
    std::array<char, 64> buffer;
    const std::string_view prefix = use_last_id ? "insert-id/" : "insert/";
    char* const end = buffer.data() + buffer.size();
    char* out = std::copy(prefix.begin(), prefix.end(), buffer.data());
    out = std::to_chars(out, end - 1, omitted).ptr; // room left for the '/'
    *out++ = '/';
    out = std::to_chars(out, end, rows).ptr;
    return std::string(buffer.data(), out);
  }

  std::string insert_sql(const MapperBase& mapper, const ColumnList& inserted,
                         const ColumnList& returned, std::size_t rows) const {
    std::vector<std::string> names;
    for (std::size_t i : inserted)
      names.push_back(mapper.columns()[i].name);
    Insert statement = insert(mapper.table());
    if (names.empty()) {
      // Every column is generated: INSERT ... DEFAULT VALUES, one row per statement.
    } else {
      statement = std::move(statement).columns(names).rows(
          std::vector<Value>(rows * names.size(), Value(std::int64_t{0})));
    }
    std::vector<Expr> returning;
    for (std::size_t i : returned)
      returning.push_back(mapper.table().c(mapper.columns()[i].name));
    if (!returning.empty()) statement = std::move(statement).returning_list(std::move(returning));
    return compile(statement, dialect_).sql;
  }

  void finish_insert() {
    const MapperBase& mapper = *batch_mapper_;
    if (!returned_columns_.empty()) {
      if (returned_.empty())
        throw IntegrityError("flush: the database generated no key for '" + mapper.table_name() +
                                 "." + mapper.columns()[returned_columns_.front()].name +
                                 "' (its INSERT stored no row, or the row has no key)",
                             "", 0, "");
      if (returned_.size() != batch_.size())
        throw InternalError("INSERT returned " + std::to_string(returned_.size()) +
                                " generated keys for " + std::to_string(batch_.size()) + " rows",
                            "", 0, "");
      for (const Value& key : returned_)
        if (key.is_null())
          throw IntegrityError("flush: the database generated no key for '" + mapper.table_name() +
                                   "." + mapper.columns()[returned_columns_.front()].name +
                                   "' (it is NULL): give the object its key, or let the table "
                                   "generate it",
                               "", 0, "");
      // RETURNING rows come in VALUES order: PostgreSQL and SQLite return each row as they
      // insert it, in order. (Sorting them by key, as this did, was wrong wherever keys do not
      // grow: a DEFAULT that draws them at random, a descending sequence.)
      const std::size_t column = returned_columns_.front();
      for (std::size_t i = 0; i < batch_.size(); ++i) {
        mapper.set_column_value(batch_[i]->object, column, returned_[i]);
        generated_.push_back(batch_[i]);
      }
    }
    std::string key; // encoded here, then copied into the state's compact key
    for (InstanceState* state : batch_) {
      mapper.object_identity(state->object, key);
      state->identity = key;
      propagate_to_children(*state);
    }
  }

  // ---- updates ---------------------------------------------------------------------------

  void collect_updates() {
    for (auto& [entry, old] : switches_) {
      const MapperBase& mapper = *entry.state->mapper;
      session_.sync_references(*entry.state);
      std::uint64_t mask = 0;
      for (std::size_t i = 0; i < mapper.columns().size(); ++i)
        if (!mapper.columns()[i].primary_key) mask |= 1ull << i;
      // A table of key columns only: the row is already what the new object says.
      if (mask != 0) updates_.emplace_back(entry.state, mask);
    }
    session_.for_each_changed([&](const MapperBase& mapper, Entry& entry, std::uint64_t mask) {
      for (std::size_t k : mapper.primary_key())
        if (mask & (1ull << k))
          throw ArgumentError("flush: the primary key of a persistent '" + mapper.table_name() +
                              "' was changed; Retort does not update primary keys");
      updates_.emplace_back(entry.state, mask);
      return true;
    });
  }

  bool next_update(PlanStep& step) {
    if (update_position_ >= updates_.size()) return false;
    const auto [state, mask] = updates_[update_position_++];
    const MapperBase& mapper = *state->mapper;
    const auto& columns = mapper.columns();
    // A bulk update changes the same columns of many objects: ask the mapper's cache (a
    // string key, a lock, a hash lookup) only when the class or the columns change.
    if (&mapper != last_update_mapper_ || mask != last_update_mask_) {
      last_update_keys_ = 0;
      for (std::size_t k : mapper.primary_key())
        last_update_keys_ |= 1ull << k;
      last_update_sql_ = &mapper.statement_sql(&dialect_, "update/" + std::to_string(mask), [&] {
        const FromItem& table = mapper.table();
        Update statement = update(table);
        for (std::size_t i = 0; i < columns.size(); ++i)
          if (mask & (1ull << i))
            statement = std::move(statement).set(columns[i].name, column_typed_slot());
        for (std::size_t k : mapper.primary_key())
          statement = std::move(statement).where(table.c(columns[k].name) == column_typed_slot());
        return compile(statement, dialect_).sql;
      });
      last_update_mapper_ = &mapper;
      last_update_mask_ = mask;
      last_update_nan_checked_ = dialect_.stores_nan() ? 0 : floating_columns(mapper) & mask;
    }
    if (last_update_nan_checked_ != 0) check_no_nan(*state, last_update_nan_checked_);
    // The SET values, then the key in the WHERE clause (primary_key() is in column order, as
    // append_bound_values() writes); borrowed, as INSERTs.
    step.params.clear();
    mapper.append_bound_values(state->object, mask, step.params);
    mapper.append_bound_values(state->object, last_update_keys_, step.params);
    step.shared_sql = last_update_sql_;
    step.sink = &check("UPDATE", mapper, 1);
    step.independent = true;
    return true;
  }

  // ---- many-to-many association rows -------------------------------------------------------

  struct Association {
    const RelationshipInfo* rel;
    Value local;
    Value remote;
  };

  void collect_associations() {
    // Net effect per row: an add then a remove of the same pair writes nothing.
    std::map<std::string, std::pair<Association, int>> net;
    for (auto& change : session_.association_changes()) {
      const RelationshipInfo& rel = change.mapper->relationships()[change.relationship];
      const MapperBase& target = rel.target_mapper();
      InstanceState& owner = session_.state_for(*change.mapper, change.owner);
      InstanceState& other = session_.state_for(target, change.target);
      Association a{&rel, key_value(owner, rel.local_column), key_value(other, rel.remote_column)};
      // One row, whichever side recorded it: both sides of a back_populates pair may report
      // the same link (an append, then the cascade that adds the other side).
      std::string key = rel.secondary + "\x1f";
      const bool local_first = rel.secondary_local < rel.secondary_remote;
      encode_identity(local_first ? a.local : a.remote, key);
      encode_identity(local_first ? a.remote : a.local, key);
      auto& slot = net.try_emplace(key, a, 0).first->second;
      slot.second += change.added ? 1 : -1;
      slot.second = std::clamp(slot.second, -1, 1);
    }
    for (auto& [key, item] : net) {
      if (item.second > 0) association_inserts_.push_back(item.first);
      if (item.second < 0) association_deletes_.push_back(item.first);
    }
  }

  bool next_association(PlanStep& step, std::vector<Association>& list) {
    const bool inserting = &list == &association_inserts_;
    std::size_t& position = inserting ? association_insert_position_ : association_delete_position_;
    if (position >= list.size()) return false;
    const Association& a = list[position++];
    const RelationshipInfo& rel = *a.rel;
    const FromItem& link = rel.secondary_table;
    CompiledSql compiled;
    if (inserting) {
      Insert statement = insert(link).values(
          {{rel.secondary_local, Expr(a.local)}, {rel.secondary_remote, Expr(a.remote)}});
      compiled = compile(statement, dialect_, &session_.engine().statement_cache());
    } else {
      Delete statement = delete_(link).where(link.c(rel.secondary_local) == Expr(a.local) &&
                                             link.c(rel.secondary_remote) == Expr(a.remote));
      compiled = compile(statement, dialect_, &session_.engine().statement_cache());
    }
    step.sql = std::move(compiled.sql);
    step.params = std::move(compiled.params);
    step.sink = nullptr;
    step.independent = true;
    return true;
  }

  // ---- deletes ---------------------------------------------------------------------------

  bool next_delete(PlanStep& step) {
    if (delete_position_ >= deletes_.size()) return false;
    const MapperBase& mapper = *deletes_[delete_position_].state->mapper;
    const auto& pk = mapper.primary_key();
    const FromItem& table = mapper.table();
    step.params.clear();
    std::size_t count = 0;
    if (pk.size() == 1) {
      while (delete_position_ < deletes_.size() && count < max_keys_per_delete &&
             deletes_[delete_position_].state->mapper == &mapper) {
        step.params.push_back(key_value(*deletes_[delete_position_].state, pk[0]));
        ++delete_position_;
        ++count;
      }
      step.shared_sql = &mapper.statement_sql(&dialect_, "delete/" + std::to_string(count), [&] {
        std::vector<Expr> keys(count, column_typed_slot());
        return compile(delete_(table).where(table.c(mapper.columns()[pk[0]].name).in_(keys)),
                       dialect_)
            .sql;
      });
    } else {
      for (std::size_t k : pk)
        step.params.push_back(key_value(*deletes_[delete_position_].state, k));
      ++delete_position_;
      count = 1;
      step.shared_sql = &mapper.statement_sql(&dialect_, "delete/composite", [&] {
        Delete statement = delete_(table);
        for (std::size_t k : pk)
          statement =
              std::move(statement).where(table.c(mapper.columns()[k].name) == column_typed_slot());
        return compile(statement, dialect_).sql;
      });
    }
    step.sink = &check("DELETE", mapper, static_cast<std::int64_t>(count));
    step.independent = true;
    return true;
  }

  SessionAccess session_;
  const SqlDialect& dialect_;
  Phase phase_ = Phase::inserts;
  RowCountChecks checks_;
  RowSink& check(const char* verb, const MapperBase& mapper, std::int64_t expected) {
    checks_.expect(verb, mapper, expected);
    return checks_;
  }

  bool commit_follows_ = false;
  InlineOne<InsertGroup> inserts_;
  std::size_t insert_group_ = 0;
  std::size_t insert_position_ = 0;
  // The objects of the INSERT under way (the flush's lists hold them alive).
  InlineOne<InstanceState*> batch_;
  const MapperBase* batch_mapper_ = nullptr;
  ColumnList returned_columns_;
  InlineOne<Value> returned_;
  // The shape of one-row INSERTs where a multi-row one could not know its keys.
  InsertShape fallback_shape_;
  // Classes whose one-row INSERT took its key from DriverConnection::generated_key() (see undo()).
  boost::container::small_vector<const MapperBase*, 2> driver_keyed_;
  // States whose keys this flush generated, for undo(); a list, not a set: only a failed
  // flush searches it, while every inserted object is added to it.
  InlineOne<const InstanceState*> generated_;

  // Changed objects and their changed columns. States, not entries: the identity map holds the
  // objects until the flush is over, and a bulk update would count references per row.
  std::vector<std::pair<InstanceState*, std::uint64_t>> updates_;
  std::size_t update_position_ = 0;
  // The SQL of the last UPDATE built, for the next one of the same shape.
  const MapperBase* last_update_mapper_ = nullptr;
  std::uint64_t last_update_mask_ = 0;
  // Its class's primary key columns, as a bit per column.
  std::uint64_t last_update_keys_ = 0;
  // Its floating-point columns set, where the dialect cannot store NaN.
  std::uint64_t last_update_nan_checked_ = 0;
  const std::string* last_update_sql_ = nullptr;

  std::vector<Association> association_inserts_;
  std::vector<Association> association_deletes_;
  std::size_t association_insert_position_ = 0;
  std::size_t association_delete_position_ = 0;

  std::vector<Entry> deletes_;
  std::size_t delete_position_ = 0;
  // Row switches: the pending object, and the deleted one whose row it takes over.
  std::vector<std::pair<Entry, Entry>> switches_;
};

} // namespace

FlushJob::~FlushJob() = default;

namespace {

class FlushPlanJob final : public FlushJob {
public:
  explicit FlushPlanJob(SessionCore& session) : plan_(session) {}
  Plan& plan() override { return plan_; }
  void commit_follows() noexcept override { plan_.commit_follows(); }
  FlushPlan& flush_plan() { return plan_; }

private:
  FlushPlan plan_;
};

// The blocking flush() and commit() build their job on their own stack (begin_flush() hands an
// executor one on the heap, a block per commit); if that fails, the flush is over. Returned as
// a prvalue, built in place: a std::optional slot was zeroed whole (576 bytes) per commit.
FlushPlanJob build_job(SessionCore& session, bool& flushing) {
  try {
    return FlushPlanJob(session);
  } catch (...) {
    flushing = false;
    throw;
  }
}

} // namespace

bool SessionCore::start_flush() {
  check_usable();
  if (flushing_) return false;
  flushing_ = true;
  return true;
}

std::unique_ptr<FlushJob> SessionCore::begin_flush() {
  if (!start_flush()) return nullptr;
  try {
    return std::make_unique<FlushPlanJob>(*this);
  } catch (...) {
    flushing_ = false;
    throw;
  }
}

void SessionCore::end_flush(FlushJob& job, std::exception_ptr error) {
  flushing_ = false;
  auto& flush = static_cast<FlushPlanJob&>(job).flush_plan();
  if (!error) {
    flush.commit_states();
    // Flags raised while the flush ran were its own (foreign keys it set, before it collected
    // its updates): all are written. (A session belongs to one coroutine at a time, so nothing
    // else flags while an async flush is suspended.)
    changes_.clear_flags();
    return;
  }
  flush.undo();
  // Nothing partial may stay in the database: the whole transaction goes, and the session
  // insists on rollback() before further use, as SQLAlchemy does.
  if (transaction_) {
    abort_transaction();
    needs_rollback_ = true;
  }
  std::rethrow_exception(error);
}

// commit(): the flush's last INSERT, when nothing can follow it, goes out with the COMMIT, so
// that add() + commit() of one object is one round trip on PostgreSQL, as raw autocommit is.
void SessionCore::flush_and_commit() {
  // Nothing to write and no transaction to end: a commit takes no connection (on a SQLite
  // :memory: engine that one connection may be another session's).
  if (!transaction_ && !flushing_ && !has_changes()) return;
  if (!start_flush()) {
    if (!transaction_) return;
    try {
      transaction_->commit();
    } catch (...) {
      commit_failed();
      throw;
    }
    return;
  }
  FlushPlanJob job = build_job(*this, flushing_);
  job.commit_follows();
  std::exception_ptr error;
  std::exception_ptr commit_error;
  try {
    commit_error = run_and_commit(job.plan());
  } catch (...) {
    error = std::current_exception();
  }
  end_flush(job, error);
  if (commit_error) {
    commit_failed();
    std::rethrow_exception(commit_error);
  }
}

void SessionCore::commit_failed() noexcept {
  // Nothing of the transaction was kept; as after a failed flush, the session insists on
  // rollback() (which puts the objects' states back) before further use.
  abort_transaction();
  needs_rollback_ = true;
}

void SessionCore::flush() {
  if (!start_flush()) return;
  FlushPlanJob job = build_job(*this, flushing_);
  std::exception_ptr error;
  try {
    run(job.plan());
  } catch (...) {
    error = std::current_exception();
  }
  end_flush(job, error);
}

} // namespace retort::detail

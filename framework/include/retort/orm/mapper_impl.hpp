// Mapper<T>: the MapperBase of a declaratively mapped class, generated from Model<T>::fields.
// Hot paths (hydrating rows, snapshots, diffs) are folds over the field list, so each column is
// read straight into its member with no boxing and no per-column indirect call.
#pragma once

#include <retort/core/error.hpp>
#include <retort/engine/column_traits.hpp>
#include <retort/orm/detail/application_states.hpp>
#include <retort/orm/detail/snapshot_text.hpp>
#include <retort/orm/mapper.hpp>
#include <retort/orm/model.hpp>
#include <retort/orm/value_row.hpp>

#include <bit>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace retort {

template <Mapped T> const MapperBase& mapper_of();

namespace detail {

template <typename T> constexpr const auto& model_fields() { return Model<T>::fields.items; }

template <typename T>
inline constexpr std::size_t field_count =
    std::tuple_size_v<std::remove_cvref_t<decltype(model_fields<T>())>>;

template <typename T, std::size_t I>
using field_type =
    std::remove_cvref_t<std::tuple_element_t<I, std::remove_cvref_t<decltype(model_fields<T>())>>>;

// Positions of the column fields among all fields, in order.
template <typename T> constexpr auto column_positions() {
  constexpr std::size_t n = field_count<T>;
  std::array<std::size_t, n> out{};
  std::size_t count = 0;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((is_column_field<field_type<T, I>>::value ? (out[count++] = I, 0) : 0), ...);
  }
  (std::make_index_sequence<n>{});
  return std::pair{out, count};
}
template <typename T> inline constexpr auto column_positions_v = column_positions<T>();
template <typename T> inline constexpr std::size_t column_count = column_positions_v<T>.second;
template <typename T, std::size_t K>
inline constexpr const auto&
    column_field = std::get<column_positions_v<T>.first[K]>(model_fields<T>());

template <typename T, std::size_t K>
using column_member_t = typename std::remove_cvref_t<decltype(column_field<T, K>)>::Member;

// The snapshot of an object: a tuple of its column members' types.
template <typename T, typename Seq> struct SnapshotOf;
template <typename T, std::size_t... K> struct SnapshotOf<T, std::index_sequence<K...>> {
  using type = std::tuple<typename SnapshotMember<column_member_t<T, K>>::type...>;
};
template <typename T>
using snapshot_t = typename SnapshotOf<T, std::make_index_sequence<column_count<T>>>::type;

/// True when T maps relationships (its objects carry RelationshipBits).
template <typename T> inline constexpr bool has_relationships = field_count<T> > column_count<T>;
/// The relationship bits of a class without relationships: nothing.
struct NoRelationships {};

template <typename M> struct is_optional : std::false_type {};
template <typename M> struct is_optional<std::optional<M>> : std::true_type {};

/// The state of one object of class T: the session's bookkeeping plus the snapshot of its
/// column values taken at load or flush.
/// The snapshot of `object`'s column members, built in place.
template <typename T, std::size_t... K>
snapshot_t<T> snapshot_from(const T& object, std::index_sequence<K...>) {
  return snapshot_t<T>(object.*(column_field<T, K>.member)...);
}

template <typename T> struct TrackedState final : InstanceState {
  TrackedState() = default;
  /// A state whose snapshot is taken from `object` as it is now. A loaded object's snapshot is
  /// built straight from its members: no empty snapshot made first and then assigned over.
  explicit TrackedState(const T& object)
      : snapshot(snapshot_from(object, std::make_index_sequence<column_count<T>>{})) {
    has_snapshot = true;
  }

  /// Meaningful while has_snapshot is set. Not a std::optional: its engaged flag repeated
  /// has_snapshot and cost 4-8 bytes per loaded object.
  snapshot_t<T> snapshot;
  /// The relationship bits, for a class that has relationships.
  [[no_unique_address]] std::conditional_t<has_relationships<T>, RelationshipBits, NoRelationships>
      bits;

  RelationshipBits* relationship_bits() noexcept override {
    if constexpr (has_relationships<T>)
      return &bits;
    else
      return nullptr;
  }
};

/// The deleter of every ORM-made object, which is also where the object and its state live:
/// both are built inside the shared_ptr control block (see Mapper::make_tracked), so an object,
/// its state and its snapshot cost one allocation, and get_deleter() finds the state from any
/// shared_ptr to the object. The pointer handed out aliases the block; the deleter destroys the
/// object in place. Both live in raw storage so that the deleter is cheap to move: libstdc++
/// moves a deleter several times while building the control block, always still empty.
template <typename T> struct TrackedDeleter {
  /// Where the state is built.
  alignas(TrackedState<T>) std::byte state_storage[sizeof(TrackedState<T>)];
  /// Where the object is built.
  alignas(T) std::byte object_storage[sizeof(T)];
  /// The state was built (and is destroyed with the control block).
  bool holds_state = false;
  /// The object was built and not yet destroyed.
  bool holds_object = false;

  TrackedDeleter() noexcept {}
  TrackedDeleter(TrackedDeleter&&) noexcept {}
  TrackedDeleter& operator=(TrackedDeleter&&) = delete;
  // The temporaries libstdc++ moves through are empty: only the control block's own copy
  // holds anything, so the common case is a test inlined where the temporary dies.
  ~TrackedDeleter() {
    if (holds_object || holds_state) destroy_all();
  }

  /// The object's state (valid once holds_state is set).
  TrackedState<T>* state() noexcept {
    return std::launder(reinterpret_cast<TrackedState<T>*>(state_storage));
  }
  /// Called by shared_ptr when the last owner goes: destroys the object, keeps the state.
  void operator()(T*) noexcept {
    // `self` is a weak reference to this very control block: released here, when the object
    // dies, or the block would keep its own weak count above zero and never be freed.
    if (holds_state) state()->self.reset();
    destroy_object();
  }
  /// Destroys the object (unless already gone) and the state.
  void destroy_all() noexcept {
    destroy_object();
    if (holds_state) std::destroy_at(state());
  }
  /// Destroys the object in place, once.
  void destroy_object() noexcept {
    if (!holds_object) return;
    holds_object = false;
    std::destroy_at(std::launder(reinterpret_cast<T*>(object_storage)));
  }
};

template <typename T, typename Member> struct MemberKind;
template <typename T, typename U> struct MemberKind<T, Collection<U>> {
  using target = U;
  static constexpr bool collection = true;
};
template <typename T, typename U> struct MemberKind<T, Ref<U>> {
  using target = U;
  static constexpr bool collection = false;
};

template <typename T, typename F> ColumnInfo make_column_info(const F& f) {
  using M = typename F::Member;
  ColumnInfo c;
  c.name = f.name;
  c.type = f.type;
  c.nullable =
      ColumnTraits<M>::nullable && !(f.flags & column_not_null) && !(f.flags & column_primary_key);
  c.primary_key = f.flags & column_primary_key;
  c.unique = f.flags & column_unique;
  c.index = f.flags & column_index;
  c.autoincrement = f.flags & column_no_autoincrement ? false : c.primary_key;
  if (f.foreign_key.target != nullptr) {
    std::string target = f.foreign_key.target;
    auto dot = target.find('.');
    if (dot == std::string::npos)
      throw ArgumentError(std::string("foreign_key(\"") + target + "\") on " + Model<T>::table +
                          "." + f.name + ": expected \"table.column\"");
    c.fk_table = target.substr(0, dot);
    c.fk_column = target.substr(dot + 1);
    c.on_delete = f.foreign_key.on_delete;
    c.on_update = f.foreign_key.on_update;
  }
  if (f.server_default.sql != nullptr) c.server_default = f.server_default.sql;
  return c;
}

template <typename Target, typename Order> std::string order_column_name(const Order& order) {
  if constexpr (std::is_same_v<Order, NoOrder>) {
    return {};
  } else {
    std::string name;
    constexpr std::size_t n = column_count<Target>;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      auto check = [&](const auto& f) {
        if constexpr (std::is_same_v<decltype(f.member), decltype(order.member)>)
          if (f.member == order.member) name = f.name;
      };
      (check(column_field<Target, K>), ...);
    }
    (std::make_index_sequence<n>{});
    if (name.empty())
      throw ArgumentError(std::string("order_by() names a member that is not a mapped column of ") +
                          Model<Target>::table);
    return name;
  }
}

template <typename T, std::size_t J> RelationshipInfo make_relationship_info() {
  constexpr const auto& f = std::get<J>(model_fields<T>());
  using F = std::remove_cvref_t<decltype(f)>;
  using M = typename F::Member;
  using Kind = MemberKind<T, M>;
  using U = typename Kind::target;
  constexpr auto member = f.member;
  RelationshipInfo r;
  r.name = f.name;
  r.is_collection = Kind::collection;
  r.target_mapper = &mapper_of<U>;
  if (f.back_populates) r.back_populates = f.back_populates;
  if (f.secondary) r.secondary = f.secondary;
  if (f.via) r.via = f.via;
  r.cascade = f.cascade;
  r.strategy = f.strategy;
  if constexpr (!std::is_same_v<std::remove_cvref_t<decltype(f.order)>, NoOrder>) {
    r.order_column = order_column_name<U>(f.order);
    r.order_descending = f.order.descending;
  }
  r.set_hook = [](void* owner, RelationshipHook hook) {
    (static_cast<T*>(owner)->*member).set_hook(hook);
  };
  r.states_items = [](const void* owner) {
    const auto& m = static_cast<const T*>(owner)->*member;
    return m.loaded() && (m.bound() || !m.unset());
  };
  if constexpr (Kind::collection) {
    r.items = [](void* owner) {
      auto& raw = (static_cast<T*>(owner)->*member).raw();
      return std::vector<std::shared_ptr<void>>(raw.begin(), raw.end());
    };
    r.assign = [](void* owner, std::vector<std::shared_ptr<void>> items) {
      auto& raw = (static_cast<T*>(owner)->*member).raw();
      raw.clear();
      raw.reserve(items.size());
      for (auto& item : items)
        raw.push_back(std::static_pointer_cast<U>(std::move(item)));
    };
    r.mirror = [](void* owner, const std::shared_ptr<void>& item, bool added) {
      auto& raw = (static_cast<T*>(owner)->*member).raw();
      auto typed = std::static_pointer_cast<U>(item);
      auto found = std::find(raw.begin(), raw.end(), typed);
      if (added && found == raw.end()) raw.push_back(typed);
      if (!added && found != raw.end()) raw.erase(found);
    };
  } else {
    r.items = [](void* owner) {
      auto target = (static_cast<T*>(owner)->*member).raw();
      std::vector<std::shared_ptr<void>> out;
      if (target) out.push_back(std::move(target));
      return out;
    };
    r.assign = [](void* owner, std::vector<std::shared_ptr<void>> items) {
      auto& ref = static_cast<T*>(owner)->*member;
      ref.set_raw(items.empty() ? nullptr : std::static_pointer_cast<U>(items.front()));
    };
    r.mirror = [](void* owner, const std::shared_ptr<void>& item, bool added) {
      auto& ref = static_cast<T*>(owner)->*member;
      if (added)
        ref.set_raw(std::static_pointer_cast<U>(item));
      else if (ref.raw() == item)
        ref.set_raw(nullptr);
    };
  }
  return r;
}

} // namespace detail

/// The mapper of a declaratively mapped class.
template <Mapped T> class Mapper final : public MapperBase {
  static constexpr std::size_t columns_n = detail::column_count<T>;
  static_assert(columns_n <= 64, "a mapped class may have at most 64 columns (dirty bitmask)");
  static_assert(detail::field_count<T> - columns_n <= 64,
                "a mapped class may have at most 64 relationships (InstanceState bitmasks)");
  using Snapshot = detail::snapshot_t<T>;
  using Deleter = detail::TrackedDeleter<T>;
  using State = detail::TrackedState<T>;
  template <std::size_t K> static constexpr auto member = detail::column_field<T, K>.member;
  using Columns = std::make_index_sequence<columns_n>;

public:
  Mapper() : MapperBase(Model<T>::table, column_infos(), relationship_infos(), classical()) {}

  const char* class_name() const noexcept override { return typeid(T).name(); }

  std::shared_ptr<void> load_new(const DriverStatement& row, int first,
                                 InstanceState*& state) const override {
    auto [object, block] = make_block();
    hydrate_new(*object, row, first, Columns{});
    // The snapshot here, not by the caller: one virtual call less per row.
    state = add_state(object, *block, *object);
    return object;
  }

  void load_into(InstanceState& state, const DriverStatement& row, int first) const override {
    hydrate(*static_cast<T*>(state.object), row, first, Columns{});
    take_snapshot(state);
  }

  bool row_identity(const DriverStatement& row, int first, std::string& key) const override {
    key.clear();
    for (std::size_t k : primary_key()) {
      const int i = first + static_cast<int>(k);
      if (!encode_row_key(row, i, k, key)) return false;
    }
    return true;
  }

  void object_identity(const void* object, std::string& key) const override {
    key.clear();
    for (std::size_t k : primary_key())
      with_column(k, [&]<std::size_t K>() {
        using M = detail::column_member_t<T, K>;
        const M& value = static_cast<const T*>(object)->*member<K>;
        if constexpr (std::is_integral_v<M> && !std::is_same_v<M, bool>)
          encode_integer_key(static_cast<std::int64_t>(value), key);
        else
          encode_identity(to_value(value), key);
      });
  }

  Value column_value(const void* object, std::size_t column) const override {
    Value out;
    with_column(column, [&]<std::size_t K>() {
      out = to_value(static_cast<const T*>(object)->*member<K>);
    });
    return out;
  }

  void append_bound_values(const void* object, std::uint64_t columns,
                           std::vector<Value>& out) const override {
    append_bound(*static_cast<const T*>(object), columns, out, Columns{});
  }

  // Numbers and strings are never NULL; optionals and types mapped through custom traits can be.
  template <typename M>
  static constexpr bool may_be_null = !(std::is_arithmetic_v<M> || std::is_same_v<M, std::string>);

  std::uint64_t nullable_members() const noexcept override {
    return []<std::size_t... K>(std::index_sequence<K...>) {
      return ((may_be_null<detail::column_member_t<T, K>> ? (1ull << K) : 0ull) | ... | 0ull);
    }
    (std::make_index_sequence<columns_n>{});
  }

  bool column_is_null(const void* object, std::size_t column) const override {
    bool null = false;
    with_column(column, [&]<std::size_t K>() {
      using M = detail::column_member_t<T, K>;
      const M& value = static_cast<const T*>(object)->*member<K>;
      if constexpr (detail::is_optional<M>::value)
        null = !value.has_value();
      else if constexpr (!may_be_null<M>)
        null = false;
      else
        null = to_value(value).is_null();
    });
    return null;
  }

  void set_column_value(void* object, std::size_t column, const Value& value) const override {
    ValueRow row(std::span<const Value>(&value, 1));
    with_column(column, [&]<std::size_t K>() {
      using M = detail::column_member_t<T, K>;
      static_cast<T*>(object)->*member<K> = ColumnTraits<M>::read(row, 0);
    });
  }

  void reset_column(void* object, std::size_t column) const override {
    with_column(column, [&]<std::size_t K>() {
      using M = detail::column_member_t<T, K>;
      static_cast<T*>(object)->*member<K> = M{};
    });
  }

  void set_column_from_row(void* object, std::size_t column, const DriverStatement& row,
                           int i) const override {
    with_column(column, [&]<std::size_t K>() {
      using M = detail::column_member_t<T, K>;
      static_cast<T*>(object)->*member<K> = ColumnTraits<M>::read(row, i);
    });
  }

  std::uint64_t changed_columns(const InstanceState& state) const override {
    const auto& tracked = static_cast<const State&>(state);
    if (!state.has_snapshot) return columns_n == 64 ? ~0ull : ((1ull << columns_n) - 1);
    return diff(*static_cast<const T*>(state.object), tracked.snapshot, Columns{});
  }

  std::size_t find_changed(std::span<const detail::IdentityEntry> entries, std::size_t from,
                           bool may_drop, std::uint64_t& mask) const override {
    // The hot loop of a flush when the application holds many objects: no call per object.
    for (std::size_t i = from; i < entries.size(); ++i) {
      const InstanceState& state = *entries[i].state;
      if (state.status != ObjectState::persistent) continue;
      mask = Mapper::changed_columns(state);
      if (mask != 0) return i;
      // only_the_map_holds() without its virtual call for classes without relationships.
      if (may_drop && entries[i].object.use_count() == 1 &&
          (!detail::has_relationships<T> || state.assigned_references() == 0))
        return i;
    }
    return entries.size();
  }

  void take_snapshot(InstanceState& state) const override {
    auto& tracked = static_cast<State&>(state);
    const T& object = *static_cast<const T*>(state.object);
    // Assigned in place: a snapshot retaken after a flush keeps its strings' buffers.
    refresh_snapshot(object, tracked.snapshot, Columns{});
    state.has_snapshot = true;
  }

  void restore_snapshot(InstanceState& state) const override {
    auto& tracked = static_cast<State&>(state);
    if (!state.has_snapshot) return;
    restore(*static_cast<T*>(state.object), tracked.snapshot, Columns{});
  }

  InstanceState* state_of(const std::shared_ptr<void>& object) const noexcept override {
    Deleter* block = std::get_deleter<Deleter>(object);
    if (block != nullptr && block->holds_state) return block->state();
    // An object the application made: its state, once the ORM has seen it, is kept aside.
    InstanceState* state = block == nullptr ? detail::application_state(object) : nullptr;
    return state != nullptr && state->mapper == this ? state : nullptr;
  }

  std::unique_ptr<InstanceState> make_state() const override {
    auto state = std::make_unique<State>();
    state->mapper = this;
    return state;
  }

  std::shared_ptr<void> adopt_copy(const void* object, InstanceState*& state) const override {
    return make_tracked(state, *static_cast<const T*>(object));
  }

  /// A new object built from `args` inside a control block that also holds its state.
  template <typename... Args>
  std::shared_ptr<T> make_tracked(InstanceState*& state, Args&&... args) const {
    auto [out, block] = make_block(std::forward<Args>(args)...);
    state = add_state(out, *block);
    return out;
  }

  /// Index of the column mapped to `m`; ArgumentError when the member is not a column.
  template <typename M> std::size_t column_of(M T::*m) const {
    std::size_t found = columns_n;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      auto check = [&]<std::size_t I>(std::integral_constant<std::size_t, I>) {
        if constexpr (std::is_same_v<std::remove_cv_t<decltype(member<I>)>, M T::*>)
          if (member<I> == m) found = I;
      };
      (check(std::integral_constant<std::size_t, K>{}), ...);
    }
    (Columns{});
    if (found == columns_n)
      throw ArgumentError(std::string("the member is not a mapped column of ") + Model<T>::table);
    return found;
  }

  /// Index of the relationship mapped to `m`; ArgumentError when the member is not one.
  template <typename M> std::size_t relationship_of(M T::*m) const {
    std::size_t found = 0;
    bool ok = false;
    std::size_t index = 0;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      auto check = [&]<std::size_t J>(std::integral_constant<std::size_t, J>) {
        using F = detail::field_type<T, J>;
        if constexpr (is_relationship_field<F>::value) {
          if constexpr (std::is_same_v<
                            std::remove_cv_t<std::remove_reference_t<
                                decltype(std::get<J>(detail::model_fields<T>()).member)>>,
                            M T::*>) {
            if (!ok && std::get<J>(detail::model_fields<T>()).member == m) {
              found = index;
              ok = true;
            }
          }
          ++index;
        }
      };
      (check(std::integral_constant<std::size_t, I>{}), ...);
    }
    (std::make_index_sequence<detail::field_count<T>>{});
    if (!ok)
      throw ArgumentError(std::string("the member is not a mapped relationship of ") +
                          Model<T>::table);
    return found;
  }

private:
  static const Table* classical() {
    if constexpr (requires { Model<T>::schema(); })
      return &Model<T>::schema();
    else
      return nullptr;
  }

  static std::vector<ColumnInfo> column_infos() {
    std::vector<ColumnInfo> out;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      (out.push_back(detail::make_column_info<T>(detail::column_field<T, K>)), ...);
    }
    (Columns{});
    // Classical mapping: the Table defined on its own is the truth about every column.
    if constexpr (requires { Model<T>::schema(); })
      for (auto& info : out)
        info = column_info_from_table(Model<T>::schema(), info.name);
    return out;
  }

  static std::vector<RelationshipInfo> relationship_infos() {
    std::vector<RelationshipInfo> out;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      auto add = [&]<std::size_t J>(std::integral_constant<std::size_t, J>) {
        using F = detail::field_type<T, J>;
        if constexpr (is_relationship_field<F>::value)
          out.push_back(detail::make_relationship_info<T, J>());
      };
      (add(std::integral_constant<std::size_t, I>{}), ...);
    }
    (std::make_index_sequence<detail::field_count<T>>{});
    return out;
  }

  // A control block holding an object built from `args`, and no state yet.
  template <typename... Args>
  static std::pair<std::shared_ptr<T>, Deleter*> make_block(Args&&... args) {
    // The owner starts out null: the deleter is called with that null pointer and destroys
    // the object it holds; the pointer handed out aliases the owner.
    std::shared_ptr<T> owner(static_cast<T*>(nullptr), Deleter{});
    auto* block = std::get_deleter<Deleter>(owner);
    T* object = ::new (static_cast<void*>(block->object_storage)) T(std::forward<Args>(args)...);
    block->holds_object = true;
    return {std::shared_ptr<T>(std::move(owner), object), block};
  }

  // Builds the state of the object `out` in its block, from `state_args` (nothing, or the
  // object to take the snapshot from). Default-initialised, not State(): every member has its
  // initialiser, and value-initialisation would first zero the whole state.
  template <typename... StateArgs>
  State* add_state(const std::shared_ptr<T>& out, Deleter& block,
                   const StateArgs&... state_args) const {
    State* tracked;
    if constexpr (sizeof...(StateArgs) == 0)
      tracked = ::new (static_cast<void*>(block.state_storage)) State;
    else
      tracked = ::new (static_cast<void*>(block.state_storage)) State(state_args...);
    block.holds_state = true;
    tracked->mapper = this;
    tracked->object = out.get();
    tracked->self = out;
    return tracked;
  }

  template <typename F> static void with_column(std::size_t column, F&& f) {
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      ((column == K ? (f.template operator()<K>(), 0) : 0), ...);
    }
    (Columns{});
  }

  // The bytes encode_identity() writes for an integer Value, without boxing one per object.
  static void encode_integer_key(std::int64_t v, std::string& key) {
    char bytes[1 + sizeof v]; // one append, not two: every loaded row encodes its key
    bytes[0] = static_cast<char>(ValueKind::integer);
    std::memcpy(bytes + 1, &v, sizeof v);
    key.append(bytes, sizeof bytes);
  }

  // False when the key column is NULL (no object in this row, e.g. an outer join's empty side).
  bool encode_row_key(const DriverStatement& row, int i, std::size_t column,
                      std::string& key) const {
    bool present = true;
    with_column(column, [&]<std::size_t K>() {
      using M = detail::column_member_t<T, K>;
      if constexpr (std::is_integral_v<M> && !std::is_same_v<M, bool>) {
        // A NULL reads as 0 (see DriverStatement): only a 0 needs the NULL check.
        const std::int64_t value = row.get_int64(i);
        if (value == 0 && row.is_null(i)) {
          present = false;
          return;
        }
        // Through the member's type, as object_identity() sees it: a value out of its range
        // must give the same key both ways (hydrating the member reports the range error).
        encode_integer_key(static_cast<std::int64_t>(static_cast<M>(value)), key);
      } else {
        if (row.is_null(i)) {
          present = false;
          return;
        }
        encode_identity(to_value(ColumnTraits<M>::read(row, i)), key);
      }
    });
    return present;
  }

  template <std::size_t... K>
  static void hydrate(T& object, const DriverStatement& row, int first, std::index_sequence<K...>) {
    ((object.*member<K> = ColumnTraits<detail::column_member_t<T, K>>::read(row, first + int(K))),
     ...);
  }
  // A fresh object's members are built straight from the row: assigning would build each
  // value in a temporary and move it into the default-made member (two string moves per row
  // of a class with two text columns).
  template <std::size_t... K>
  static void hydrate_new(T& object, const DriverStatement& row, int first,
                          std::index_sequence<K...>) {
    (build_member<K>(object, row, first + int(K)), ...);
  }
  template <std::size_t K> static void build_member(T& object, const DriverStatement& row, int i) {
    using M = detail::column_member_t<T, K>;
    M& slot = object.*member<K>;
    if constexpr (std::is_nothrow_default_constructible_v<M>) {
      std::destroy_at(&slot);
      try {
        ::new (static_cast<void*>(&slot)) M(ColumnTraits<M>::read(row, i)); // no copy: elided
      } catch (...) {
        ::new (static_cast<void*>(&slot)) M(); // the object stays whole for its destructor
        throw;
      }
    } else {
      slot = ColumnTraits<M>::read(row, i);
    }
  }
  template <std::size_t... K>
  static void refresh_snapshot(const T& object, Snapshot& snapshot, std::index_sequence<K...>) {
    ((std::get<K>(snapshot) = object.*member<K>), ...);
  }
  template <std::size_t... K>
  static void append_bound(const T& object, std::uint64_t columns, std::vector<Value>& out,
                           std::index_sequence<K...>) {
    // Every INSERT and UPDATE binds its members this way: a text member's copy (and its free)
    // was a third of a bulk insert's cost on top of SQLite's.
    ((columns & (1ull << K) ? out.push_back(bound_value(object.*member<K>)) : void()), ...);
  }
  template <typename M> static Value bound_value(const M& member) {
    if constexpr (std::is_same_v<M, std::string>)
      return Value::borrowed(member);
    else if constexpr (std::is_same_v<M, std::optional<std::string>>)
      return member ? Value::borrowed(*member) : Value();
    else
      return to_value(member);
  }

  template <std::size_t... K>
  static void restore(T& object, const Snapshot& snapshot, std::index_sequence<K...>) {
    ((object.*member<K> = std::get<K>(snapshot)), ...);
  }
  template <std::size_t... K>
  static std::uint64_t diff(const T& object, const Snapshot& snapshot, std::index_sequence<K...>) {
    std::uint64_t mask = 0;
    ((mask |= (object.*member<K> == std::get<K>(snapshot) ? 0ull : (1ull << K))), ...);
    return mask;
  }
};

namespace detail {
// Every class a Model's fields belong to (see ModelRegistration): a member inherited from an
// unmapped base names that base, which has no mapper to register.
template <typename C> void register_model() {
  if constexpr (Mapped<C>) (void)mapper_of<C>();
}
} // namespace detail

/// The one mapper of T, built on first use and registered with metadata().
template <Mapped T> const MapperBase& mapper_of() {
  (void)&detail::ModelRegistration<T>::done;
  static const Mapper<T> instance;
  static const bool registered = (register_mapper(instance), true);
  (void)registered;
  return instance;
}

/// The typed mapper of T.
template <Mapped T> const Mapper<T>& typed_mapper_of() {
  return static_cast<const Mapper<T>&>(mapper_of<T>());
}

} // namespace retort

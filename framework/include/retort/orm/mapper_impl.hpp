// Mapper<T>: the MapperBase of a declaratively mapped class, generated from Model<T>::fields.
// Hot paths (hydrating rows, snapshots, diffs) are folds over the field list, so each column is
// read straight into its member with no boxing and no per-column indirect call. The pieces it is
// built from have a header each: detail/model_fields.hpp (the field list at compile time),
// detail/tracked_block.hpp (where an object and its state live), detail/mapping_infos.hpp (the
// column and relationship infos).
#pragma once

#include <retort/core/error.hpp>
#include <retort/engine/column_traits.hpp>
#include <retort/orm/detail/application_states.hpp>
#include <retort/orm/detail/mapping_infos.hpp>
#include <retort/orm/detail/model_fields.hpp>
#include <retort/orm/detail/tracked_block.hpp>
#include <retort/orm/mapper.hpp>
#include <retort/orm/model.hpp>
#include <retort/orm/value_row.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace retort {

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

template <typename T> void detail::removed_unwatched(const std::shared_ptr<T>& item) {
  if (item) detail::removed_unwatched(mapper_of<T>(), item);
}

template <typename T> void detail::added_unwatched(const std::shared_ptr<T>& item) {
  if (item) detail::added_unwatched(mapper_of<T>(), item);
}

} // namespace retort

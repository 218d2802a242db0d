// The runtime descriptions of a mapped class's fields: the ColumnInfo of each column field and
// the RelationshipInfo of each relationship field, with the type-erased accessors the session
// and loaders use to reach a relationship member without knowing its class.
#pragma once

#include <retort/core/error.hpp>
#include <retort/engine/column_traits.hpp>
#include <retort/orm/detail/model_fields.hpp>
#include <retort/orm/mapper.hpp>
#include <retort/orm/model.hpp>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace retort {

template <Mapped T> const MapperBase& mapper_of();

namespace detail {

/// What a relationship member of type Member points at, and whether it is a collection.
template <typename T, typename Member> struct MemberKind;
template <typename T, typename U> struct MemberKind<T, Collection<U>> {
  using target = U;
  static constexpr bool collection = true;
};
template <typename T, typename U> struct MemberKind<T, Ref<U>> {
  using target = U;
  static constexpr bool collection = false;
};

/// The ColumnInfo of the column field `f` of T.
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

/// The name of the column an order_by() option names on Target (empty without one).
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

/// The RelationshipInfo of T's J-th field, a relationship.
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
} // namespace retort

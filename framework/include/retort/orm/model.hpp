// Declarative mapping: a specialisation of retort::Model<T> placed next to the struct says which
// table it maps to and which members are columns and relationships. Everything the ORM knows
// about T is derived from that one list (DESIGN.md, "The ORM").
//
//   template <> struct retort::Model<User> {
//     static constexpr auto table = "users";
//     static constexpr auto fields = fields_of(
//         column("id", &User::id, primary_key),
//         column("name", &User::name, String(50)),
//         relationship("addresses", &User::addresses, back_populates("user"),
//                      order_by(&Address::id)));
//   };
//
// Classical mapping: define the Table on its own, then map the class onto it by column names;
// types, keys and constraints then come from the Table (both styles build the same mapper):
//
//   const retort::Table& tags_table();   // Table("tags", Column("id", Integer).primary_key(), ...)
//   template <> struct retort::Model<Tag> {
//     static const Table& schema() { return tags_table(); }
//     static constexpr auto table = "tags";
//     static constexpr auto fields = fields_of(column("id", &Tag::id), column("label",
//     &Tag::label));
//   };
#pragma once

#include <retort/core/types.hpp>
#include <retort/engine/column_traits.hpp>
#include <retort/schema/constraints.hpp>

#include <cstdint>
#include <tuple>
#include <type_traits>

namespace retort {

/// Specialise for each mapped struct: `table` (a C string) and `fields` (fields_of(...)).
template <typename T> struct Model;

template <typename T> class Collection;
template <typename T> class Ref;

/// True when Model<T> has been specialised.
template <typename T>
concept Mapped = requires {
  Model<T>::table;
  Model<T>::fields;
};

/// Column flags.
enum ColumnFlags : std::uint32_t {
  column_primary_key = 1u << 0,
  column_unique = 1u << 1,
  column_index = 1u << 2,
  column_no_autoincrement = 1u << 3,
  column_force_autoincrement = 1u << 4,
  column_not_null = 1u << 5,
};

/// Marks the primary key column(s).
struct PrimaryKeyOption {};
inline constexpr PrimaryKeyOption primary_key{};
/// A UNIQUE constraint on the column.
struct UniqueOption {};
inline constexpr UniqueOption unique{};
/// An index on the column.
struct IndexOption {};
inline constexpr IndexOption indexed{};
/// Turns off the automatic autoincrement of a single integer primary key.
struct NoAutoincrementOption {};
inline constexpr NoAutoincrementOption no_autoincrement{};
/// NOT NULL even where the member type could hold "no value".
struct NotNullOption {};
inline constexpr NotNullOption not_null{};

/// FOREIGN KEY to "table.column".
struct ForeignKeyOption {
  const char* target = nullptr;
  ReferentialAction on_delete = ReferentialAction::no_action;
  ReferentialAction on_update = ReferentialAction::no_action;
};
/// A foreign key referencing "table.column".
constexpr ForeignKeyOption foreign_key(const char* target,
                                       ReferentialAction on_delete = ReferentialAction::no_action,
                                       ReferentialAction on_update = ReferentialAction::no_action) {
  return {target, on_delete, on_update};
}

/// DEFAULT <sql> in the DDL, evaluated by the database (e.g. "CURRENT_TIMESTAMP").
struct ServerDefaultOption {
  const char* sql = nullptr;
};
/// A server-side default given as SQL text (trusted: it is DDL written by the programmer).
constexpr ServerDefaultOption server_default(const char* sql) { return {sql}; }

/// A mapped column: name, member, type and flags.
template <typename C, typename M> struct ColumnField {
  using Class = C;
  using Member = M;
  const char* name;
  M C::*member;
  SqlType type;
  std::uint32_t flags;
  ForeignKeyOption foreign_key;
  ServerDefaultOption server_default;
};

namespace detail {

template <typename C, typename M> constexpr void apply_option(ColumnField<C, M>& f, SqlType t) {
  f.type = t;
}
template <typename C, typename M>
constexpr void apply_option(ColumnField<C, M>& f, PrimaryKeyOption) {
  f.flags |= column_primary_key;
}
template <typename C, typename M> constexpr void apply_option(ColumnField<C, M>& f, UniqueOption) {
  f.flags |= column_unique;
}
template <typename C, typename M> constexpr void apply_option(ColumnField<C, M>& f, IndexOption) {
  f.flags |= column_index;
}
template <typename C, typename M>
constexpr void apply_option(ColumnField<C, M>& f, NoAutoincrementOption) {
  f.flags |= column_no_autoincrement;
}
template <typename C, typename M> constexpr void apply_option(ColumnField<C, M>& f, NotNullOption) {
  f.flags |= column_not_null;
}
template <typename C, typename M>
constexpr void apply_option(ColumnField<C, M>& f, ForeignKeyOption fk) {
  f.foreign_key = fk;
}
template <typename C, typename M>
constexpr void apply_option(ColumnField<C, M>& f, ServerDefaultOption d) {
  f.server_default = d;
}

} // namespace detail

/// A column mapped to member `member`; options: a SqlType (String(50), Text, ...),
/// primary_key, unique, indexed, not_null, no_autoincrement, foreign_key(...), server_default(...).
/// Nullability follows the member: std::optional<T> is NULL-able, anything else NOT NULL.
template <typename C, typename M, typename... Options>
requires Mappable<M>
constexpr ColumnField<C, M> column(const char* name, M C::*member, Options... options) {
  ColumnField<C, M> f{name, member, ColumnTraits<M>::sql_type, 0, {}, {}};
  (detail::apply_option(f, options), ...);
  return f;
}

/// How a relationship loads by default (overridable per query).
enum class LoadStrategy : std::uint8_t {
  /// A SELECT on first access (needs the session; an error in async code).
  lazy,
  /// One extra SELECT ... WHERE fk IN (...) for all parents of a query.
  selectin,
  /// A LEFT OUTER JOIN in the parent query.
  joined,
  /// Access without loading first raises InvalidStateError.
  raise,
};

/// Cascade flags of a relationship.
enum CascadeFlags : std::uint8_t {
  cascade_save_update = 1u << 0,
  cascade_delete = 1u << 1,
  cascade_delete_orphan = 1u << 2,
  cascade_merge = 1u << 3,
};

/// The other side's relationship attribute name kept in sync in memory.
struct BackPopulatesOption {
  const char* name;
};
/// Names the relationship on the other class that mirrors this one.
constexpr BackPopulatesOption back_populates(const char* name) { return {name}; }

/// Ordering of a collection by a member of the target class.
template <typename T, typename M> struct OrderByOption {
  M T::*member;
  bool descending;
};
/// Orders a collection by `member` of the target class.
template <typename T, typename M> constexpr OrderByOption<T, M> order_by(M T::*member) {
  return {member, false};
}
/// Orders a collection by `member`, descending.
template <typename T, typename M> constexpr OrderByOption<T, M> order_by_desc(M T::*member) {
  return {member, true};
}

/// The association table of a many-to-many relationship.
struct SecondaryOption {
  const char* table;
};
/// Many-to-many through the association table `table` (declare it with Model or a Core Table).
constexpr SecondaryOption secondary(const char* table) { return {table}; }

/// Cascades, e.g. cascade(cascade_save_update | cascade_delete | cascade_delete_orphan).
struct CascadeOption {
  std::uint8_t flags;
};
/// Sets the cascade flags (default: save-update and merge, as in SQLAlchemy).
constexpr CascadeOption cascade(std::uint8_t flags) { return {flags}; }
/// SQLAlchemy's "all, delete-orphan".
inline constexpr CascadeOption cascade_all_delete_orphan{cascade_save_update | cascade_merge |
                                                         cascade_delete | cascade_delete_orphan};

/// The default loader strategy.
struct LazyOption {
  LoadStrategy strategy;
};
/// Chooses the default loader strategy of a relationship.
constexpr LazyOption lazy(LoadStrategy strategy) { return {strategy}; }

/// The foreign-key column of this side to use when several reach the target (by name).
struct ForeignKeysOption {
  const char* column;
};
/// Disambiguates which foreign-key column the relationship follows.
constexpr ForeignKeysOption via(const char* column) { return {column}; }

namespace detail {
struct NoOrder {};
} // namespace detail

/// A relationship mapped to member `member` (a Collection<T> or Ref<T>).
template <typename C, typename M, typename Order = detail::NoOrder> struct RelationshipField {
  using Class = C;
  using Member = M;
  const char* name;
  M C::*member;
  const char* back_populates = nullptr;
  Order order{};
  bool has_order = false;
  const char* secondary = nullptr;
  std::uint8_t cascade = cascade_save_update | cascade_merge;
  LoadStrategy strategy = LoadStrategy::lazy;
  const char* via = nullptr;
};

namespace detail {

template <typename R> constexpr void apply_rel(R& r, BackPopulatesOption o) {
  r.back_populates = o.name;
}
template <typename R> constexpr void apply_rel(R& r, SecondaryOption o) { r.secondary = o.table; }
template <typename R> constexpr void apply_rel(R& r, CascadeOption o) { r.cascade = o.flags; }
template <typename R> constexpr void apply_rel(R& r, LazyOption o) { r.strategy = o.strategy; }
template <typename R> constexpr void apply_rel(R& r, ForeignKeysOption o) { r.via = o.column; }
template <typename R, typename T, typename M> constexpr void apply_rel(R&, OrderByOption<T, M>) {}

template <typename... O> struct FindOrder { using type = NoOrder; };
template <typename T, typename M, typename... Rest> struct FindOrder<OrderByOption<T, M>, Rest...> {
  using type = OrderByOption<T, M>;
};
template <typename First, typename... Rest>
struct FindOrder<First, Rest...> : FindOrder<Rest...> {};

template <typename Order, typename O> constexpr void set_order(Order& out, bool& has, const O& o) {
  if constexpr (std::is_same_v<Order, O>) {
    out = o;
    has = true;
  }
}

} // namespace detail

/// A relationship: `relationship("addresses", &User::addresses, back_populates("user"),
/// order_by(&Address::id))`. Options: back_populates, order_by / order_by_desc, secondary,
/// cascade, lazy, via.
template <typename C, typename M, typename... Options>
constexpr auto relationship(const char* name, M C::*member, Options... options) {
  using Order = typename detail::FindOrder<Options...>::type;
  RelationshipField<C, M, Order> r{name, member};
  (detail::apply_rel(r, options), ...);
  (detail::set_order(r.order, r.has_order, options), ...);
  return r;
}

/// The list of fields of a model.
template <typename... F> struct Fields { std::tuple<F...> items; };

namespace detail {
/// Builds and registers the mapper of C when C is mapped (defined in mapper_impl.hpp).
template <typename C> void register_model();
/// Referenced by fields_of(), so by every Model specialisation: its initialiser runs at
/// start-up and registers the class with metadata(), even a class the program names nowhere
/// else (an association table known to its relationships only by name, through secondary()).
template <typename C> struct ModelRegistration {
  static inline const bool done = (register_model<C>(), true);
};
} // namespace detail

/// Collects column and relationship fields.
template <typename... F> constexpr Fields<F...> fields_of(F... fields) {
  (static_cast<void>(&detail::ModelRegistration<typename F::Class>::done), ...);
  return Fields<F...>{std::tuple<F...>(fields...)};
}

template <typename F> struct is_column_field : std::false_type {};
template <typename C, typename M> struct is_column_field<ColumnField<C, M>> : std::true_type {};
template <typename F> struct is_relationship_field : std::false_type {};
template <typename C, typename M, typename O>
struct is_relationship_field<RelationshipField<C, M, O>> : std::true_type {};

} // namespace retort

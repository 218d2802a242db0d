// Compile-time views of Model<T>::fields: how many fields and columns a class maps, where its
// columns sit among its fields, and each column's member type. Every fold over a class's
// columns (Mapper<T>, the tracked block, the mapping infos) indexes the field list through these.
#pragma once

#include <retort/orm/model.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace retort::detail {

/// The tuple of T's fields, as Model<T> declares them.
template <typename T> constexpr const auto& model_fields() { return Model<T>::fields.items; }

/// How many fields (columns and relationships) T maps.
template <typename T>
inline constexpr std::size_t field_count =
    std::tuple_size_v<std::remove_cvref_t<decltype(model_fields<T>())>>;

/// The type of T's I-th field.
template <typename T, std::size_t I>
using field_type =
    std::remove_cvref_t<std::tuple_element_t<I, std::remove_cvref_t<decltype(model_fields<T>())>>>;

/// Positions of the column fields among all fields, in order, and how many there are.
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
/// How many columns T maps.
template <typename T> inline constexpr std::size_t column_count = column_positions_v<T>.second;

/// The K-th column field of T.
template <typename T, std::size_t K>
inline constexpr const auto&
    column_field = std::get<column_positions_v<T>.first[K]>(model_fields<T>());

/// The member type of T's K-th column.
template <typename T, std::size_t K>
using column_member_t = typename std::remove_cvref_t<decltype(column_field<T, K>)>::Member;

/// True when T maps relationships (its objects carry RelationshipBits).
template <typename T> inline constexpr bool has_relationships = field_count<T> > column_count<T>;

/// True for a std::optional member.
template <typename M> struct is_optional : std::false_type {};
template <typename M> struct is_optional<std::optional<M>> : std::true_type {};

} // namespace retort::detail

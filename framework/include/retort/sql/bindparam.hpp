// Named placeholders and the parameter sets that fill them: one statement, many executions
// (SQLAlchemy's executemany).
//
//   auto stmt = update(users).set("age", bindparam("age")).where(users.c("id") == bindparam("id"));
//   ParameterSets sets({"id", "age"});
//   sets.add({1, 30}).add({2, 41});
//   connection.execute(stmt, sets);   // prepared once, run per set in one transaction
#pragma once

#include <retort/core/export.hpp>
#include <retort/core/types.hpp>
#include <retort/core/value.hpp>
#include <retort/sql/expression.hpp>

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace retort {

/// A named placeholder, `bindparam("q")`: its value comes from each parameter set when the
/// statement is executed with Connection::execute(statement, sets). Untyped, it takes the type
/// of the column it is compared with or assigned to; the ORM's `bindparam<T>("q")` fixes it.
class RETORT_API BindParam : public Expr {
public:
  /// An untyped placeholder.
  explicit BindParam(std::string name);
  /// A placeholder whose values must fit `type` (checked per parameter set).
  BindParam(std::string name, const SqlType& type);
  /// The placeholder's name.
  std::string_view param_name() const;
};

/// `bindparam("q")`: a named placeholder filled from each parameter set.
inline BindParam bindparam(std::string name) { return BindParam(std::move(name)); }
/// A named placeholder whose values must fit `type`.
inline BindParam bindparam(std::string name, const SqlType& type) {
  return BindParam(std::move(name), type);
}

/// The parameter sets of one executemany: a name per placeholder and, per set, one value per
/// name, stored row-major in one vector (no allocation per set).
class RETORT_API ParameterSets {
public:
  /// Sets that give each of `names` a value; add() them one by one.
  explicit ParameterSets(std::vector<std::string> names);
  /// Sets from row-major `flat` values (its size a multiple of the number of names).
  ParameterSets(std::vector<std::string> names, std::vector<Value> flat);

  /// Appends one set, its values in the order of names().
  ParameterSets& add(std::vector<Value> values);
  /// Appends one set: sets.add({1, "ann"}).
  ParameterSets& add(std::initializer_list<Value> values) {
    return add(std::vector<Value>(values));
  }
  /// Reserves room for `sets` sets.
  void reserve(std::size_t sets) { values_.reserve(sets * names_.size()); }

  /// The names, in the order of each set's values.
  const std::vector<std::string>& names() const noexcept { return names_; }
  /// Values per set.
  std::size_t width() const noexcept { return names_.size(); }
  /// Number of sets.
  std::size_t size() const noexcept { return names_.empty() ? 0 : values_.size() / names_.size(); }
  /// True when there is no set.
  bool empty() const noexcept { return size() == 0; }
  /// The values of set `i`.
  std::span<const Value> set(std::size_t i) const {
    return std::span<const Value>(values_).subspan(i * names_.size(), names_.size());
  }
  /// Every value, row-major.
  std::span<const Value> values() const noexcept { return values_; }
  /// The index of `name` in names(), or nullopt.
  std::optional<std::size_t> index_of(std::string_view name) const noexcept;

private:
  std::vector<std::string> names_;
  std::vector<Value> values_;
};

} // namespace retort

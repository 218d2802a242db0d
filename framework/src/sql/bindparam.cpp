#include "nodes.hpp"

#include <retort/core/error.hpp>
#include <retort/sql/bindparam.hpp>

#include <iterator>

namespace retort {

using namespace detail;

namespace {

std::shared_ptr<const ExprNode> bindparam_node(std::string name, std::optional<SqlType> type) {
  if (name.empty()) throw ArgumentError("bindparam(): empty name");
  return std::make_shared<const BindParamNode>(std::move(name), type);
}

} // namespace

BindParam::BindParam(std::string name) : Expr(bindparam_node(std::move(name), std::nullopt)) {}

BindParam::BindParam(std::string name, const SqlType& type)
    : Expr(bindparam_node(std::move(name), type)) {}

std::string_view BindParam::param_name() const { return as<BindParamNode>(*node()).name; }

ParameterSets::ParameterSets(std::vector<std::string> names) : names_(std::move(names)) {
  if (names_.empty()) throw ArgumentError("ParameterSets: no parameter names");
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (names_[i].empty()) throw ArgumentError("ParameterSets: empty parameter name");
    for (std::size_t j = 0; j < i; ++j)
      if (names_[j] == names_[i])
        throw ArgumentError("ParameterSets: parameter '" + names_[i] + "' named twice");
  }
}

ParameterSets::ParameterSets(std::vector<std::string> names, std::vector<Value> flat)
    : ParameterSets(std::move(names)) {
  if (flat.size() % names_.size() != 0)
    throw ArgumentError("ParameterSets: " + std::to_string(flat.size()) +
                        " values do not fill sets of " + std::to_string(names_.size()));
  values_ = std::move(flat);
}

ParameterSets& ParameterSets::add(std::vector<Value> values) {
  if (values.size() != names_.size())
    throw ArgumentError("ParameterSets::add(): " + std::to_string(values.size()) + " values for " +
                        std::to_string(names_.size()) + " names (set " + std::to_string(size()) +
                        ")");
  values_.insert(values_.end(), std::make_move_iterator(values.begin()),
                 std::make_move_iterator(values.end()));
  return *this;
}

std::optional<std::size_t> ParameterSets::index_of(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return i;
  return std::nullopt;
}

} // namespace retort

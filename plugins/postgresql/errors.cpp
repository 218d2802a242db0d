#include "errors.hpp"

#include <retort/core/error.hpp>

#include <string_view>

namespace retort::postgresql {

std::string trimmed(const char* text) {
  std::string out = text ? text : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
    out.pop_back();
  return out;
}

std::exception_ptr make_database_error(const std::string& sqlstate, std::string message,
                                       std::string sql) {
  auto make = [&]<typename E>() {
    return std::make_exception_ptr(E(std::move(message), sqlstate, 0, std::move(sql)));
  };
  std::string_view cls = std::string_view(sqlstate).substr(0, 2);
  if (cls == "23") return make.template operator()<IntegrityError>();
  if (sqlstate == "40001" || sqlstate == "40P01")
    return make.template operator()<OperationalError>();
  if (cls == "08" || cls == "57" || cls == "53" || cls == "58")
    return make.template operator()<OperationalError>();
  if (cls == "42") return make.template operator()<ProgrammingError>();
  if (cls == "22") return make.template operator()<DataError>();
  if (cls == "XX") return make.template operator()<InternalError>();
  if (cls == "0A") return make.template operator()<NotSupportedError>();
  return make.template operator()<DatabaseError>();
}

} // namespace retort::postgresql

#include <retort/core/error.hpp>

#include <utility>

namespace retort {

namespace {

std::string located(const std::string& what, const std::string& file, int line, int column) {
  if (file.empty()) return what;
  if (line <= 0) return file + ": " + what;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + what;
}

// What what() shows of a statement: its start, cut at a UTF-8 character boundary.
constexpr std::size_t shown_sql_bytes = 1024;

std::string shown_sql(const std::string& sql) {
  if (sql.size() <= shown_sql_bytes) return sql;
  std::size_t cut = shown_sql_bytes;
  while (cut > 0 && (static_cast<unsigned char>(sql[cut]) & 0xC0) == 0x80)
    --cut;
  return sql.substr(0, cut) + "…(" + std::to_string(sql.size() - cut) + " more bytes)";
}

std::string database_what(const std::string& message, const std::string& sqlstate, int code,
                          const std::string& sql) {
  std::string out = message;
  if (!sqlstate.empty())
    out += " [SQLSTATE " + sqlstate + "]";
  else if (code != 0)
    out += " [code " + std::to_string(code) + "]";
  if (!sql.empty()) out += "\n[SQL: " + shown_sql(sql) + "]";
  return out;
}

} // namespace

// Out-of-line destructors are the key functions: vtables and typeinfo are emitted here only.
Error::~Error() = default;
PluginError::~PluginError() = default;
ArgumentError::~ArgumentError() = default;
InvalidStateError::~InvalidStateError() = default;
NoResultFound::~NoResultFound() = default;
MultipleResultsFound::~MultipleResultsFound() = default;
PoolTimeout::~PoolTimeout() = default;

ConfigError::ConfigError(std::string what, std::string file, int line, int column)
    : Error(located(what, file, line, column)), file_(std::move(file)), line_(line),
      column_(column) {}
ConfigError::~ConfigError() = default;

OptionError::OptionError(std::string option, std::string what, std::string file, int line,
                         int column)
    : ConfigError(std::move(what), std::move(file), line, column), option_(std::move(option)) {}
OptionError::~OptionError() = default;

DatabaseError::DatabaseError(std::string message, std::string sqlstate, int native_code,
                             std::string sql)
    : Error(database_what(message, sqlstate, native_code, sql)), message_(std::move(message)),
      sqlstate_(std::move(sqlstate)), native_code_(native_code), sql_(std::move(sql)) {}
DatabaseError::~DatabaseError() = default;

InterfaceError::~InterfaceError() = default;
OperationalError::~OperationalError() = default;
IntegrityError::~IntegrityError() = default;
ProgrammingError::~ProgrammingError() = default;
DataError::~DataError() = default;
InternalError::~InternalError() = default;
NotSupportedError::~NotSupportedError() = default;

} // namespace retort

// The one error hierarchy of Retort (DESIGN.md, "Errors"). Every class has an out-of-line
// destructor in libretort (its key function), so typeinfo lives in one place and an error
// thrown inside a plugin is caught by type in the application.
#pragma once

#include <retort/core/export.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace retort {

/// Root of every error Retort throws.
class RETORT_API Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
  ~Error() override;
};

/// A configuration file or option is wrong; names file:line:column when it came from YAML.
class RETORT_API ConfigError : public Error {
public:
  /// An error about a whole file or an option given in code (line and column are 0).
  ConfigError(std::string what, std::string file = {}, int line = 0, int column = 0);
  ~ConfigError() override;
  /// The file the error is in, or empty when the option came from code.
  const std::string& file() const noexcept { return file_; }
  /// 1-based line, or 0 when unknown.
  int line() const noexcept { return line_; }
  /// 1-based column, or 0 when unknown.
  int column() const noexcept { return column_; }

private:
  std::string file_;
  int line_ = 0;
  int column_ = 0;
};

/// A dialect option (a URL query parameter or an engine option) that the dialect refuses; names
/// the option, and file:line:column when it came from YAML.
class RETORT_API OptionError : public ConfigError {
public:
  /// `option` is the option's name, `what` the whole message.
  OptionError(std::string option, std::string what, std::string file = {}, int line = 0,
              int column = 0);
  ~OptionError() override;
  /// The option's name, e.g. "busy_timeout".
  const std::string& option() const noexcept { return option_; }

private:
  std::string option_;
};

/// A plugin could not be found or loaded; the message names every path tried and why.
class RETORT_API PluginError : public Error {
public:
  using Error::Error;
  ~PluginError() override;
};

/// A function was called with arguments it cannot accept (wrong arity, unknown column, ...).
class RETORT_API ArgumentError : public Error {
public:
  using Error::Error;
  ~ArgumentError() override;
};

/// An operation is not valid in the current state (closed session, detached object, ...).
class RETORT_API InvalidStateError : public Error {
public:
  using Error::Error;
  ~InvalidStateError() override;
};

/// A query asked for exactly one row and got none.
class RETORT_API NoResultFound : public Error {
public:
  using Error::Error;
  ~NoResultFound() override;
};

/// A query asked for at most one row and got more.
class RETORT_API MultipleResultsFound : public Error {
public:
  using Error::Error;
  ~MultipleResultsFound() override;
};

/// No pooled connection became free within the checkout timeout.
class RETORT_API PoolTimeout : public Error {
public:
  using Error::Error;
  ~PoolTimeout() override;
};

/// An error reported by the database; carries its SQLSTATE or native code and the statement.
/// The subclasses follow Python's DB-API (PEP 249). what() shows at most the first KB of the
/// statement (a multi-row INSERT can be megabytes); sql() keeps all of it.
class RETORT_API DatabaseError : public Error {
public:
  /// `message` is the database's own text; `sql` the statement that failed (may be empty).
  DatabaseError(std::string message, std::string sqlstate, int native_code, std::string sql);
  ~DatabaseError() override;
  /// Five-character SQLSTATE, or empty when the database reports none (SQLite).
  const std::string& sqlstate() const noexcept { return sqlstate_; }
  /// The database's native error code (SQLite extended result code; 0 for PostgreSQL).
  int native_code() const noexcept { return native_code_; }
  /// The SQL text of the statement that failed.
  const std::string& sql() const noexcept { return sql_; }
  /// The database's message without the code and statement decoration.
  const std::string& message() const noexcept { return message_; }

private:
  std::string message_;
  std::string sqlstate_;
  int native_code_ = 0;
  std::string sql_;
};

#define RETORT_DECLARE_DATABASE_ERROR(Name)                                                        \
  class RETORT_API Name : public DatabaseError {                                                   \
  public:                                                                                          \
    using DatabaseError::DatabaseError;                                                            \
    ~Name() override;                                                                              \
  }

/// The client library itself failed (misuse of the driver, not of the database).
RETORT_DECLARE_DATABASE_ERROR(InterfaceError);
/// Connection lost, database busy or locked, I/O error, serialization failure, deadlock.
RETORT_DECLARE_DATABASE_ERROR(OperationalError);
/// A constraint was violated: unique, foreign key, not null, check.
RETORT_DECLARE_DATABASE_ERROR(IntegrityError);
/// The SQL is wrong: syntax error, unknown table or column.
RETORT_DECLARE_DATABASE_ERROR(ProgrammingError);
/// A value does not fit: out of range, bad format, division by zero.
RETORT_DECLARE_DATABASE_ERROR(DataError);
/// The database reports an internal inconsistency.
RETORT_DECLARE_DATABASE_ERROR(InternalError);
/// The database does not support the feature asked for.
RETORT_DECLARE_DATABASE_ERROR(NotSupportedError);

#undef RETORT_DECLARE_DATABASE_ERROR

} // namespace retort

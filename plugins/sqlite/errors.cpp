#include "errors.hpp"

#include <retort/core/error.hpp>

#include <array>

namespace retort::sqlite {

namespace {

// SQLite reports some data problems with plain SQLITE_ERROR at step time; recognise them by
// their message so callers can catch DataError as they would on other databases.
bool is_data_message(std::string_view message) {
  constexpr std::array<std::string_view, 3> markers = {"integer overflow", "malformed JSON",
                                                       "JSON cannot hold BLOB"};
  for (auto marker : markers)
    if (message.find(marker) != std::string_view::npos) return true;
  return false;
}

template <typename E> [[noreturn]] void raise(std::string message, int code, std::string_view sql) {
  throw E(std::move(message), std::string(), code, std::string(sql));
}

} // namespace

bool is_fatal(int code) noexcept {
  switch (code & 0xff) {
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB:
  case SQLITE_IOERR:
  case SQLITE_CANTOPEN:
  case SQLITE_MISUSE: return true;
  default: return false;
  }
}

void throw_error(int code, Phase phase, std::string message, std::string_view sql) {
  switch (code & 0xff) {
  case SQLITE_CONSTRAINT: raise<IntegrityError>(std::move(message), code, sql);
  case SQLITE_MISMATCH:
  case SQLITE_TOOBIG:
  case SQLITE_RANGE: raise<DataError>(std::move(message), code, sql);
  case SQLITE_MISUSE: raise<InterfaceError>(std::move(message), code, sql);
  case SQLITE_INTERNAL:
  case SQLITE_NOTFOUND: raise<InternalError>(std::move(message), code, sql);
  case SQLITE_ERROR:
    // At prepare it is bad SQL (syntax, unknown table or column); at step mostly misuse of SQL
    // (no such savepoint, nested BEGIN) apart from a few value problems.
    if (phase == Phase::open) raise<OperationalError>(std::move(message), code, sql);
    if (phase == Phase::step && is_data_message(message))
      raise<DataError>(std::move(message), code, sql);
    raise<ProgrammingError>(std::move(message), code, sql);
  default:
    // BUSY, LOCKED, IOERR, CANTOPEN, FULL, PROTOCOL, NOTADB, CORRUPT, READONLY, NOMEM, ...
    raise<OperationalError>(std::move(message), code, sql);
  }
}

void throw_error(sqlite3* db, int code, Phase phase, std::string_view sql) {
  // With extended result codes enabled the returned code is already extended; the handle's
  // code is a fallback for calls that return only the primary one.
  int extended = db != nullptr ? sqlite3_extended_errcode(db) : code;
  if ((extended & 0xff) != (code & 0xff)) extended = code;
  std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  throw_error(extended, phase, std::move(message), sql);
}

} // namespace retort::sqlite

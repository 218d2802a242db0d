// Translation of SQLite result codes into Retort's typed database errors.
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>

namespace retort::sqlite {

/// Where a failure happened; SQLITE_ERROR means different things at prepare and at step.
enum class Phase { open, prepare, bind, step };

/// True when `code` (extended or primary) means the connection should not be reused.
bool is_fatal(int code) noexcept;

/// Throws the DatabaseError subclass for extended result `code`, with `message` and `sql`.
[[noreturn]] void throw_error(int code, Phase phase, std::string message, std::string_view sql);

/// Throws the error for `code`, taking the message from `db` (sqlite3_errmsg).
[[noreturn]] void throw_error(sqlite3* db, int code, Phase phase, std::string_view sql);

} // namespace retort::sqlite

// Error translation: SQLSTATE to Retort's DB-API error classes, and libpq's message text.
#pragma once

#include <exception>
#include <string>

namespace retort::postgresql {

/// The typed DatabaseError for SQLSTATE `sqlstate` (DB-API classes; table in README.md).
std::exception_ptr make_database_error(const std::string& sqlstate, std::string message,
                                       std::string sql);

/// `text` (may be null) without its trailing newlines and spaces, as libpq ends its messages.
std::string trimmed(const char* text);

} // namespace retort::postgresql

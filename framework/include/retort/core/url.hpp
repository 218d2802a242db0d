// Database URLs as SQLAlchemy parses them: dialect[+driver]://user:pass@host:port/db?k=v.
#pragma once

#include <retort/core/export.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace retort {

/// A parsed database URL; components are percent-decoded.
struct RETORT_API Url {
  /// "sqlite", "postgresql", ...
  std::string dialect;
  /// The part after '+', e.g. "libpq" in postgresql+libpq; empty when absent.
  std::string driver;
  std::string username;
  /// Never printed: render() masks it.
  std::optional<std::string> password;
  std::string host;
  std::optional<int> port;
  /// Database name; for SQLite the file path, ":memory:" or empty (memory).
  std::string database;
  /// Query parameters, in key order.
  std::map<std::string, std::string> query;

  /// Parses `text`; throws ArgumentError naming the URL (password masked) and the part that is
  /// wrong.
  static Url parse(std::string_view text);
  /// A URL from its parts, as SQLAlchemy's URL.create(): nothing is percent-decoded, so the
  /// password may hold any character ('/', '#', '@', ...). `scheme` is "dialect[+driver]".
  /// Throws ArgumentError for a bad scheme or port, or a NUL byte in any part.
  static Url create(std::string_view scheme, std::string username = {},
                    std::optional<std::string> password = std::nullopt, std::string host = {},
                    std::optional<int> port = std::nullopt, std::string database = {},
                    std::map<std::string, std::string> query = {});
  /// The scheme the plugin registry is keyed by: "dialect" or "dialect+driver".
  std::string scheme() const;
  /// The URL as text; the password is shown as *** unless `hide_password` is false.
  std::string render(bool hide_password = true) const;
  /// True for SQLite's in-memory database (":memory:" or no database at all).
  bool is_memory_database() const;
};

/// Returns `text` with the password of any URL in it replaced by ***.
RETORT_API std::string mask_password(std::string_view text);

} // namespace retort

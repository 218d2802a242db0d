// Proving the key of a one-row INSERT on SQLite: last_insert_rowid() is the row's key only when
// the key column is the rowid's alias.
#pragma once

#include "statement.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace retort::sqlite {

/// Answers DriverConnection::generated_key() for one connection.
class KeyProver {
public:
  /// The key `insert`, a one-row INSERT into `table` just run on `handle`, generated for
  /// `key_column`: last_insert_rowid() when the column is the rowid's alias, otherwise the key
  /// read from the row with that rowid. A table without rowid is a NotSupportedError.
  std::optional<std::int64_t> key_of(Handle& handle, DriverStatement& insert,
                                     std::string_view table, std::string_view key_column);

private:
  bool key_is_rowid(Handle& handle, std::string_view table, std::string_view key_column);

  StmtPtr check_;
};

} // namespace retort::sqlite

// Typed access to the rows of a text-format PGresult.
#pragma once

#include "handle.hpp"

#include <retort/core/value.hpp>

#include <libpq-fe.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace retort::postgresql {

/// Typed access to the rows of a text-format PGresult, walked row by row.
class PgRows {
public:
  /// Takes `result` (may be null: no rows, no columns) and positions before the first row.
  void reset(ResultPtr result, std::string* sql_for_errors);
  /// Drops the result.
  void clear() noexcept;
  /// Rewinds to before the first row.
  void rewind() noexcept { row_ = -1; }
  /// Advances; true while a row is current.
  bool next() noexcept {
    if (row_ < rows_) ++row_;
    return row_ < rows_;
  }
  const PGresult* result() const noexcept { return result_.get(); }
  int rows() const noexcept { return rows_; }

  int column_count() const noexcept;
  std::string_view column_name(int i) const;
  bool is_null(int i) const;
  std::int64_t get_int64(int i) const;
  double get_double(int i) const;
  std::string_view get_text(int i) const;
  std::span<const std::byte> get_blob(int i) const;
  bool get_bool(int i) const;
  Value get_value(int i) const;
  std::int64_t rows_affected() const;

private:
  // Every cell read checks its position: inline, against counts kept from reset(), since a
  // libpq call per check cost more than reading the cell.
  void check_cell(int i) const {
    if (row_ < 0 || row_ >= rows_ || i < 0 || i >= columns_) bad_position(i);
  }
  [[noreturn]] void bad_position(int i) const;
  [[noreturn]] void bad_cell(int i, const char* wanted) const;
  Oid type_of(int i) const noexcept { return types_[static_cast<std::size_t>(i)]; }

  ResultPtr result_;
  int rows_ = 0;
  int row_ = -1;
  int columns_ = 0;
  // Column type OIDs, read once per result instead of once per cell.
  std::vector<Oid> types_;
  std::string* sql_ = nullptr;
  // Decoded bytea per column, valid until the next row, like the text it came from.
  mutable std::vector<Blob> blobs_;
};

/// Decodes PostgreSQL's hex bytea output ("\x0a1b...") or the legacy escape format.
Blob decode_bytea(std::string_view text);

} // namespace retort::postgresql

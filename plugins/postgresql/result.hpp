// One result of the non-blocking side.
#pragma once

#include "handle.hpp"
#include "rows.hpp"

#include <retort/engine/nonblocking.hpp>

#include <exception>
#include <span>
#include <string>

namespace retort::postgresql {

/// One result of the non-blocking side.
class PgResult final : public NonBlockingResult {
public:
  PgResult(ResultPtr result, std::string sql, std::exception_ptr error);

  ResultStatus status() const override { return status_; }
  void throw_if_error() const override;
  std::int64_t row_count() const override { return rows_.rows(); }

  void bind(std::span<const Value> params) override;
  bool step() override;
  void reset() override { rows_.rewind(); }
  int column_count() const override { return rows_.column_count(); }
  std::string_view column_name(int i) const override { return rows_.column_name(i); }
  bool is_null(int i) const override { return rows_.is_null(i); }
  std::int64_t get_int64(int i) const override { return rows_.get_int64(i); }
  double get_double(int i) const override { return rows_.get_double(i); }
  std::string_view get_text(int i) const override { return rows_.get_text(i); }
  std::span<const std::byte> get_blob(int i) const override { return rows_.get_blob(i); }
  bool get_bool(int i) const override { return rows_.get_bool(i); }
  Value get_value(int i) const override { return rows_.get_value(i); }
  std::int64_t rows_affected() const override { return rows_.rows_affected(); }
  const std::string& sql() const override { return sql_; }

private:
  ResultStatus status_;
  std::string sql_;
  std::exception_ptr error_;
  PgRows rows_;
};

} // namespace retort::postgresql

// A server-side prepared statement.
#pragma once

#include "handle.hpp"
#include "params.hpp"
#include "rows.hpp"

#include <retort/engine/driver.hpp>

#include <memory>
#include <span>
#include <string>

namespace retort::postgresql {

/// A server-side prepared statement; executes with PQexecPrepared and walks its text rows.
class PgStatement final : public DriverStatement {
public:
  PgStatement(std::shared_ptr<PgHandle> handle, std::string sql);
  ~PgStatement() override;

  void bind(std::span<const Value> params) override;
  bool step() override;
  void reset() override;
  int column_count() const override;
  std::string_view column_name(int i) const override;
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
  void execute();

  std::shared_ptr<PgHandle> handle_;
  std::string sql_;
  std::string name_;
  // The statement's description (parameter count, result columns) from PQdescribePrepared.
  ResultPtr description_;
  int parameter_count_ = 0;
  PgParams params_;
  bool bound_ = false;
  bool executed_ = false;
  PgRows rows_;
};

} // namespace retort::postgresql

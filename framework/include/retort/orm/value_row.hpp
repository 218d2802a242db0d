// ValueRow: a row made of Values that reads like a driver row, so the same ColumnTraits that
// hydrate objects from the database also convert Values into members (foreign-key sync,
// rollback), with no second conversion table to keep in step.
#pragma once

#include <retort/core/export.hpp>
#include <retort/engine/driver.hpp>

#include <span>
#include <string>

namespace retort {

/// A DriverStatement over an array of Values (one row, no execution).
class RETORT_API ValueRow final : public DriverStatement {
public:
  /// Reads `values` (not copied; must outlive the row).
  explicit ValueRow(std::span<const Value> values) : values_(values) {}

  void bind(std::span<const Value>) override {}
  bool step() override { return false; }
  void reset() override {}
  int column_count() const override { return static_cast<int>(values_.size()); }
  std::string_view column_name(int) const override { return "value"; }
  bool is_null(int i) const override { return values_[std::size_t(i)].is_null(); }
  std::int64_t get_int64(int i) const override;
  double get_double(int i) const override { return values_[std::size_t(i)].as_double(); }
  std::string_view get_text(int i) const override;
  std::span<const std::byte> get_blob(int i) const override;
  bool get_bool(int i) const override { return values_[std::size_t(i)].as_bool(); }
  Value get_value(int i) const override { return values_[std::size_t(i)]; }
  std::int64_t rows_affected() const override { return 0; }
  const std::string& sql() const override;

private:
  std::span<const Value> values_;
  mutable std::string text_;
};

} // namespace retort

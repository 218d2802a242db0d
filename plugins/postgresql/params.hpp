// Parameters encoded for libpq.
#pragma once

#include <retort/core/value.hpp>

#include <libpq-fe.h>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace retort::postgresql {

/// Parameters encoded for libpq: text format, except bytes in binary format.
class PgParams {
public:
  /// Encodes `params`; the values are copied, so they need not outlive this object. Text with
  /// a NUL byte is a DataError naming its column in `sql` (or its position), before anything
  /// is sent.
  void assign(std::span<const Value> params, const std::string& sql);
  int count() const noexcept { return static_cast<int>(values_.size()); }
  const char* const* values() const noexcept { return values_.data(); }
  const int* lengths() const noexcept { return lengths_.data(); }
  const int* formats() const noexcept { return formats_.data(); }
  /// Type OIDs for unnamed statements: 0 (inferred by the server) except bytea for bytes.
  const Oid* types() const noexcept { return types_.data(); }

private:
  std::string arena_;
  std::vector<std::size_t> offsets_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<Oid> types_;
};

} // namespace retort::postgresql

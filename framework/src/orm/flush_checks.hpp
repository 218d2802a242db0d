// What a flush checks: that each UPDATE and DELETE changed the rows it meant to, and that each
// row it writes can be written and read back. Internal to the ORM.
#pragma once

#include <retort/core/error.hpp>
#include <retort/orm/detail/session_core.hpp>
#include <retort/orm/plan.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace retort::detail {

/// Checks that the UPDATEs and DELETEs of a flush changed the rows they meant to: anything else
/// means another transaction changed or deleted them (SQLAlchemy's StaleDataError).
// One sink for all of them, not one per statement (a bulk update built a sink, with a copy of
// the table name, per row): results arrive in statement order, pipelined or not, so each
// completion is checked against the oldest expectation not yet met.
class RowCountChecks final : public RowSink {
public:
  /// The next statement given this sink must change `rows` rows of `mapper`'s table.
  void expect(const char* what, const MapperBase& mapper, std::int64_t rows) {
    expected_.push_back({what, &mapper, rows});
  }
  void row(const DriverStatement&) override {}
  void done(std::int64_t rows_affected) override {
    if (next_ >= expected_.size())
      throw InternalError("a flush statement finished that no row count was expected for", "", 0,
                          "");
    const Expectation expected = expected_[next_++];
    // Every statement sent was answered: the list starts over, keeping its capacity.
    if (next_ == expected_.size()) {
      expected_.clear();
      next_ = 0;
    }
    if (rows_affected == expected.rows) return;
    throw InvalidStateError(
        std::string(expected.what) + " on table '" + expected.mapper->table_name() +
        "' expected to change " + std::to_string(expected.rows) + " row(s) but changed " +
        std::to_string(rows_affected) + " (the rows were changed or deleted by someone else)");
  }

private:
  struct Expectation {
    const char* what;
    const MapperBase* mapper;
    std::int64_t rows;
  };
  std::vector<Expectation> expected_;
  std::size_t next_ = 0;
};

/// The NOT NULL columns without a default that a statement omitting `omitted` writes, of those
/// whose member can hold NULL at all.
std::uint64_t required_columns(const MapperBase& mapper, std::uint64_t omitted);

/// The floating-point columns of `mapper`, as a bit per column.
std::uint64_t floating_columns(const MapperBase& mapper);

/// DataError when one of `columns` of `state`'s object holds a NaN (stored as NULL by SQLite).
void check_no_nan(const InstanceState& state, std::uint64_t columns);

} // namespace retort::detail

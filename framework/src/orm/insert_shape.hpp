// The INSERTs of a flush: which columns one class's INSERT writes and gets back on a dialect,
// how many rows go in one statement, and how SQLite's generated keys are proven. Internal to
// the ORM.
#pragma once

#include <retort/orm/detail/session_core.hpp>
#include <retort/orm/plan.hpp>
#include <retort/sql/dialect.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

namespace retort::detail {

/// Rows per INSERT ... VALUES statement. Past ~1000 rows the gain from fewer statements is gone
/// while the SQL text and the parameter array keep growing; dialect limits still apply below it.
constexpr std::size_t max_rows_per_insert = 1000;

/// Column positions of one statement (a mapped class has at most 64 columns), kept inline:
/// a flush of one object built two heap vectors of them per INSERT.
class ColumnList {
public:
  void push_back(std::size_t column) noexcept {
    items_[size_++] = static_cast<std::uint8_t>(column);
  }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t operator[](std::size_t i) const noexcept { return items_[i]; }
  std::size_t front() const noexcept { return items_[0]; }
  const std::uint8_t* begin() const noexcept { return items_.data(); }
  const std::uint8_t* end() const noexcept { return items_.data() + size_; }
  /// The columns as a bit per column.
  std::uint64_t mask() const noexcept {
    std::uint64_t bits = 0;
    for (std::uint8_t column : *this)
      bits |= 1ull << column;
    return bits;
  }

private:
  std::array<std::uint8_t, 64> items_{};
  std::size_t size_ = 0;
};

/// What the INSERTs of one class that leave `omitted` to the database write and get back, for
/// one dialect: the same for every statement of that shape.
struct InsertShape {
  const MapperBase* mapper = nullptr;
  const SqlDialect* dialect = nullptr;
  std::uint64_t omitted = 0;
  ColumnList inserted;
  ColumnList returned;
  /// `inserted` as a bit per column.
  std::uint64_t written = 0;
  /// Columns each row must have set (see required_columns()).
  std::uint64_t required = 0;
  /// Written floating-point columns, where the dialect cannot store NaN (see check_no_nan()).
  std::uint64_t nan_checked = 0;
  /// The generated key comes from the driver, not from RETURNING.
  bool use_last_id = false;
  /// Rows per statement at most.
  std::size_t limit = 1;
  /// The SQL of the last statement built with this shape, and its row count.
  std::size_t rows = 0;
  const std::string* sql = nullptr;
};

/// The shape of `mapper`'s INSERTs that leave `omitted` to the database, on `dialect`.
InsertShape make_insert_shape(const MapperBase& mapper, const SqlDialect& dialect,
                              std::uint64_t omitted, bool self_referential);

/// The shape of this thread's last INSERT, made again only when `mapper`, `dialect` or `omitted`
/// differ from it.
// A commit of one object, like each statement of a bulk flush, repeats the shape before it,
// which is then not worked out again. (Mappers live as long as the program, and the
// statement_sql() texts it points to as long as their mapper.) Not inlined: the caller then
// holds a plain reference, where an inlined thread_local is looked up again (a __tls_get_addr
// call) at each use.
InsertShape& insert_shape_of(const MapperBase& mapper, const SqlDialect& dialect,
                             std::uint64_t omitted, bool self_referential);

/// Whether a class's generated key is the value last_insert_id() reports, as the last probe of
/// its table found: a hint that picks how a one-row INSERT gets its key, never a proof (the
/// driver proves the key, DriverConnection::generated_key()).
enum class KeyHint : std::uint8_t { unknown, last_id, not_last_id };

/// The KeyHint for `mapper` (unknown until a flush probes its table), shared by all threads.
KeyHint key_hint_of(const MapperBase& mapper);
/// Records what key_hint_of() answers for `mapper` from now on.
void set_key_hint(const MapperBase& mapper, KeyHint hint);

/// What a probe (SqlDialect::generated_key_probe_sql()) found about one table.
class KeyProbe final : public RowSink {
public:
  void row(const DriverStatement& row) override {
    largest_ = row.is_null(0) ? 0 : row.get_int64(0);
    key_is_last_id_ = !row.is_null(1) && row.get_int64(1) != 0;
    triggers_ = !row.is_null(2) && row.get_int64(2) != 0;
    done_ = true;
  }
  bool done() const noexcept { return done_; }
  /// The key is the value last_insert_id() reports for a one-row INSERT.
  bool key_is_last_id() const noexcept { return key_is_last_id_; }
  /// Whether `rows` more rows inserted by multi-row INSERTs get the keys largest + 1, + 2, ...
  /// in VALUES order: nothing but the statement itself inserts into the table (no trigger may),
  /// and the keys stay below the largest rowid (past it SQLite picks free rowids at random).
  bool consecutive(std::size_t rows) const noexcept {
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    return key_is_last_id_ && !triggers_ && largest_ <= max - static_cast<std::int64_t>(rows);
  }

private:
  std::int64_t largest_ = 0;
  bool key_is_last_id_ = false;
  bool triggers_ = false;
  bool done_ = false;
};

} // namespace retort::detail

// Result and Row: rows streamed from a statement as they are stepped, never materialised unless
// asked (all()). A Row is a view of the current row; its typed accessors read the driver's
// column directly without boxing.
#pragma once

#include <retort/core/error.hpp>
#include <retort/core/export.hpp>
#include <retort/core/value.hpp>
#include <retort/engine/column_traits.hpp>
#include <retort/engine/driver.hpp>

#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace retort {

struct ConnectionState;

/// The current row of a Result. Valid until the Result advances.
class RETORT_API Row {
public:
  /// Wraps the current row of `statement`.
  explicit Row(const DriverStatement& statement) : statement_(&statement) {}

  /// Column `i` (0-based) as T; std::optional<T> reads NULL as nullopt.
  template <Mappable T> T get(int i) const { return read_column<T>(*statement_, i); }
  /// Column `name` as T; throws ArgumentError when no column has that name.
  template <Mappable T> T get(std::string_view name) const { return get<T>(index_of(name)); }
  /// Column `i` boxed as a Value.
  Value operator[](int i) const { return statement_->get_value(i); }
  /// Column `name` boxed as a Value.
  Value operator[](std::string_view name) const { return statement_->get_value(index_of(name)); }
  /// True when column `i` is NULL.
  bool is_null(int i) const { return statement_->is_null(i); }
  /// Number of columns.
  int size() const { return statement_->column_count(); }
  /// Index of column `name`.
  int index_of(std::string_view name) const;
  /// The row copied into Values.
  std::vector<Value> values() const;
  /// The underlying driver statement, for mappers reading many columns.
  const DriverStatement& statement() const { return *statement_; }

private:
  const DriverStatement* statement_;
};

/// Rows of one executed statement, stepped lazily. Move-only; keeps its connection alive.
class RETORT_API Result {
public:
  /// Made by Connection::execute.
  Result(std::shared_ptr<ConnectionState> connection, DriverStatement* statement,
         std::unique_ptr<DriverStatement> owned, bool has_row);
  Result(Result&& other) noexcept;
  Result& operator=(Result&& other) noexcept;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  ~Result();

  /// Advances to the next row; false at the end. The first row is current after execute.
  bool next();
  /// True while a row is current.
  bool has_row() const noexcept { return has_row_; }
  /// The current row; throws InvalidStateError past the end.
  Row row() const;
  /// Rows changed by an INSERT, UPDATE or DELETE (all its statements, for an INSERT that was
  /// split at the dialect's parameter limit).
  std::int64_t rows_affected() const;
  /// Column names.
  std::vector<std::string> columns() const;
  /// Every remaining row, copied.
  std::vector<std::vector<Value>> all();
  /// The first column of the first row as T; throws NoResultFound when there is no row.
  template <Mappable T> T scalar() {
    if (!has_row_) throw NoResultFound("scalar(): the statement returned no rows");
    T value = row().get<T>(0);
    close();
    return value;
  }
  /// Like scalar() but nullopt when there is no row.
  template <Mappable T> std::optional<T> scalar_or_none() {
    if (!has_row_) return std::nullopt;
    return scalar<T>();
  }
  /// Releases the statement now (otherwise on destruction).
  void close() noexcept;
  /// The driver statement behind the result (nullptr once closed), for the ORM's executors.
  DriverStatement* statement() const noexcept { return statement_; }

  /// Input iterator over rows: `for (const Row& row : result)`.
  class Iterator {
  public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Row;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    explicit Iterator(Result* result) : result_(result->has_row() ? result : nullptr) {}
    Row operator*() const { return result_->row(); }
    Iterator& operator++() {
      if (!result_->next()) result_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const Iterator& a, const Iterator& b) { return a.result_ == b.result_; }

  private:
    Result* result_ = nullptr;
  };
  /// Iterator to the current row.
  Iterator begin() { return Iterator(this); }
  /// Past-the-end iterator.
  Iterator end() { return Iterator(); }

private:
  friend class Connection; // a split INSERT adds the rows of its earlier statements

  std::shared_ptr<ConnectionState> connection_;
  DriverStatement* statement_ = nullptr;
  std::unique_ptr<DriverStatement> owned_;
  std::int64_t rows_before_ = 0;
  bool has_row_ = false;
};

} // namespace retort

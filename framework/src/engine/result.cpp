#include "connection_state.hpp"

#include <retort/engine/result.hpp>

#include <utility>

namespace retort {

int Row::index_of(std::string_view name) const {
  const int count = statement_->column_count();
  for (int i = 0; i < count; ++i)
    if (statement_->column_name(i) == name) return i;
  throw ArgumentError("no column named '" + std::string(name) +
                      "' in the result of: " + statement_->sql());
}

std::vector<Value> Row::values() const {
  std::vector<Value> out;
  const int count = statement_->column_count();
  out.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i)
    out.push_back(statement_->get_value(i));
  return out;
}

Result::Result(std::shared_ptr<ConnectionState> connection, DriverStatement* statement,
               std::unique_ptr<DriverStatement> owned, bool has_row)
    : connection_(std::move(connection)), statement_(statement), owned_(std::move(owned)),
      has_row_(has_row) {}

Result::Result(Result&& other) noexcept
    : connection_(std::move(other.connection_)),
      statement_(std::exchange(other.statement_, nullptr)), owned_(std::move(other.owned_)),
      rows_before_(std::exchange(other.rows_before_, 0)),
      has_row_(std::exchange(other.has_row_, false)) {}

Result& Result::operator=(Result&& other) noexcept {
  if (this == &other) return *this;
  close();
  connection_ = std::move(other.connection_);
  statement_ = std::exchange(other.statement_, nullptr);
  owned_ = std::move(other.owned_);
  rows_before_ = std::exchange(other.rows_before_, 0);
  has_row_ = std::exchange(other.has_row_, false);
  return *this;
}

Result::~Result() { close(); }

bool Result::next() {
  if (!has_row_) return false;
  try {
    has_row_ = statement_->step();
  } catch (...) {
    has_row_ = false;
    connection_->note_failure();
    throw;
  }
  return has_row_;
}

Row Result::row() const {
  if (!has_row_) throw InvalidStateError("the result has no current row");
  return Row(*statement_);
}

std::int64_t Result::rows_affected() const {
  if (statement_ == nullptr) throw InvalidStateError("the result is closed");
  return rows_before_ + statement_->rows_affected();
}

std::vector<std::string> Result::columns() const {
  if (statement_ == nullptr) throw InvalidStateError("the result is closed");
  std::vector<std::string> names;
  for (int i = 0; i < statement_->column_count(); ++i)
    names.emplace_back(statement_->column_name(i));
  return names;
}

std::vector<std::vector<Value>> Result::all() {
  std::vector<std::vector<Value>> rows;
  for (; has_row_; next())
    rows.push_back(row().values());
  close();
  return rows;
}

void Result::close() noexcept {
  if (statement_ == nullptr) return;
  // Resetting at once matters: an un-reset SQLite statement keeps its read lock.
  statement_->reset();
  connection_->busy.erase(statement_);
  statement_ = nullptr;
  owned_.reset();
  has_row_ = false;
  connection_.reset();
}

} // namespace retort

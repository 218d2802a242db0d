// The PostgreSQL driver over libpq: connection, prepared statements and the non-blocking side.
#pragma once

#include "pg_common.hpp"

#include <retort/core/options.hpp>
#include <retort/core/url.hpp>
#include <retort/engine/driver.hpp>
#include <retort/engine/nonblocking.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace retort::pg {

/// libpq connection keywords for `url` and `options` (options and query keys override).
std::map<std::string, std::string> connection_parameters(const Url& url, const Options& options);

/// A server-side prepared statement; executes with PQexecPrepared and walks its text rows.
class Statement final : public DriverStatement {
public:
  Statement(std::shared_ptr<Session> session, std::string sql);
  ~Statement() override;

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

  std::shared_ptr<Session> session_;
  std::string sql_;
  std::string name_;
  // The statement's description (parameter count, result columns) from PQdescribePrepared.
  ResultPtr description_;
  int parameter_count_ = 0;
  Params params_;
  bool bound_ = false;
  bool executed_ = false;
  Rows rows_;
};

/// One result of the non-blocking side.
class AsyncResult final : public NonBlockingResult {
public:
  AsyncResult(ResultPtr result, std::string sql, std::exception_ptr error);

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
  Rows rows_;
};

/// A libpq connection: the blocking driver API and its non-blocking side on the same handle.
class Connection final : public DriverConnection, public NonBlockingConnection {
public:
  /// Connects; throws OperationalError (without the password) on failure.
  Connection(const Url& url, const Options& options);
  /// Takes over a session whose connect has completed (see Connecting).
  explicit Connection(std::shared_ptr<Session> session);
  ~Connection() override;

  std::unique_ptr<DriverStatement> prepare(const std::string& sql) override;
  void execute(const std::string& sql) override;
  void begin() override;
  void commit() override;
  void rollback() override;
  bool in_transaction() const override;
  bool ping() override;
  bool is_valid() const override;
  bool check_alive() override;
  NonBlockingConnection* non_blocking() override { return this; }

  int socket() const override;
  void send_query(const std::string& sql, std::span<const Value> params) override;
  void send_prepare(const std::string& name, const std::string& sql) override;
  void send_prepared(const std::string& name, std::span<const Value> params) override;
  bool flush() override;
  void consume_input() override;
  bool is_busy() override;
  std::unique_ptr<NonBlockingResult> next_result() override;
  bool request_cancel() override;
  void enter_pipeline_mode() override;
  void pipeline_sync() override;
  void exit_pipeline_mode() override;
  bool in_pipeline_mode() const override;
  bool send_commit() override;
  bool settle() override;

private:
  bool commit_needed();
  PGconn* non_blocking_handle(const std::string& sql);
  // Reads and drops the results of requests the caller did not send (a deferred BEGIN at the
  // head of a pipeline); without `wait` only what has arrived. False while some are pending.
  bool skip_hidden(PGconn* conn, bool wait);
  void queue_behind_rollback();
  [[noreturn]] void send_failed(const std::string& sql);

  std::shared_ptr<Session> session_;
  // The SQL of each query sent on the non-blocking side whose results are not all read, in
  // order, so that each result and error names its statement.
  struct InFlight {
    std::string sql;
    bool sync = false;
    // Sent by the driver itself: its results are read and dropped, never handed out.
    bool hidden = false;
    // The previous transaction's ROLLBACK (hidden): if it failed, nothing behind it may be
    // trusted, and the connection is dropped.
    bool rollback = false;
  };
  std::deque<InFlight> in_flight_;
  // The previous transaction's ROLLBACK, read ahead of a pipeline queued behind it, failed.
  bool rollback_failed_ = false;
  // The failure of a hidden request, reported with the first statement it aborted.
  std::exception_ptr hidden_error_;
  std::map<std::string, std::string> prepared_sql_;
  Params async_params_;
};

/// A connect in progress without blocking (PQconnectStartParams, then PQconnectPoll). libpq
/// still resolves a host *name* with a blocking getaddrinfo(); an IP address (or hostaddr)
/// keeps the whole connect off the caller's thread.
class Connecting final : public PendingConnection {
public:
  /// Starts connecting; throws OperationalError when libpq refuses at once.
  Connecting(const Url& url, const Options& options);

  Need poll() override;
  int socket() const override;
  std::optional<std::chrono::steady_clock::time_point> deadline() const override {
    return deadline_;
  }
  [[noreturn]] void throw_timed_out() const override;
  std::unique_ptr<DriverConnection> finish() override;

private:
  [[noreturn]] void fail(const std::string& reason) const;

  std::shared_ptr<Session> session_;
  std::string target_;
  int timeout_seconds_ = 0;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  bool started_ = false;
  bool open_ = false;
};

} // namespace retort::pg

// A libpq connection: the blocking driver API and its non-blocking side on the same handle.
#pragma once

#include "handle.hpp"
#include "params.hpp"

#include <retort/core/options.hpp>
#include <retort/core/url.hpp>
#include <retort/engine/driver.hpp>
#include <retort/engine/nonblocking.hpp>

#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <span>
#include <string>

namespace retort::postgresql {

/// A libpq connection: the blocking driver API and its non-blocking side on the same handle.
class PgConnection final : public DriverConnection, public NonBlockingConnection {
public:
  /// Connects; throws OperationalError (without the password) on failure.
  PgConnection(const Url& url, const Options& options);
  /// Takes over a session whose connect has completed (see PgConnecting).
  explicit PgConnection(std::shared_ptr<PgHandle> handle);
  ~PgConnection() override;

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

  std::shared_ptr<PgHandle> handle_;
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
  PgParams async_params_;
};

} // namespace retort::postgresql

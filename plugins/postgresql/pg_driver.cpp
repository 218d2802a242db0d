#include "pg_driver.hpp"

#include <retort/core/error.hpp>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <string_view>
#include <vector>

namespace retort::pg {

namespace {

std::string trimmed(const char* text) {
  std::string out = text ? text : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
    out.pop_back();
  return out;
}

const std::set<std::string>& libpq_keywords() {
  static const std::set<std::string> keywords = [] {
    std::set<std::string> out;
    PQconninfoOption* defaults = PQconndefaults();
    for (auto* o = defaults; o && o->keyword; ++o)
      out.insert(o->keyword);
    PQconninfoFree(defaults);
    return out;
  }();
  return keywords;
}

void put_parameter(std::map<std::string, std::string>& out, const std::string& key,
                   const std::string& value, const char* origin) {
  if (!libpq_keywords().contains(key))
    throw OptionError(key, std::string("unknown PostgreSQL connection parameter '") + key +
                               "' in the " + origin + " (libpq connection keywords are accepted)");
  // Ours only fixes the date style; a user's server options are added after it and win.
  if (key == "options") {
    out[key] += " " + value;
    return;
  }
  out[key] = value;
}

// The target as text for error messages: never includes the password.
std::string describe_target(const std::map<std::string, std::string>& p) {
  auto get = [&](const char* key) {
    auto found = p.find(key);
    return found == p.end() ? std::string() : found->second;
  };
  std::string out = "postgresql://";
  if (!get("user").empty()) out += get("user") + "@";
  out += get("host").empty() ? std::string("(default host)") : get("host");
  if (!get("port").empty()) out += ":" + get("port");
  out += "/" + get("dbname");
  return out;
}

bool completed(const PGresult* r) {
  if (!r) return false;
  auto status = PQresultStatus(r);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY;
}

// Reads the results of one pipelined request up to the nullptr that ends them; keeps the first.
ResultPtr take_pipelined(PGconn* conn) {
  ResultPtr first(PQgetResult(conn));
  while (ResultPtr extra{PQgetResult(conn)}) {
  }
  return first;
}

// Sends BEGIN inside the current pipeline (a deferred transaction start riding along with the
// statement that needs it).
bool queue_begin(PGconn* conn) {
  return PQsendQueryParams(conn, "BEGIN", 0, nullptr, nullptr, nullptr, nullptr, 0) != 0;
}

// What a pipelined request answered: BEGIN's result when a deferred BEGIN was sent with it, and
// the request's own results.
struct Pipelined {
  ResultPtr begin;
  ResultPtr first;
  ResultPtr second;
};

// Prepares `sql` as `name` and describes it (parameter count, result columns) in one round
// trip by pipelining both requests (after BEGIN when `begin`); PQprepare followed by
// PQdescribePrepared would take two. Without pipeline mode, one request after the other.
Pipelined prepare_and_describe(PGconn* conn, const std::string& name, const std::string& sql,
                               bool begin) {
  Pipelined out;
  if (PQpipelineStatus(conn) != PQ_PIPELINE_OFF || !PQenterPipelineMode(conn)) {
    if (begin) {
      out.begin.reset(PQexec(conn, "BEGIN"));
      if (!completed(out.begin.get())) return out;
    }
    out.first.reset(PQprepare(conn, name.c_str(), sql.c_str(), 0, nullptr));
    return out;
  }
  if ((!begin || queue_begin(conn)) && PQsendPrepare(conn, name.c_str(), sql.c_str(), 0, nullptr) &&
      PQsendDescribePrepared(conn, name.c_str()) && PQpipelineSync(conn)) {
    if (begin) out.begin = take_pipelined(conn);
    out.first = take_pipelined(conn);
    out.second = take_pipelined(conn);
    // The sync's own result: PGRES_PIPELINE_SYNC, not followed by a nullptr.
    ResultPtr sync(PQgetResult(conn));
  }
  PQexitPipelineMode(conn);
  if (completed(out.first.get()) && !out.second)
    out.second.reset(PQdescribePrepared(conn, name.c_str()));
  return out;
}

// BEGIN and an execution of prepared statement `name` in one pipeline: one round trip. Behind
// an unawaited ROLLBACK they join its pipeline, and its answer is read first.
Pipelined begin_and_execute(Session& session, PGconn* conn, const std::string& name,
                            const Params& params) {
  Pipelined out;
  const bool behind_rollback = session.rollback_in_flight();
  if (!behind_rollback &&
      (PQpipelineStatus(conn) != PQ_PIPELINE_OFF || !PQenterPipelineMode(conn))) {
    out.begin.reset(PQexec(conn, "BEGIN"));
    if (completed(out.begin.get()))
      out.first.reset(PQexecPrepared(conn, name.c_str(), params.count(), params.values(),
                                     params.lengths(), params.formats(), 0));
    return out;
  }
  if (queue_begin(conn) &&
      PQsendQueryPrepared(conn, name.c_str(), params.count(), params.values(), params.lengths(),
                          params.formats(), 0) &&
      PQpipelineSync(conn)) {
    if (behind_rollback) session.read_rollback_ahead();
    out.begin = take_pipelined(conn);
    out.first = take_pipelined(conn);
    ResultPtr sync(PQgetResult(conn));
  }
  PQexitPipelineMode(conn);
  return out;
}

} // namespace

std::map<std::string, std::string> connection_parameters(const Url& url, const Options& options) {
  std::map<std::string, std::string> p;
  // Dates and times travel as ISO-8601 text whatever the server's default DateStyle is.
  p["options"] = "-c DateStyle=ISO,YMD";
  p["client_encoding"] = "UTF8";
  if (!url.host.empty()) p["host"] = url.host;
  if (url.port) p["port"] = std::to_string(*url.port);
  if (!url.username.empty()) p["user"] = url.username;
  if (url.password) p["password"] = *url.password;
  if (!url.database.empty()) p["dbname"] = url.database;
  for (const auto& [key, value] : url.query)
    put_parameter(p, key, value, "URL query");
  for (const auto& [key, value] : options)
    put_parameter(p, key, value, "dialect options");
  return p;
}

// ---- Statement -------------------------------------------------------------------------------

Statement::Statement(std::shared_ptr<Session> session, std::string sql)
    : session_(std::move(session)), sql_(std::move(sql)) {
  PGconn* conn = session_->usable(sql_);
  name_ = session_->next_statement_name();
  // A deferred BEGIN goes out with the preparation, so that a statement that fails to prepare
  // aborts the transaction exactly as it would have after an eager BEGIN.
  const bool begin = session_->take_begin();
  auto answer = prepare_and_describe(conn, name_, sql_, begin);
  if (begin && !completed(answer.begin.get())) session_->raise(answer.begin.get(), "BEGIN");
  if (!completed(answer.first.get())) session_->raise(answer.first.get(), sql_);
  if (!completed(answer.second.get())) {
    session_->forget_statement(name_);
    session_->raise(answer.second.get(), sql_);
  }
  description_ = std::move(answer.second);
  parameter_count_ = PQnparams(description_.get());
}

Statement::~Statement() { session_->forget_statement(std::move(name_)); }

void Statement::bind(std::span<const Value> params) {
  if (static_cast<int>(params.size()) != parameter_count_)
    throw ArgumentError("statement takes " + std::to_string(parameter_count_) + " parameters, " +
                        std::to_string(params.size()) + " given: " + sql_);
  rows_.clear();
  executed_ = false;
  params_.assign(params, sql_);
  bound_ = true;
}

void Statement::execute() {
  if (parameter_count_ > 0 && !bound_)
    throw ArgumentError("statement takes " + std::to_string(parameter_count_) +
                        " parameters, none bound: " + sql_);
  ResultPtr result;
  if (session_->take_begin()) {
    // The transaction's first statement: BEGIN rides along, one round trip for both, and
    // neither waits for the previous transaction's ROLLBACK to be answered.
    PGconn* conn = session_->open_handle(sql_);
    const bool behind_rollback = session_->rollback_in_flight();
    auto answer = begin_and_execute(*session_, conn, name_, params_);
    // A failed ROLLBACK ahead: what ran after it is never committed, the connection goes.
    if (behind_rollback && !session_->valid())
      throw OperationalError("the connection failed while rolling back its previous "
                             "transaction",
                             "08006", 0, sql_);
    if (!completed(answer.begin.get())) session_->raise(answer.begin.get(), "BEGIN");
    result = std::move(answer.first);
  } else {
    PGconn* conn = session_->usable(sql_);
    // Results come back in text format (0): parsing text is cheap and keeps every type readable.
    result.reset(PQexecPrepared(conn, name_.c_str(), params_.count(), params_.values(),
                                params_.lengths(), params_.formats(), 0));
  }
  if (!completed(result.get())) session_->raise(result.get(), sql_);
  rows_.reset(std::move(result), &sql_);
  executed_ = true;
}

bool Statement::step() {
  if (!executed_) execute();
  return rows_.next();
}

void Statement::reset() {
  rows_.clear();
  executed_ = false;
}

int Statement::column_count() const {
  return executed_ ? rows_.column_count() : PQnfields(description_.get());
}

std::string_view Statement::column_name(int i) const {
  if (executed_) return rows_.column_name(i);
  if (i < 0 || i >= PQnfields(description_.get()))
    throw ArgumentError("column index " + std::to_string(i) + " out of range");
  return PQfname(description_.get(), i);
}

// ---- AsyncResult -----------------------------------------------------------------------------

namespace {

ResultStatus status_of(const PGresult* r, bool failed) {
  if (failed) return ResultStatus::error;
  switch (PQresultStatus(r)) {
  case PGRES_TUPLES_OK:
  case PGRES_SINGLE_TUPLE: return ResultStatus::rows;
  case PGRES_PIPELINE_SYNC: return ResultStatus::pipeline_sync;
  case PGRES_PIPELINE_ABORTED: return ResultStatus::pipeline_aborted;
  default: return ResultStatus::command;
  }
}

} // namespace

AsyncResult::AsyncResult(ResultPtr result, std::string sql, std::exception_ptr error)
    : status_(status_of(result.get(), error != nullptr)), sql_(std::move(sql)),
      error_(std::move(error)) {
  if (status_ == ResultStatus::pipeline_aborted)
    error_ = std::make_exception_ptr(DatabaseError(
        "not executed: an earlier statement of this pipeline segment failed", "", 0, sql_));
  rows_.reset(std::move(result), &sql_);
}

void AsyncResult::throw_if_error() const {
  if (error_) std::rethrow_exception(error_);
}

void AsyncResult::bind(std::span<const Value>) {
  throw InvalidStateError("a non-blocking result cannot be bound; send a new query instead");
}

bool AsyncResult::step() {
  throw_if_error();
  return rows_.next();
}

// ---- Connection ------------------------------------------------------------------------------

namespace {

// libpq's keyword and value arrays for connection_parameters(); they point into `parameters`.
struct ConnectArguments {
  std::map<std::string, std::string> parameters;
  std::vector<const char*> keys;
  std::vector<const char*> values;

  ConnectArguments(const Url& url, const Options& options)
      : parameters(connection_parameters(url, options)) {
    for (const auto& [key, value] : parameters) {
      keys.push_back(key.c_str());
      values.push_back(value.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
  }
  std::string password() const {
    auto found = parameters.find("password");
    return found == parameters.end() ? "" : found->second;
  }
};

[[noreturn]] void throw_connect_failed(const Session& session, const std::string& target,
                                       const std::string& reason) {
  throw OperationalError(session.scrub("could not connect to " + target + ": " + reason), "08001",
                         0, "");
}

// The connect_timeout in force (URL, options or PGCONNECT_TIMEOUT), in seconds; 0 for none.
// libpq reads 1 as 2, and so do we.
int connect_timeout_seconds(PGconn* conn) {
  int seconds = 0;
  PQconninfoOption* info = PQconninfo(conn);
  for (auto* o = info; o && o->keyword; ++o)
    if (std::string_view(o->keyword) == "connect_timeout" && o->val) seconds = std::atoi(o->val);
  PQconninfoFree(info);
  return seconds == 1 ? 2 : std::max(seconds, 0);
}

} // namespace

Connection::Connection(const Url& url, const Options& options) {
  ConnectArguments arguments(url, options);
  session_ = std::make_shared<Session>(
      PQconnectdbParams(arguments.keys.data(), arguments.values.data(), 0), arguments.password());
  PGconn* conn = session_->conn();
  if (!conn) throw OperationalError("libpq could not allocate a connection", "08001", 0, "");
  if (PQstatus(conn) != CONNECTION_OK)
    throw_connect_failed(*session_, describe_target(arguments.parameters),
                         trimmed(PQerrorMessage(conn)));
  // Notices (e.g. "table does not exist, skipping") would go to stderr by default.
  session_->watch_notices();
}

// The per-connection setup after connecting has no round trip (the date style and encoding
// travel as connection parameters), so it is the same for both ways of connecting.
Connection::Connection(std::shared_ptr<Session> session) : session_(std::move(session)) {
  session_->watch_notices();
}

// ---- Connecting ------------------------------------------------------------------------------

Connecting::Connecting(const Url& url, const Options& options) {
  ConnectArguments arguments(url, options);
  target_ = describe_target(arguments.parameters);
  session_ = std::make_shared<Session>(
      PQconnectStartParams(arguments.keys.data(), arguments.values.data(), 0),
      arguments.password());
  PGconn* conn = session_->conn();
  if (!conn) throw OperationalError("libpq could not allocate a connection", "08001", 0, "");
  if (PQstatus(conn) == CONNECTION_BAD) fail(trimmed(PQerrorMessage(conn)));
  // PQconnectPoll leaves connect_timeout to its caller: it bounds the whole attempt here.
  timeout_seconds_ = connect_timeout_seconds(conn);
  if (timeout_seconds_ > 0)
    deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds_);
}

void Connecting::fail(const std::string& reason) const {
  throw_connect_failed(*session_, target_, reason);
}

PendingConnection::Need Connecting::poll() {
  if (open_) return Need::nothing;
  // libpq: before the first PQconnectPoll, behave as if it had returned PGRES_POLLING_WRITING.
  if (!started_) {
    started_ = true;
    return Need::write;
  }
  PGconn* conn = session_->conn();
  switch (PQconnectPoll(conn)) {
  case PGRES_POLLING_READING: return Need::read;
  case PGRES_POLLING_WRITING: return Need::write;
  case PGRES_POLLING_OK: open_ = true; return Need::nothing;
  default: fail(trimmed(PQerrorMessage(conn)));
  }
}

int Connecting::socket() const { return PQsocket(session_->conn()); }

void Connecting::throw_timed_out() const {
  fail("timeout expired (connect_timeout " + std::to_string(timeout_seconds_) + " s)");
}

std::unique_ptr<DriverConnection> Connecting::finish() {
  if (!open_) throw InvalidStateError("PostgreSQL: finish() before the connect completed");
  open_ = false;
  return std::make_unique<Connection>(std::move(session_));
}

Connection::~Connection() {
  clear_statement_cache();
  session_->close();
}

std::unique_ptr<DriverStatement> Connection::prepare(const std::string& sql) {
  session_->usable(sql);
  session_->deallocate_forgotten();
  return std::make_unique<Statement>(session_, sql);
}

void Connection::execute(const std::string& sql) {
  PGconn* conn = session_->usable(sql);
  // A deferred BEGIN goes first in the same simple query (one round trip); a failure of `sql`
  // then leaves the transaction open and failed, as after an eager BEGIN.
  ResultPtr result(PQexec(conn, session_->take_begin() ? ("BEGIN;" + sql).c_str() : sql.c_str()));
  if (!completed(result.get())) session_->raise(result.get(), sql);
}

// BEGIN waits for the transaction's first statement and travels with it (execute(),
// Statement::execute, prepare, enter_pipeline_mode): a transaction costs no round trip of its
// own, and one that runs nothing costs none at all.
void Connection::begin() {
  session_->open_handle("BEGIN");
  session_->defer_begin();
}

void Connection::commit() {
  if (!commit_needed()) return;
  execute("COMMIT");
}

bool Connection::send_commit() {
  if (!commit_needed()) return false;
  send_query("COMMIT", {});
  return true;
}

bool Connection::settle() {
  // Nothing to wait for: a pipeline queues behind an unawaited ROLLBACK and reads its answer
  // first (enter_pipeline_mode()), and a COMMIT never follows one (a transaction that ran
  // nothing commits nothing). What has already arrived is read now. A broken connection is
  // settled too: the next request reports it.
  if (session_->rollback_in_flight() && session_->valid()) session_->reap_rollback();
  return true;
}

// What commit() and send_commit() decide before COMMIT goes out: a transaction that ran
// nothing needs none, and a failed one is rolled back (PostgreSQL would answer its COMMIT with
// a silent ROLLBACK) and reported as the error it is.
bool Connection::commit_needed() {
  session_->open_handle("COMMIT");
  if (session_->take_begin()) return false; // nothing ran: nothing to commit
  PGconn* conn = session_->usable("COMMIT");
  if (PQtransactionStatus(conn) == PQTRANS_INERROR) {
    session_->send_rollback(); // not awaited, as rollback(): an event loop must not wait here
    throw DatabaseError("the transaction had failed and was rolled back instead of committed",
                        "25P02", 0, "COMMIT");
  }
  return true;
}

// Not awaited: the server releases the transaction's locks when it reads ROLLBACK; its answer
// is read before the next request (Session::usable) or when the pool hands the connection out
// (check_alive), and a failure there discards the connection.
void Connection::rollback() {
  session_->open_handle("ROLLBACK");
  if (session_->take_begin()) return; // nothing ran: nothing to roll back
  session_->send_rollback();
}

bool Connection::in_transaction() const {
  PGconn* conn = session_->conn();
  if (!conn) return false;
  if (session_->begin_pending()) return true;
  if (session_->rollback_in_flight()) return false;
  auto status = PQtransactionStatus(conn);
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
}

// No I/O: asked at checkin, right after a ROLLBACK went out, when its answer cannot be there yet.
bool Connection::is_valid() const { return session_->valid(); }

bool Connection::check_alive() {
  session_->look_at_socket();
  return session_->valid();
}

bool Connection::ping() {
  if (!session_->valid()) return false;
  try {
    session_->usable("SELECT 1");
  } catch (const DatabaseError&) {
    return false;
  }
  PGconn* conn = session_->conn();
  // With a non-blocking query in flight a round trip is impossible; the status must do.
  if (PQtransactionStatus(conn) == PQTRANS_ACTIVE || PQpipelineStatus(conn) != PQ_PIPELINE_OFF)
    return true;
  ResultPtr result(PQexec(conn, "SELECT 1"));
  if (completed(result.get())) return true;
  // An error on a live connection (e.g. in an aborted transaction) still proves it alive.
  session_->error_for(result.get(), "SELECT 1");
  return session_->valid();
}

// ---- Connection: non-blocking side -----------------------------------------------------------

int Connection::socket() const {
  PGconn* conn = session_->conn();
  return conn ? PQsocket(conn) : -1;
}

PGconn* Connection::non_blocking_handle(const std::string& sql) {
  PGconn* conn = session_->usable(sql);
  if (!PQisnonblocking(conn) && PQsetnonblocking(conn, 1) != 0) session_->raise(nullptr, sql);
  // Outside pipeline mode a deferred BEGIN cannot share the request's round trip without
  // changing what the caller reads back, so it goes first, eagerly (as begin() used to do).
  // enter_pipeline_mode() instead sends it inside the pipeline (which is how the async
  // executor sends every statement, so as not to block here).
  if (PQpipelineStatus(conn) == PQ_PIPELINE_OFF && session_->take_begin()) {
    ResultPtr result(PQexec(conn, "BEGIN"));
    if (!completed(result.get())) session_->raise(result.get(), "BEGIN");
  }
  return conn;
}

void Connection::send_failed(const std::string& sql) { session_->raise(nullptr, sql); }

void Connection::send_query(const std::string& sql, std::span<const Value> params) {
  async_params_.assign(params, sql);
  PGconn* conn = non_blocking_handle(sql);
  if (!PQsendQueryParams(conn, sql.c_str(), async_params_.count(), async_params_.types(),
                         async_params_.values(), async_params_.lengths(), async_params_.formats(),
                         0))
    send_failed(sql);
  in_flight_.push_back({sql, false});
}

void Connection::send_prepare(const std::string& name, const std::string& sql) {
  PGconn* conn = non_blocking_handle(sql);
  if (!PQsendPrepare(conn, name.c_str(), sql.c_str(), 0, nullptr)) send_failed(sql);
  prepared_sql_[name] = sql;
  in_flight_.push_back({sql, false});
}

void Connection::send_prepared(const std::string& name, std::span<const Value> params) {
  auto known = prepared_sql_.find(name);
  const std::string sql = known == prepared_sql_.end() ? "EXECUTE " + name : known->second;
  async_params_.assign(params, sql);
  PGconn* conn = non_blocking_handle(sql);
  if (!PQsendQueryPrepared(conn, name.c_str(), async_params_.count(), async_params_.values(),
                           async_params_.lengths(), async_params_.formats(), 0))
    send_failed(sql);
  in_flight_.push_back({sql, false});
}

bool Connection::flush() {
  PGconn* conn = session_->usable("");
  int status = PQflush(conn);
  if (status < 0) session_->raise(nullptr, in_flight_.empty() ? "" : in_flight_.front().sql);
  return status == 0;
}

void Connection::consume_input() {
  PGconn* conn = session_->usable("");
  if (!PQconsumeInput(conn))
    session_->raise(nullptr, in_flight_.empty() ? "" : in_flight_.front().sql);
}

bool Connection::skip_hidden(PGconn* conn, bool wait) {
  while (!in_flight_.empty() && in_flight_.front().hidden) {
    if (!wait && PQisBusy(conn)) return false;
    ResultPtr result(PQgetResult(conn));
    const InFlight& front = in_flight_.front();
    if (front.rollback) {
      const auto status = result ? PQresultStatus(result.get()) : PGRES_COMMAND_OK;
      if (status != (front.sync ? PGRES_PIPELINE_SYNC : PGRES_COMMAND_OK)) {
        session_->mark_broken();
        rollback_failed_ = true;
      }
      // A sync has no end marker; the ROLLBACK's answer has one (nullptr), read next.
      if (front.sync || !result) in_flight_.pop_front();
      continue;
    }
    if (!result) {
      in_flight_.pop_front();
      continue;
    }
    if (!completed(result.get()) && !hidden_error_)
      hidden_error_ = session_->error_for(result.get(), in_flight_.front().sql);
  }
  return true;
}

bool Connection::is_busy() {
  PGconn* conn = session_->conn();
  if (!conn) return false;
  return !skip_hidden(conn, false) || PQisBusy(conn) != 0;
}

std::unique_ptr<NonBlockingResult> Connection::next_result() {
  PGconn* conn = session_->conn();
  if (!conn) throw OperationalError("the connection is closed", "08003", 0, "");
  skip_hidden(conn, true);
  // As in the blocking begin_and_execute(): behind a failed ROLLBACK nothing is trusted.
  if (rollback_failed_)
    throw OperationalError("the connection failed while rolling back its previous transaction",
                           "08006", 0, in_flight_.empty() ? "" : in_flight_.front().sql);
  ResultPtr result(PQgetResult(conn));
  if (!result) {
    // The end of one query's results; a sync has no such end marker.
    if (!in_flight_.empty() && !in_flight_.front().sync) in_flight_.pop_front();
    return nullptr;
  }
  const auto status = PQresultStatus(result.get());
  std::string sql = in_flight_.empty() ? std::string() : in_flight_.front().sql;
  if (status == PGRES_PIPELINE_SYNC && !in_flight_.empty() && in_flight_.front().sync)
    in_flight_.pop_front();
  std::exception_ptr error;
  if (status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE || status == PGRES_NONFATAL_ERROR)
    error = session_->error_for(result.get(), sql);
  // Statements aborted because the pipeline's hidden BEGIN failed: the first one says why.
  if (status == PGRES_PIPELINE_ABORTED && hidden_error_) error = std::exchange(hidden_error_, {});
  if (status == PGRES_PIPELINE_SYNC) hidden_error_ = nullptr;
  return std::make_unique<AsyncResult>(std::move(result), std::move(sql), std::move(error));
}

bool Connection::request_cancel() {
  PGconn* conn = session_->conn();
  if (!conn || !session_->valid()) return false;
  std::unique_ptr<PGcancel, decltype(&PQfreeCancel)> cancel(PQgetCancel(conn), PQfreeCancel);
  if (!cancel) return false;
  char error[256] = {};
  return PQcancel(cancel.get(), error, sizeof error) == 1;
}

// The previous transaction's ROLLBACK went out in a pipeline segment of its own, unawaited. The
// new pipeline joins that one, and its answer is read and checked first (skip_hidden()), so
// that the new requests do not wait a round trip for it, as in the blocking
// begin_and_execute().
void Connection::queue_behind_rollback() {
  switch (session_->hand_over_rollback()) {
  case Session::RollbackLeft::nothing: return;
  case Session::RollbackLeft::answer_and_sync:
    in_flight_.push_back({"ROLLBACK", false, true, true});
    [[fallthrough]];
  case Session::RollbackLeft::sync: in_flight_.push_back({"ROLLBACK", true, true, true}); return;
  }
}

void Connection::enter_pipeline_mode() {
  if (session_->valid()) queue_behind_rollback();
  PGconn* conn = session_->usable("");
  if (!PQisnonblocking(conn) && PQsetnonblocking(conn, 1) != 0) session_->raise(nullptr, "");
  if (!PQenterPipelineMode(conn))
    throw InvalidStateError("cannot enter pipeline mode: " + trimmed(PQerrorMessage(conn)));
  // A deferred BEGIN opens the pipeline; its answer is read and dropped by next_result().
  if (session_->take_begin()) {
    if (!queue_begin(conn)) send_failed("BEGIN");
    in_flight_.push_back({"BEGIN", false, true});
  }
}

void Connection::pipeline_sync() {
  PGconn* conn = session_->usable("");
  if (!PQpipelineSync(conn)) send_failed("");
  in_flight_.push_back({"", true});
}

void Connection::exit_pipeline_mode() {
  PGconn* conn = session_->usable("");
  if (!PQexitPipelineMode(conn))
    throw InvalidStateError("cannot leave pipeline mode: " + trimmed(PQerrorMessage(conn)));
}

bool Connection::in_pipeline_mode() const {
  PGconn* conn = session_->conn();
  // An unawaited ROLLBACK's own pipeline is the driver's business, not the caller's.
  return conn && !session_->rollback_in_flight() && PQpipelineStatus(conn) != PQ_PIPELINE_OFF;
}

} // namespace retort::pg

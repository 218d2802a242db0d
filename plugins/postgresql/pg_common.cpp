#include "pg_common.hpp"

#include <retort/core/error.hpp>

#include <cerrno>
#include <charconv>
#include <cstring>

#include <poll.h>
#include <sys/socket.h>

namespace retort::pg {

namespace {

// Type OIDs of pg_type (catalog/pg_type_d.h is a server header, not part of libpq-dev).
constexpr Oid bool_oid = 16;
constexpr Oid bytea_oid = 17;
constexpr Oid int8_oid = 20;
constexpr Oid int2_oid = 21;
constexpr Oid int4_oid = 23;
constexpr Oid oid_oid = 26;
constexpr Oid float4_oid = 700;
constexpr Oid float8_oid = 701;

std::string trimmed(const char* text) {
  std::string out = text ? text : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
    out.pop_back();
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Notice receiver: the server's FATAL or PANIC outside a request announces that it closes the
// connection (pg_terminate_backend, shutdown, idle session timeout).
void on_notice(void* session, const PGresult* notice) {
  const char* severity = PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
  if (severity && (std::strcmp(severity, "FATAL") == 0 || std::strcmp(severity, "PANIC") == 0))
    static_cast<Session*>(session)->mark_broken();
}

// What a non-blocking peek at a socket shows.
enum class Peek { nothing, data, closed };

Peek peek(int socket) noexcept {
  char byte = 0;
  for (;;) {
    const auto n = ::recv(socket, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return Peek::data;
    if (n == 0) return Peek::closed;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK ? Peek::nothing : Peek::closed;
  }
}

} // namespace

// ---- Session ---------------------------------------------------------------------------------

Session::Session(PGconn* conn, std::string password) noexcept
    : conn_(conn), password_(std::move(password)) {}

Session::~Session() { close(); }

void Session::close() noexcept {
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
}

bool Session::valid() const noexcept {
  return conn_ && !broken_ && PQstatus(conn_) == CONNECTION_OK;
}

PGconn* Session::open_handle(const std::string& sql) {
  if (!conn_) throw OperationalError("the connection is closed", "08003", 0, sql);
  if (broken_ || PQstatus(conn_) != CONNECTION_OK) {
    broken_ = true;
    throw OperationalError("the connection to the server was lost", "08006", 0, sql);
  }
  return conn_;
}

PGconn* Session::usable(const std::string& sql) {
  open_handle(sql);
  if (!rollback_in_flight_) return conn_;
  finish_rollback(true, false);
  if (broken_)
    throw OperationalError("the connection failed while rolling back its previous transaction",
                           "08006", 0, sql);
  return conn_;
}

void Session::send_rollback() {
  PGconn* conn = usable("ROLLBACK");
  // Its own pipeline segment: the next transaction's first request may then be queued behind it
  // at once instead of waiting for this answer.
  if (!PQenterPipelineMode(conn)) raise(nullptr, "ROLLBACK");
  rollback_in_flight_ = true;
  rollback_stage_ = RollbackStage::result;
  if (!PQsendQueryParams(conn, "ROLLBACK", 0, nullptr, nullptr, nullptr, nullptr, 0) ||
      !PQpipelineSync(conn)) {
    broken_ = true;
    raise(nullptr, "ROLLBACK");
  }
  // A non-blocking connection may keep part of the request queued: the server must have it now,
  // so that the transaction's locks go at once, not at the next use of the connection.
  for (int sent = PQflush(conn); sent != 0; sent = PQflush(conn)) {
    if (sent < 0) raise(nullptr, "ROLLBACK");
    pollfd fd{PQsocket(conn), POLLOUT | POLLIN, 0};
    if (::poll(&fd, 1, -1) < 0 && errno != EINTR) raise(nullptr, "ROLLBACK");
    if (!PQconsumeInput(conn)) raise(nullptr, "ROLLBACK");
  }
}

void Session::reap_rollback() noexcept {
  if (!rollback_in_flight_ || !conn_ || broken_) return;
  if (!PQconsumeInput(conn_)) {
    broken_ = true;
    return;
  }
  finish_rollback(false, false);
  // What arrived behind the answer, such as the server's FATAL before it closed the connection,
  // is parsed now (on_notice), not when the next request is already on its way.
  if (!rollback_in_flight_ && !broken_) PQisBusy(conn_);
}

Session::RollbackLeft Session::hand_over_rollback() noexcept {
  if (!rollback_in_flight_) return RollbackLeft::nothing;
  rollback_in_flight_ = false;
  // The answer read but not its end marker: the caller reads that marker as the answer's end.
  return rollback_stage_ == RollbackStage::sync ? RollbackLeft::sync
                                                : RollbackLeft::answer_and_sync;
}

void Session::watch_notices() noexcept {
  if (conn_) PQsetNoticeReceiver(conn_, on_notice, this);
}

void Session::look_at_socket() noexcept {
  if (!valid()) return;
  if (rollback_in_flight_) {
    reap_rollback();
    // The answer may have come before the server went away (a crash, a restart): the end of the
    // stream behind it is seen only by looking again, as at any idle connection.
    if (rollback_in_flight_ || !valid()) return;
  }
  // Only an idle connection has nothing to say; one with a request in flight is left alone.
  if (PQpipelineStatus(conn_) != PQ_PIPELINE_OFF || PQtransactionStatus(conn_) == PQTRANS_ACTIVE)
    return;
  switch (peek(PQsocket(conn_))) {
  case Peek::nothing: return;
  case Peek::closed: broken_ = true; return;
  case Peek::data: break;
  }
  // Sent unasked: most likely the server's FATAL (on_notice), then the end of the stream.
  if (!PQconsumeInput(conn_)) {
    broken_ = true;
    return;
  }
  PQisBusy(conn_);
  if (peek(PQsocket(conn_)) == Peek::closed) broken_ = true;
}

void Session::finish_rollback(bool wait, bool keep_pipeline) noexcept {
  // Anything unexpected: the connection is not to be trusted again (the pool discards it).
  auto fail = [this] {
    rollback_in_flight_ = false;
    broken_ = true;
  };
  while (rollback_in_flight_) {
    // PQgetResult waits only while PQisBusy(); without `wait` whatever has arrived is read.
    if (!wait && PQisBusy(conn_)) return;
    ResultPtr result(PQgetResult(conn_));
    const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    switch (rollback_stage_) {
    case RollbackStage::result:
      if (!result || status != PGRES_COMMAND_OK) return fail();
      rollback_stage_ = RollbackStage::end;
      break;
    case RollbackStage::end:
      if (result) return fail();
      rollback_stage_ = RollbackStage::sync;
      break;
    case RollbackStage::sync:
      if (!result || status != PGRES_PIPELINE_SYNC) return fail();
      rollback_in_flight_ = false;
      if (keep_pipeline) return;
      if (!PQexitPipelineMode(conn_) || PQstatus(conn_) != CONNECTION_OK ||
          PQtransactionStatus(conn_) != PQTRANS_IDLE)
        broken_ = true;
      return;
    }
  }
}

std::string Session::next_statement_name() {
  return "retort_" + std::to_string(++statements_named_);
}

void Session::forget_statement(std::string name) {
  if (conn_ && !broken_) forgotten_.push_back(std::move(name));
}

void Session::deallocate_forgotten() noexcept {
  if (forgotten_.empty() || !valid()) return;
  // DEALLOCATE fails in an aborted transaction and would abort a healthy one on error, so it
  // only runs between transactions, and never while a non-blocking query is in flight.
  if (PQtransactionStatus(conn_) != PQTRANS_IDLE || PQpipelineStatus(conn_) != PQ_PIPELINE_OFF)
    return;
  std::string sql;
  for (const auto& name : forgotten_)
    sql += "DEALLOCATE " + name + ";";
  forgotten_.clear();
  ResultPtr result(PQexec(conn_, sql.c_str()));
  if (PQstatus(conn_) != CONNECTION_OK) broken_ = true;
}

std::string Session::scrub(std::string text) const {
  if (password_.empty()) return text;
  for (auto at = text.find(password_); at != std::string::npos; at = text.find(password_, at))
    text.replace(at, password_.size(), "***");
  return text;
}

std::exception_ptr Session::error_for(const PGresult* result, const std::string& sql) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string sqlstate = state ? state : "";
  std::string message = primary  ? trimmed(primary)
                        : result ? trimmed(PQresultErrorMessage(result))
                                 : std::string();
  if (message.empty() && conn_) message = trimmed(PQerrorMessage(conn_));
  if (message.empty()) message = "unknown error from libpq";
  message = scrub(std::move(message));

  bool lost = !conn_ || PQstatus(conn_) == CONNECTION_BAD;
  if (lost || starts_with(sqlstate, "08") || starts_with(sqlstate, "57P")) broken_ = true;
  if (sqlstate.empty() && lost) sqlstate = "08006";
  if (sqlstate.empty()) return std::make_exception_ptr(InterfaceError(message, "", 0, sql));
  return make_database_error(sqlstate, std::move(message), sql);
}

void Session::raise(const PGresult* result, const std::string& sql) {
  std::rethrow_exception(error_for(result, sql));
}

std::exception_ptr make_database_error(const std::string& sqlstate, std::string message,
                                       std::string sql) {
  auto make = [&]<typename E>() {
    return std::make_exception_ptr(E(std::move(message), sqlstate, 0, std::move(sql)));
  };
  std::string_view cls = std::string_view(sqlstate).substr(0, 2);
  if (cls == "23") return make.template operator()<IntegrityError>();
  if (sqlstate == "40001" || sqlstate == "40P01")
    return make.template operator()<OperationalError>();
  if (cls == "08" || cls == "57" || cls == "53" || cls == "58")
    return make.template operator()<OperationalError>();
  if (cls == "42") return make.template operator()<ProgrammingError>();
  if (cls == "22") return make.template operator()<DataError>();
  if (cls == "XX") return make.template operator()<InternalError>();
  if (cls == "0A") return make.template operator()<NotSupportedError>();
  return make.template operator()<DatabaseError>();
}

// ---- Params ----------------------------------------------------------------------------------

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '"';
}

// Where placeholder $`position` stands in `sql`: npos when it does not.
std::size_t find_placeholder(std::string_view sql, std::size_t position) {
  const std::string token = "$" + std::to_string(position);
  for (auto at = sql.find(token); at != std::string_view::npos; at = sql.find(token, at + 1)) {
    const std::size_t end = at + token.size();
    if (end == sql.size() || sql[end] < '0' || sql[end] > '9') return at;
  }
  return std::string_view::npos;
}

// The column of an INSERT's column list that the placeholder at `at` fills, or "".
std::string inserted_column(std::string_view sql, std::size_t at) {
  if (sql.substr(0, 12) != "INSERT INTO ") return {};
  const std::size_t open = sql.find(" (");
  const std::size_t close = sql.find(')', open);
  const std::size_t values = sql.find(" VALUES ", close);
  if (open == std::string_view::npos || close == std::string_view::npos ||
      values == std::string_view::npos || at < values)
    return {};
  std::vector<std::string_view> columns;
  for (std::size_t from = open + 2; from <= close;) {
    std::size_t comma = sql.find(", ", from);
    if (comma == std::string_view::npos || comma > close) comma = close;
    columns.push_back(sql.substr(from, comma - from));
    from = comma + 2;
  }
  // Which cell of its row the placeholder is in: commas at the row's own depth separate cells.
  int depth = 0;
  std::size_t cell = 0;
  for (std::size_t k = values; k < at; ++k) {
    if (sql[k] == '(' && ++depth == 1) cell = 0;
    if (sql[k] == ')') --depth;
    if (sql[k] == ',' && depth == 1) ++cell;
  }
  return depth >= 1 && cell < columns.size() ? std::string(columns[cell]) : std::string();
}

// The column a placeholder at `at` is compared with or assigned to (`name = $1`), or "".
std::string compared_column(std::string_view sql, std::size_t at) {
  std::size_t k = at;
  auto skip = [&](auto predicate) {
    while (k > 0 && predicate(sql[k - 1]))
      --k;
  };
  skip([](char c) { return c == ' '; });
  const std::size_t op_end = k;
  skip([](char c) { return c == '=' || c == '<' || c == '>' || c == '!'; });
  if (k == op_end) return {};
  skip([](char c) { return c == ' '; });
  const std::size_t name_end = k;
  skip(is_name_char);
  return std::string(sql.substr(k, name_end - k));
}

// Names what parameter `position` of `sql` is for: its column where the SQL shows one.
std::string describe_parameter(std::string_view sql, std::size_t position) {
  const std::string parameter = "parameter $" + std::to_string(position);
  const std::size_t at = find_placeholder(sql, position);
  if (at == std::string_view::npos) return parameter;
  std::string column = inserted_column(sql, at);
  if (column.empty()) column = compared_column(sql, at);
  return column.empty() ? parameter : "column " + column + " (" + parameter + ")";
}

// PostgreSQL text cannot hold NUL, and libpq reads a text parameter up to its first NUL: the
// rest would be silently cut. Refused before anything is sent.
[[noreturn]] void refuse_nul(const std::string& sql, std::size_t position, std::size_t offset) {
  throw DataError("the text for " + describe_parameter(sql, position) +
                      " contains a NUL byte (at byte " + std::to_string(offset) +
                      "), which PostgreSQL text cannot hold; store such data as bytes",
                  "22021", 0, sql);
}

} // namespace

void Params::assign(std::span<const Value> params, const std::string& sql) {
  const std::size_t n = params.size();
  arena_.clear();
  offsets_.assign(n, 0);
  values_.assign(n, nullptr);
  lengths_.assign(n, 0);
  formats_.assign(n, 0);
  types_.assign(n, 0);
  char number[32];
  for (std::size_t i = 0; i < n; ++i) {
    const Value& v = params[i];
    offsets_[i] = arena_.size();
    switch (v.kind()) {
    case ValueKind::null: continue;
    case ValueKind::integer: {
      auto end = std::to_chars(number, number + sizeof number, v.as_int()).ptr;
      arena_.append(number, end);
      break;
    }
    case ValueKind::real: {
      // Shortest text that reads back to the same double.
      auto end = std::to_chars(number, number + sizeof number, v.as_double()).ptr;
      arena_.append(number, end);
      break;
    }
    case ValueKind::text: {
      const std::string_view text = v.as_text();
      if (const auto nul = text.find('\0'); nul != std::string_view::npos)
        refuse_nul(sql, i + 1, nul);
      arena_ += text;
      break;
    }
    case ValueKind::boolean: arena_ += v.as_bool() ? 't' : 'f'; break;
    case ValueKind::blob: {
      const Blob& b = v.as_blob();
      arena_.append(reinterpret_cast<const char*>(b.data()), b.size());
      formats_[i] = 1;
      types_[i] = bytea_oid;
      break;
    }
    }
    lengths_[i] = static_cast<int>(arena_.size() - offsets_[i]);
    // Text-format values are read up to a NUL by libpq.
    arena_ += '\0';
  }
  // Pointers are taken only now: appending may have moved the arena.
  for (std::size_t i = 0; i < n; ++i)
    if (!params[i].is_null()) values_[i] = arena_.data() + offsets_[i];
}

// ---- Rows ------------------------------------------------------------------------------------

void Rows::reset(ResultPtr result, std::string* sql_for_errors) {
  result_ = std::move(result);
  sql_ = sql_for_errors;
  rows_ = result_ ? PQntuples(result_.get()) : 0;
  columns_ = result_ ? PQnfields(result_.get()) : 0;
  types_.resize(static_cast<std::size_t>(columns_));
  for (int i = 0; i < columns_; ++i)
    types_[static_cast<std::size_t>(i)] = PQftype(result_.get(), i);
  row_ = -1;
  blobs_.clear();
}

void Rows::clear() noexcept {
  result_.reset();
  rows_ = 0;
  row_ = -1;
  columns_ = 0;
  types_.clear();
}

int Rows::column_count() const noexcept { return columns_; }

void Rows::bad_position(int i) const {
  if (row_ < 0 || row_ >= rows_)
    throw InvalidStateError("no current row" + (sql_ ? " in result of: " + *sql_ : std::string()));
  throw ArgumentError("column index " + std::to_string(i) + " out of range (" +
                      std::to_string(columns_) + " columns)");
}

void Rows::bad_cell(int i, const char* wanted) const {
  throw DataError("column \"" + std::string(PQfname(result_.get(), i)) + "\" value '" +
                      std::string(get_text(i)) + "' is not " + wanted,
                  "22P02", 0, sql_ ? *sql_ : std::string());
}

std::string_view Rows::column_name(int i) const {
  if (!result_ || i < 0 || i >= PQnfields(result_.get()))
    throw ArgumentError("column index " + std::to_string(i) + " out of range");
  return PQfname(result_.get(), i);
}

bool Rows::is_null(int i) const {
  check_cell(i);
  return PQgetisnull(result_.get(), row_, i) != 0;
}

std::string_view Rows::get_text(int i) const {
  check_cell(i);
  return {PQgetvalue(result_.get(), row_, i),
          static_cast<std::size_t>(PQgetlength(result_.get(), row_, i))};
}

namespace {

// Integer text as PostgreSQL sends it: an optional minus sign, then decimal digits. Up to 18
// digits cannot overflow, which covers every key and count in practice; longer text goes
// through from_chars and its overflow check. Cheaper than from_chars for the short case, and
// called for every integer cell of every row.
bool parse_integer(std::string_view text, std::int64_t& out) {
  const bool negative = !text.empty() && text.front() == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty() || digits.size() > 18) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
  }
  std::int64_t value = 0;
  for (char c : digits) {
    const unsigned digit = static_cast<unsigned>(c - '0');
    if (digit > 9) return false;
    value = value * 10 + digit;
  }
  out = negative ? -value : value;
  return true;
}

} // namespace

std::int64_t Rows::get_int64(int i) const {
  const std::string_view text = get_text(i);
  // NULL reads as 0 (see DriverStatement); only an empty text can be NULL.
  if (text.empty() && PQgetisnull(result_.get(), row_, i)) return 0;
  if (type_of(i) == bool_oid) return text == "t" ? 1 : 0;
  std::int64_t out = 0;
  if (!parse_integer(text, out)) bad_cell(i, "an integer");
  return out;
}

double Rows::get_double(int i) const {
  std::string_view text = get_text(i);
  if (text.empty() && PQgetisnull(result_.get(), row_, i)) return 0.0;
  double out = 0.0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size()) bad_cell(i, "a number");
  return out;
}

bool Rows::get_bool(int i) const {
  std::string_view text = get_text(i);
  if (text.empty() && PQgetisnull(result_.get(), row_, i)) return false;
  if (text == "t" || text == "true") return true;
  if (text == "f" || text == "false") return false;
  return get_int64(i) != 0;
}

std::span<const std::byte> Rows::get_blob(int i) const {
  std::string_view text = get_text(i);
  if (type_of(i) != bytea_oid)
    return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
  if (blobs_.size() < types_.size()) blobs_.resize(types_.size());
  blobs_[static_cast<std::size_t>(i)] = decode_bytea(text);
  return blobs_[static_cast<std::size_t>(i)];
}

Value Rows::get_value(int i) const {
  if (is_null(i)) return Value{};
  switch (type_of(i)) {
  case int2_oid:
  case int4_oid:
  case int8_oid:
  case oid_oid: return Value(get_int64(i));
  case float4_oid:
  case float8_oid: return Value(get_double(i));
  case bool_oid: return Value(get_bool(i));
  case bytea_oid: {
    auto bytes = get_blob(i);
    return Value(Blob(bytes.begin(), bytes.end()));
  }
  // NUMERIC stays text so that no digit is lost; dates and times are ISO-8601 text.
  default: return Value(std::string(get_text(i)));
  }
}

std::int64_t Rows::rows_affected() const {
  if (!result_) return 0;
  const char* tuples = PQcmdTuples(result_.get());
  std::int64_t out = 0;
  std::from_chars(tuples, tuples + std::strlen(tuples), out);
  return out;
}

Blob decode_bytea(std::string_view text) {
  Blob out;
  if (starts_with(text, "\\x")) {
    out.reserve((text.size() - 2) / 2);
    for (std::size_t k = 2; k + 1 < text.size(); k += 2) {
      int hi = hex_digit(text[k]);
      int lo = hex_digit(text[k + 1]);
      if (hi < 0 || lo < 0) throw DataError("malformed bytea text", "22P02", 0, "");
      out.push_back(static_cast<std::byte>(hi * 16 + lo));
    }
    return out;
  }
  // Legacy "escape" output (bytea_output = escape): let libpq undo it.
  std::string zero_terminated(text);
  std::size_t length = 0;
  unsigned char* raw =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(zero_terminated.c_str()), &length);
  if (!raw) throw DataError("malformed bytea text", "22P02", 0, "");
  const auto* bytes = reinterpret_cast<const std::byte*>(raw);
  out.assign(bytes, bytes + length);
  PQfreemem(raw);
  return out;
}

} // namespace retort::pg

#include "statement.hpp"

#include <retort/core/error.hpp>

#include <atomic>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace retort::sqlite {

namespace {

bool only_space(const char* begin, const char* end) {
  for (; begin != end; ++begin)
    if (*begin != ';' && *begin != ' ' && *begin != '\t' && *begin != '\n' && *begin != '\r')
      return false;
  return true;
}

// sqlite3_prepare silently ignores whatever follows the first statement; a second statement
// there is a bug in the caller (or an injection), so it is refused.
void check_tail(Handle& handle, const char* tail, const char* end, const std::string& sql) {
  if (tail == nullptr || only_space(tail, end)) return;
  sqlite3_stmt* rest = nullptr;
  int rc = sqlite3_prepare_v2(handle.db, tail, static_cast<int>(end - tail), &rest, nullptr);
  sqlite3_finalize(rest);
  // A tail that is only comments prepares to no statement at all.
  if (rc == SQLITE_OK && rest == nullptr) return;
  throw ProgrammingError("prepare() takes a single statement; text follows the first one",
                         std::string(), SQLITE_ERROR, sql);
}

// Whether `sql`'s first word (after blanks; SQLite skips comments too, but prepare_v3 does
// not report them, so only blanks are skipped here) is one of `words`.
bool starts_with_word(const std::string& sql, std::initializer_list<std::string_view> words) {
  std::size_t i = sql.find_first_not_of(" \t\r\n");
  if (i == std::string::npos) return false;
  for (std::string_view word : words)
    if (sql.size() >= i + word.size() &&
        sqlite3_strnicmp(sql.c_str() + i, word.data(), static_cast<int>(word.size())) == 0)
      return true;
  return false;
}

// SELECT or WITH first: anything else is simply not a plain read.
bool starts_as_query(const std::string& sql) { return starts_with_word(sql, {"SELECT", "WITH"}); }

// Whether the statement does all its work, parameters read included, in its first step. One
// without result columns does. So does an INSERT, UPDATE or DELETE with RETURNING: SQLite makes
// all its changes in the first sqlite3_step() and keeps the RETURNING rows in memory
// (lang_returning.html, "Processing Order"). A WITH ... INSERT is left out: its first word
// does not say it writes, and treating it as a query is merely slower.
bool runs_in_one_step(sqlite3_stmt* stmt, bool read_only, const std::string& sql) {
  if (sqlite3_column_count(stmt) == 0) return true;
  return !read_only && starts_with_word(sql, {"INSERT", "REPLACE", "UPDATE", "DELETE"});
}

// The length of the last run of each statement text, shared by the process's connections: a
// connection that prepares a statement anew (a pool's overflow connection is new each time)
// knows at once whether it is long. Looked up once per prepare. Past `most` texts (SQL with
// literals in it can make any number), a statement keeps its own.
std::shared_ptr<std::atomic<int>> run_length_of(const std::string& sql) {
  constexpr std::size_t most = 4096;
  static std::mutex mutex;
  static std::unordered_map<std::string, std::shared_ptr<std::atomic<int>>> lengths;
  std::lock_guard lock(mutex);
  if (auto found = lengths.find(sql); found != lengths.end()) return found->second;
  auto length = std::make_shared<std::atomic<int>>(0);
  if (lengths.size() < most) lengths.emplace(sql, length);
  return length;
}

} // namespace

bool known_long(const std::string& sql) {
  return run_length_of(sql)->load(std::memory_order_relaxed) > long_run_steps;
}

namespace {

bool is_boolean_decltype(const char* decl) {
  return decl != nullptr && sqlite3_stricmp(decl, "BOOLEAN") == 0;
}

} // namespace

void throw_if_wait_refused(Handle& handle, int code, const std::string& message,
                           std::string_view sql) {
  // SQLite calls the busy handler only where waiting could help (not for a stale WAL snapshot):
  // a refusal there means the call stopped at the lock, before it changed anything.
  if ((code & 0xff) != SQLITE_BUSY || !std::exchange(handle.wait_refused, false)) return;
  throw WouldWaitError(message, std::string(), code, std::string(sql));
}

void fail(Handle& handle, int code, Phase phase, std::string_view sql) {
  throw_if_wait_refused(handle, code, sqlite3_errmsg(handle.db), sql);
  if (is_fatal(code)) handle.valid.store(false, std::memory_order_relaxed);
  throw_error(handle.db, code, phase, sql);
}

StmtPtr prepare_one(Handle& handle, const std::string& sql) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  // Passing the length including the terminator lets SQLite skip copying the text.
  int rc = sqlite3_prepare_v3(handle.db, sql.c_str(), static_cast<int>(sql.size() + 1),
                              SQLITE_PREPARE_PERSISTENT, &raw, &tail);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) fail(handle, rc, Phase::prepare, sql);
  if (!stmt) throw ProgrammingError("empty statement", std::string(), SQLITE_ERROR, sql);
  check_tail(handle, tail, sql.c_str() + sql.size(), sql);
  return stmt;
}

void run_kept(Handle& handle, StmtPtr& stmt, const std::string& sql) {
  if (!stmt) stmt = prepare_one(handle, sql);
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
  }
  if (rc == SQLITE_DONE) {
    sqlite3_reset(stmt.get());
    return;
  }
  std::string message = sqlite3_errmsg(handle.db);
  sqlite3_reset(stmt.get());
  throw_if_wait_refused(handle, rc, message, sql);
  if (is_fatal(rc)) handle.valid.store(false, std::memory_order_relaxed);
  throw_error(rc, Phase::step, std::move(message), sql);
}

void Handle::start_transaction() {
  // Cleared first: when BEGIN fails, no transaction is open and none is pending; but a BEGIN
  // that would have waited is pending again, to be sent when the call is made again.
  begin_pending = false;
  try {
    run_kept(*this, begin, begin_sql);
  } catch (const WouldWaitError&) {
    begin_pending = true;
    throw;
  }
}

SqliteStatement::SqliteStatement(std::shared_ptr<Handle> handle, StmtPtr stmt, std::string sql)
    : handle_(std::move(handle)), stmt_(std::move(stmt)), sql_(std::move(sql)),
      parameter_count_(sqlite3_bind_parameter_count(stmt_.get())),
      read_only_(sqlite3_stmt_readonly(stmt_.get()) != 0),
      plain_read_(read_only_ && starts_as_query(sql_)), pragma_(starts_with_word(sql_, {"PRAGMA"})),
      runs_in_one_step_(runs_in_one_step(stmt_.get(), read_only_, sql_)),
      run_length_(run_length_of(sql_)) {}

void SqliteStatement::bind(std::span<const Value> params) {
  // The Values may die before step(), so SQLite copies text and bytes.
  bind_all(params, SQLITE_TRANSIENT);
}

void SqliteStatement::bind_borrowed(std::span<const Value> params) {
  // A query reads its parameters on later steps too, after the caller's Values may be gone;
  // a statement that does its work in the first step does not (see runs_in_one_step()).
  bind_all(params, runs_in_one_step_ ? SQLITE_STATIC : SQLITE_TRANSIENT);
}

void SqliteStatement::bind_all(std::span<const Value> params, sqlite3_destructor_type lifetime) {
  if (static_cast<int>(params.size()) != parameter_count_)
    throw ArgumentError("statement takes " + std::to_string(parameter_count_) +
                        " parameters, got " + std::to_string(params.size()) + ": " + sql_);
  if (state_ != State::ready) reset();
  borrowed_ = false;
  stale_ = false;
  int position = 1;
  for (const Value& value : params)
    bind_one(position++, value, lifetime);
}

void SqliteStatement::bind_one(int position, const Value& value, sqlite3_destructor_type lifetime) {
  sqlite3_stmt* stmt = stmt_.get();
  const int rc = value.visit([&](const auto& v) {
    using T = std::decay_t<decltype(v)>;
    if constexpr (std::is_same_v<T, Null>) {
      return sqlite3_bind_null(stmt, position);
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
      return sqlite3_bind_int64(stmt, position, v);
    } else if constexpr (std::is_same_v<T, double>) {
      // SQLite would store NULL: what is written must read back as written.
      if (std::isnan(v))
        throw DataError("parameter " + std::to_string(position) +
                            " is NaN, which SQLite cannot store (it would become NULL)",
                        std::string(), SQLITE_MISMATCH, sql_);
      return sqlite3_bind_double(stmt, position, v);
    } else if constexpr (std::is_same_v<T, bool>) {
      return sqlite3_bind_int(stmt, position, v ? 1 : 0);
    } else if constexpr (std::is_same_v<T, std::string_view>) {
      borrowed_ = borrowed_ || lifetime == SQLITE_STATIC;
      // A null pointer would bind NULL, and an empty borrowed view may have one.
      const char* text = v.data() != nullptr ? v.data() : "";
      return sqlite3_bind_text64(stmt, position, text, v.size(), lifetime, SQLITE_UTF8);
    } else {
      // A null data pointer would bind NULL, and an empty vector may have one.
      if (v.empty()) return sqlite3_bind_zeroblob(stmt, position, 0);
      borrowed_ = borrowed_ || lifetime == SQLITE_STATIC;
      return sqlite3_bind_blob64(stmt, position, v.data(), v.size(), lifetime);
    }
  });
  if (rc != SQLITE_OK) fail(*handle_, rc, Phase::bind, sql_);
}

bool SqliteStatement::step() {
  // sqlite3_step after SQLITE_DONE would silently run the statement again.
  if (state_ == State::done) return false;
  if (state_ == State::ready) {
    if (stale_)
      throw InvalidStateError("bind() the parameters again before running the statement again "
                              "(the last ones were not copied): " +
                              sql_);
    // A transaction exists to isolate and to undo. On a private in-memory database nothing but
    // this connection can change what a query reads, so a query before the first write reads
    // exactly what it would read inside the transaction, and it leaves nothing to undo: BEGIN
    // waits for the first statement that may write (SQLite runs the query in its own
    // autocommit read, and a transaction that only read then costs neither BEGIN nor COMMIT).
    // While waiting is off the caller's thread is the async layer's own: a statement whose
    // last run was long goes where it may take its time, as a lock wait would.
    if (!handle_->waiting && is_long())
      throw WouldWaitError("a long statement: its last run took " +
                               std::to_string(run_length_->load(std::memory_order_relaxed)) +
                               " SQLite VM steps",
                           std::string(), SQLITE_BUSY, sql_);
    if (handle_->begin_pending && !(plain_read_ && handle_->reads_are_private()))
      handle_->start_transaction();
    state_ = State::running;
    // Read again before it is next relied on (SqliteConnection::refresh_durability()).
    if (pragma_) handle_->durability.known = false;
    if (!read_only_) total_changes_at_start_ = sqlite3_total_changes64(handle_->db);
    stale_ = borrowed_;
  }
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) {
    rows_affected_ = changes_since_start();
    state_ = State::done;
    note_run_length();
    return false;
  }
  // The message must be read before sqlite3_reset, which would report the error again.
  std::string message = sqlite3_errmsg(handle_->db);
  note_run_length();
  sqlite3_reset(stmt_.get());
  state_ = State::ready;
  throw_if_wait_refused(*handle_, rc, message, sql_);
  if (is_fatal(rc)) handle_->valid.store(false, std::memory_order_relaxed);
  throw_error(rc, Phase::step, std::move(message), sql_);
}

void SqliteStatement::reset() {
  // Not stepped since the last reset: the statement is rewound already (a cached statement is
  // reset when its Result closes and again when it is executed next).
  if (state_ != State::ready) {
    if (state_ == State::running) note_run_length(); // stopped before its last row
    // The return value repeats the last step's error, which step() already reported.
    sqlite3_reset(stmt_.get());
    state_ = State::ready;
  }
  stale_ = borrowed_;
}

void SqliteStatement::note_run_length() noexcept {
  run_length_->store(sqlite3_stmt_status(stmt_.get(), SQLITE_STMTSTATUS_VM_STEP, 1),
                     std::memory_order_relaxed);
}

std::int64_t SqliteStatement::changes_since_start() const {
  // sqlite3_changes64 keeps the count of the last INSERT/UPDATE/DELETE on the connection, so it
  // is only this statement's when the connection's total moved while this one ran.
  if (read_only_) return 0;
  if (sqlite3_total_changes64(handle_->db) == total_changes_at_start_) return 0;
  return sqlite3_changes64(handle_->db);
}

std::int64_t SqliteStatement::rows_affected() const {
  // SQLite counts the changes when the statement completes, even for RETURNING, whose changes
  // are all made by the first step.
  return state_ == State::done ? rows_affected_ : 0;
}

std::string_view SqliteStatement::column_name(int i) const {
  const char* name = sqlite3_column_name(stmt_.get(), i);
  return name != nullptr ? std::string_view(name) : std::string_view();
}

std::string_view SqliteStatement::get_text(int i) const {
  // column_text before column_bytes: the byte count is of the converted text.
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), i));
  auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), i));
  return {text, text != nullptr ? size : 0};
}

std::span<const std::byte> SqliteStatement::get_blob(int i) const {
  const auto* data = static_cast<const std::byte*>(sqlite3_column_blob(stmt_.get(), i));
  auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), i));
  return {data, data != nullptr ? size : 0};
}

Value SqliteStatement::get_value(int i) const {
  sqlite3_stmt* stmt = stmt_.get();
  switch (sqlite3_column_type(stmt, i)) {
  case SQLITE_INTEGER: {
    auto v = sqlite3_column_int64(stmt, i);
    // SQLite stores booleans as integers; the declared type says which were meant as such.
    if (is_boolean_decltype(sqlite3_column_decltype(stmt, i))) return Value(v != 0);
    return Value(v);
  }
  case SQLITE_FLOAT: return Value(sqlite3_column_double(stmt, i));
  case SQLITE_TEXT: return Value(get_text(i));
  case SQLITE_BLOB: {
    auto bytes = get_blob(i);
    return Value(Blob(bytes.begin(), bytes.end()));
  }
  default: return Value();
  }
}

} // namespace retort::sqlite

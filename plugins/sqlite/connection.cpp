#include "connection.hpp"

#include <retort/core/error.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>

namespace retort::sqlite {

namespace {

constexpr std::array<std::string_view, 10> known_options = {
    "busy_timeout", "cache",  "foreign_keys", "immutable",        "journal_mode",
    "mode",         "nolock", "synchronous",  "transaction_mode", "uri"};

/// Connection settings after validation of the URL query and the options.
struct Settings {
  std::string filename;
  std::string vfs;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  int busy_timeout_ms = 5000;
  bool foreign_keys = true;
  std::optional<std::string> journal_mode;
  std::optional<std::string> synchronous;
  std::string begin_sql = "BEGIN";
};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  });
  return out;
}

[[noreturn]] void bad_option(std::string_view key, std::string_view value,
                             std::string_view expected) {
  throw OptionError(std::string(key), "SQLite option " + std::string(key) + "='" +
                                          std::string(value) + "' is invalid: expected " +
                                          std::string(expected));
}

bool parse_bool(std::string_view key, std::string_view value) {
  std::string v = lower(value);
  if (v == "1" || v == "true" || v == "on" || v == "yes") return true;
  if (v == "0" || v == "false" || v == "off" || v == "no") return false;
  bad_option(key, value, "true or false");
}

// Pragma arguments cannot be bound parameters, so only words from a fixed list reach the SQL.
std::string parse_word(std::string_view key, std::string_view value,
                       std::initializer_list<std::string_view> allowed, std::string_view expected) {
  std::string v = lower(value);
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end())
    bad_option(key, value, expected);
  return v;
}

int parse_milliseconds(std::string_view key, std::string_view value) {
  int ms = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
  if (ec != std::errc() || end != value.data() + value.size() || ms < 0)
    bad_option(key, value, "a whole number of milliseconds");
  return ms;
}

int mode_flags(std::string_view value) {
  std::string v = lower(value);
  if (v == "ro") return SQLITE_OPEN_READONLY;
  if (v == "rw") return SQLITE_OPEN_READWRITE;
  if (v == "rwc") return SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (v == "memory") return SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_MEMORY;
  bad_option("mode", value, "ro, rw, rwc or memory");
}

std::map<std::string, std::string> merged_options(const Url& url, const Options& options) {
  std::map<std::string, std::string> all(url.query.begin(), url.query.end());
  for (const auto& [key, value] : options)
    all[key] = value;
  for (const auto& [key, value] : all) {
    if (std::find(known_options.begin(), known_options.end(), key) != known_options.end()) continue;
    std::string known;
    for (auto name : known_options)
      known += (known.empty() ? "" : ", ") + std::string(name);
    throw OptionError(key, "unknown SQLite option '" + key + "' (known: " + known + ")");
  }
  return all;
}

std::string file_name(const Url& url, bool uri, const std::map<std::string, std::string>& all) {
  std::string name = url.database.empty() ? std::string(":memory:") : url.database;
  if (!uri) {
    for (const char* key : {"immutable", "nolock"})
      if (all.count(key) != 0)
        throw OptionError(key, std::string("SQLite option ") + key + " needs uri=true");
    return name;
  }
  if (name.rfind("file:", 0) != 0) name = "file:" + name;
  char separator = name.find('?') == std::string::npos ? '?' : '&';
  for (const char* key : {"immutable", "nolock"}) {
    auto found = all.find(key);
    if (found == all.end()) continue;
    name += separator + std::string(key) + "=" + (parse_bool(key, found->second) ? "1" : "0");
    separator = '&';
  }
  return name;
}

Settings settings_for(const Url& url, const Options& options) {
  if (!url.host.empty() || url.port || !url.username.empty())
    throw ArgumentError("SQLite URLs name no host or user: write sqlite:///relative.db, "
                        "sqlite:////absolute/path.db or sqlite:// for memory (got host '" +
                        url.host + "')");
  auto all = merged_options(url, options);
  auto get = [&all](const char* key) -> const std::string* {
    auto found = all.find(key);
    return found == all.end() ? nullptr : &found->second;
  };
  Settings s;
  bool uri = false;
  if (auto* v = get("uri")) uri = parse_bool("uri", *v);
  if (auto* v = get("mode")) s.flags = mode_flags(*v);
  if (uri) s.flags |= SQLITE_OPEN_URI;
  if (auto* v = get("cache"))
    s.flags |= parse_word("cache", *v, {"shared", "private"}, "shared or private") == "shared"
                   ? SQLITE_OPEN_SHAREDCACHE
                   : SQLITE_OPEN_PRIVATECACHE;
  if (auto* v = get("busy_timeout")) s.busy_timeout_ms = parse_milliseconds("busy_timeout", *v);
  if (auto* v = get("foreign_keys")) s.foreign_keys = parse_bool("foreign_keys", *v);
  if (auto* v = get("journal_mode"))
    s.journal_mode =
        parse_word("journal_mode", *v, {"delete", "truncate", "persist", "memory", "wal", "off"},
                   "delete, truncate, persist, memory, wal or off");
  if (auto* v = get("synchronous"))
    s.synchronous = parse_word("synchronous", *v, {"off", "normal", "full", "extra"},
                               "off, normal, full or extra");
  if (auto* v = get("transaction_mode"))
    s.begin_sql =
        "BEGIN " + parse_word("transaction_mode", *v, {"deferred", "immediate", "exclusive"},
                              "deferred, immediate or exclusive");
  s.filename = file_name(url, uri, all);
  return s;
}

std::shared_ptr<Handle> open_handle(const Settings& s) {
  sqlite3* raw = nullptr;
  // NOMUTEX: a connection is used by one thread at a time, so SQLite's own locking is waste.
  int rc = sqlite3_open_v2(s.filename.c_str(), &raw,
                           s.flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, nullptr);
  // SQLite returns a handle even on failure; it must be closed all the same.
  auto handle = std::make_shared<Handle>(raw);
  if (rc != SQLITE_OK) {
    std::string reason = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    throw OperationalError("cannot open SQLite database '" + s.filename + "': " + reason,
                           std::string(), rc, std::string());
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, s.busy_timeout_ms);
  handle->busy_timeout_ms = s.busy_timeout_ms;
  return handle;
}

// The busy handler while waiting is off: SQLite wants to wait for a lock; refuse, and note it
// so that the SQLITE_BUSY that follows is reported as WouldWaitError.
int refuse_wait(void* handle, int) {
  static_cast<Handle*>(handle)->wait_refused = true;
  return 0;
}

// SQLite's automatic checkpoint, made by the COMMIT that brings the WAL to `autocheckpoint`
// pages, syncs the database file. A COMMIT made while waiting is off runs on the async
// layer's own thread, which must not wait for the disk: there the checkpoint is owed, and
// commit_cannot_wait() sends the next write transaction's COMMIT to a worker, which makes it.
int on_wal_commit(void* arg, sqlite3* db, const char* name, int pages) {
  Handle& handle = *static_cast<Handle*>(arg);
  const int limit = handle.durability.autocheckpoint;
  if (limit <= 0 || pages < limit) return SQLITE_OK;
  if (!handle.waiting) {
    handle.checkpoint_owed = true;
    return SQLITE_OK;
  }
  handle.checkpoint_owed = false;
  // As SQLite's own hook: a passive checkpoint, whose failure the COMMIT does not report.
  sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  return SQLITE_OK;
}

// The first row's first column of `pragma` as an integer, or as text in `text`.
std::int64_t read_pragma(Handle& handle, const char* pragma, std::string* text = nullptr) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(handle.db, pragma, -1, &raw, nullptr);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) fail(handle, rc, Phase::prepare, pragma);
  rc = sqlite3_step(raw);
  if (rc != SQLITE_ROW) fail(handle, rc, Phase::step, pragma);
  if (text != nullptr) *text = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
  return sqlite3_column_int64(raw, 0);
}

// While alive, lets calls wait for locks as busy_timeout says, even if waiting is off: for
// calls that are not to be refused (COMMIT, ROLLBACK; see DriverConnection::set_waiting()).
class WaitsForLocks {
public:
  explicit WaitsForLocks(Handle& handle) : handle_(handle) {
    if (!handle_.waiting) sqlite3_busy_timeout(handle_.db, handle_.busy_timeout_ms);
  }
  ~WaitsForLocks() {
    if (!handle_.waiting) sqlite3_busy_handler(handle_.db, refuse_wait, &handle_);
  }
  WaitsForLocks(const WaitsForLocks&) = delete;
  WaitsForLocks& operator=(const WaitsForLocks&) = delete;

private:
  Handle& handle_;
};

// Whether `sql` has the word PRAGMA in it, in any case.
bool mentions_pragma(std::string_view sql) {
  constexpr std::string_view word = "pragma";
  for (std::size_t i = 0; i + word.size() <= sql.size(); ++i)
    if (sqlite3_strnicmp(sql.data() + i, word.data(), static_cast<int>(word.size())) == 0)
      return true;
  return false;
}

// Whether only the main (and the temp) database is open on the connection.
bool has_no_attached_database(const Handle& handle) {
#if SQLITE_VERSION_NUMBER >= 3039000
  return sqlite3_db_name(handle.db, 2) == nullptr; // index 2: the first attached database
#else
  (void)handle;
  return false;
#endif
}

} // namespace

void check_settings(const Url& url, const Options& options) { (void)settings_for(url, options); }

bool is_memory(const Url& url) {
  const std::string& db = url.database;
  if (db.empty() || db == ":memory:" || db.rfind("file::memory:", 0) == 0) return true;
  auto mode = url.query.find("mode");
  return mode != url.query.end() && lower(mode->second) == "memory";
}

SqliteConnection::SqliteConnection(const Url& url, const Options& options) {
  Settings s = settings_for(url, options);
  handle_ = open_handle(s);
  handle_->begin_sql = s.begin_sql;
  // Only the plain name is sure to be private: URIs may name a shared memory database.
  handle_->private_main =
      s.filename == ":memory:" && (s.flags & (SQLITE_OPEN_URI | SQLITE_OPEN_SHAREDCACHE)) == 0;
  defer_begin_ = s.begin_sql == "BEGIN" || s.begin_sql == "BEGIN deferred";
  try {
    if (s.foreign_keys) execute("PRAGMA foreign_keys = ON");
    if (s.journal_mode) execute("PRAGMA journal_mode = " + *s.journal_mode);
    if (s.synchronous) execute("PRAGMA synchronous = " + *s.synchronous);
    // Reads the file header, so that a file which is no database fails here, not later.
    execute("PRAGMA schema_version");
    refresh_durability();
  } catch (const DatabaseError& e) {
    throw OperationalError("cannot open SQLite database '" + s.filename + "': " + e.message(),
                           std::string(), e.native_code(), e.sql());
  }
}

SqliteConnection::~SqliteConnection() {
  // Cached statements hold the handle too; dropping them first lets it close right here.
  clear_statement_cache();
}

std::unique_ptr<DriverStatement> SqliteConnection::prepare(const std::string& sql) {
  return std::make_unique<SqliteStatement>(handle_, prepare_one(*handle_, sql), sql);
}

void SqliteConnection::execute(const std::string& sql) {
  sqlite3* db = handle_->db;
  if (handle_->begin_pending) handle_->start_transaction();
  // A PRAGMA may change the journal mode or the sync level.
  if (mentions_pragma(sql)) handle_->durability.known = false;
  const char* next = sql.c_str();
  const char* end = next + sql.size();
  // Only the first statement may be refused a wait: the call could not be made again once
  // one of its statements ran.
  std::optional<WaitsForLocks> after_the_first;
  while (next < end) {
    if (next != sql.c_str() && !after_the_first) after_the_first.emplace(*handle_);
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db, next, static_cast<int>(end - next), &raw, &next);
    StmtPtr stmt(raw);
    if (rc != SQLITE_OK) fail(*handle_, rc, Phase::prepare, sql);
    if (!stmt) break; // only whitespace or comments were left
    if (sqlite3_bind_parameter_count(raw) != 0)
      throw ArgumentError("execute() runs SQL without parameters; use prepare() and bind(): " +
                          sql);
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) fail(*handle_, rc, Phase::step, sql);
  }
}

// A deferred transaction takes no lock and reads nothing until its first statement, so BEGIN
// sent just before that statement (Handle::start_transaction(), from every path that runs SQL)
// starts the same transaction: same snapshot, same locks, same errors. A transaction that runs
// no statement then costs nothing, and its COMMIT or ROLLBACK only drops the pending BEGIN.
// IMMEDIATE and EXCLUSIVE take their lock at BEGIN, which the application may be counting on
// (and where SQLITE_BUSY is reported), so they are sent at once.
void SqliteConnection::begin() {
  if (defer_begin_ && !in_transaction()) {
    handle_->begin_pending = true;
    return;
  }
  // A BEGIN within a pending one fails as it would have had the first been sent.
  if (handle_->begin_pending) handle_->start_transaction();
  run_kept(*handle_, handle_->begin, handle_->begin_sql);
}

// A deferred transaction whose first statement reads holds a read snapshot: its first write
// then cannot wait for the write lock (SQLite returns SQLITE_BUSY at once, without the busy
// handler, or SQLITE_BUSY_SNAPSHOT when another connection committed since the read), where the
// write alone would have waited up to busy_timeout. So a transaction that says it will write
// after reading sends its pending BEGIN as BEGIN IMMEDIATE, which waits for the lock before
// anything is read. One already under way (it read: that case is SQLite's and stays), or begun
// IMMEDIATE or EXCLUSIVE by transaction_mode (never pending), is left as it is.
void SqliteConnection::will_write() {
  if (!handle_->begin_pending) return;
  // Cleared first: when BEGIN fails, no transaction is open and none is pending; but a BEGIN
  // that would have waited is pending again, to be sent when the call is made again.
  handle_->begin_pending = false;
  static const std::string sql = "BEGIN IMMEDIATE";
  try {
    run_kept(*handle_, begin_immediate_, sql);
  } catch (const WouldWaitError&) {
    handle_->begin_pending = true;
    throw;
  }
}

// Both are no-ops without an open transaction, as in DB-API drivers, so that a pool may roll
// back every returned connection unconditionally.
void SqliteConnection::commit() {
  if (std::exchange(handle_->begin_pending, false)) return;
  if (!in_transaction()) return;
  WaitsForLocks waits(*handle_);
  static const std::string sql = "COMMIT";
  run_kept(*handle_, commit_, sql);
}

bool SqliteConnection::commit_cannot_wait() const {
  const Handle& h = *handle_;
  if (h.begin_pending || !in_transaction()) return true;
#if SQLITE_VERSION_NUMBER >= 3034000 // sqlite3_txn_state() is 3.34's
  // A read transaction's COMMIT releases its shared lock (rollback journal) or its read mark
  // (WAL) and never calls the busy handler; only a write transaction's may wait (for readers
  // to go, a checkpoint) or sync the file.
  if (sqlite3_txn_state(h.db, nullptr) != SQLITE_TXN_WRITE) return true;
#else
  return false;
#endif
  // A private in-memory database has no file and no other connection.
  if (h.private_main && has_no_attached_database(h)) return true;
  // In WAL mode a COMMIT appends to the WAL under the write lock it holds already; with
  // synchronous normal or off it does not sync, and the checkpoint that would is owed while
  // waiting is off (on_wal_commit()). Full and extra sync the WAL at every COMMIT.
  const Handle::Durability& d = h.durability;
  return d.known && d.wal && d.synchronous <= 1 && !h.checkpoint_owed &&
         has_no_attached_database(h);
}

// A call refused a wait stops before it changes anything only where SQLite takes its locks when
// a transaction or statement starts: in WAL mode, and on a private in-memory database (no other
// connection, so no lock to wait for). In the other journal modes a large write may need the
// exclusive lock half-way (to spill its changes), after which it could not be made again; there
// the driver waits, always. An attached database may be in another mode: the same.
bool SqliteConnection::set_waiting(bool allowed) {
  Handle& h = *handle_;
  if (allowed) {
    if (!h.waiting) sqlite3_busy_timeout(h.db, h.busy_timeout_ms);
    h.waiting = true;
    return true;
  }
  if (!has_no_attached_database(h)) return false;
  if (!h.private_main) {
    if (!h.durability.known) refresh_durability();
    if (!h.durability.wal) return false;
  }
  h.wait_refused = false;
  if (h.waiting) sqlite3_busy_handler(h.db, refuse_wait, &h);
  h.waiting = false;
  return true;
}

bool SqliteConnection::would_wait(const std::string& sql) {
  if (handle_->waiting) return false;
  // The statements this connection keeps are all its own (prepare() makes SqliteStatements).
  if (DriverStatement* cached = find_cached_statement(sql))
    return static_cast<const SqliteStatement*>(cached)->is_long();
  return known_long(sql);
}

void SqliteConnection::refresh_durability() {
  Handle& h = *handle_;
  Handle::Durability d;
  std::string mode;
  read_pragma(h, "PRAGMA main.journal_mode", &mode);
  d.wal = mode == "wal";
  d.synchronous = static_cast<int>(read_pragma(h, "PRAGMA main.synchronous"));
  // Installing the WAL hook returns what was installed before: this connection's own hook, or
  // SQLite's automatic checkpoint with its size (set by PRAGMA wal_autocheckpoint, or SQLite's
  // default at open), or nothing when automatic checkpoints are off.
  void* before = sqlite3_wal_hook(h.db, on_wal_commit, &h);
  if (before == &h)
    d.autocheckpoint = h.durability.autocheckpoint;
  else
    d.autocheckpoint = static_cast<int>(reinterpret_cast<std::intptr_t>(before));
  d.known = true;
  h.durability = d;
}

void SqliteConnection::rollback() {
  if (std::exchange(handle_->begin_pending, false)) return;
  if (!in_transaction()) return;
  WaitsForLocks waits(*handle_);
  // A transaction that wrote nothing has nothing to undo: COMMIT ends it the same way and
  // costs SQLite less than ROLLBACK (which resets the pager and cursors). Should COMMIT fail,
  // ROLLBACK still runs.
#if SQLITE_VERSION_NUMBER >= 3034000 // sqlite3_txn_state() is 3.34's; older: always ROLLBACK
  if (sqlite3_txn_state(handle_->db, nullptr) != SQLITE_TXN_WRITE) {
    static const std::string commit_sql = "COMMIT";
    try {
      run_kept(*handle_, commit_, commit_sql);
      return;
    } catch (const DatabaseError&) {
      if (!in_transaction()) return;
    }
  }
#endif
  static const std::string sql = "ROLLBACK";
  run_kept(*handle_, rollback_, sql);
}

bool SqliteConnection::ping() {
  if (!is_valid()) return false;
  try {
    static const std::string sql = "SELECT 1";
    run_kept(*handle_, ping_, sql);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

} // namespace retort::sqlite

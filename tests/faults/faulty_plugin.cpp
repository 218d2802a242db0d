// A fault-injecting dialect plugin: a real plugin module ("faulty") that wraps the real driver
// named by RETORT_FAULTY_INNER (a SQLite or PostgreSQL URL) and fails its k-th call — connect,
// prepare, execute, begin, commit, step, a flush or a read of the non-blocking side — with an
// OperationalError, as a lost or refusing database would. A read or flush that fails also
// breaks its connection (is_valid() turns false), as a short read does; armed with
// retort_faulty_arm_lost(), any call that fails does (the connection was lost). The test arms it
// through the C functions at the end (found with dlsym), so one process sweeps every k.
#include <retort/core/error.hpp>
#include <retort/core/url.hpp>
#include <retort/engine/driver.hpp>
#include <retort/engine/nonblocking.hpp>
#include <retort/plugin/registry.hpp>
#include <retort/plugin/spi.hpp>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>

namespace {

using namespace retort;

std::atomic<long> calls{0};    // fault points passed since the last arm
std::atomic<long> fail_at{0};  // the call that fails (0: none)
std::atomic<long> fired{0};    // faults injected since the last arm
std::atomic<long> broken{0};   // broken connections not yet destroyed (a pool must drop them)
std::atomic<bool> lose{false}; // a fault breaks its connection, whatever the call
std::atomic<const char*> fired_at{""}; // the kind of call the last fault hit

// Counts one fault point; throws when it is the armed one.
void point(const char* what) {
  const long n = ++calls;
  if (n != fail_at.load()) return;
  ++fired;
  fired_at = what;
  throw OperationalError(std::string("injected fault at call ") + std::to_string(n) + " (" + what +
                             ")",
                         "08006", 0, "");
}

const std::string& inner_url_text() {
  static const std::string url = [] {
    const char* env = std::getenv("RETORT_FAULTY_INNER");
    if (env == nullptr || *env == '\0')
      throw PluginError("the faulty dialect needs RETORT_FAULTY_INNER (the real database URL)");
    return std::string(env);
  }();
  return url;
}

// Fails the call at a fault point; in lost mode the connection is broken from then on.
void point_of(const char* what, bool& connection_broken) {
  try {
    point(what);
  } catch (...) {
    if (lose && !connection_broken) {
      connection_broken = true;
      ++broken;
    }
    throw;
  }
}

class FaultyStatement final : public DriverStatement {
public:
  FaultyStatement(std::unique_ptr<DriverStatement> inner, bool& connection_broken)
      : inner_(std::move(inner)), broken_(connection_broken) {}
  void bind(std::span<const Value> params) override { inner_->bind(params); }
  void bind_borrowed(std::span<const Value> params) override { inner_->bind_borrowed(params); }
  bool step() override {
    point_of("step", broken_);
    return inner_->step();
  }
  void reset() override { inner_->reset(); }
  int column_count() const override { return inner_->column_count(); }
  std::string_view column_name(int i) const override { return inner_->column_name(i); }
  bool is_null(int i) const override { return inner_->is_null(i); }
  std::int64_t get_int64(int i) const override { return inner_->get_int64(i); }
  double get_double(int i) const override { return inner_->get_double(i); }
  std::string_view get_text(int i) const override { return inner_->get_text(i); }
  std::span<const std::byte> get_blob(int i) const override { return inner_->get_blob(i); }
  bool get_bool(int i) const override { return inner_->get_bool(i); }
  Value get_value(int i) const override { return inner_->get_value(i); }
  std::int64_t rows_affected() const override { return inner_->rows_affected(); }
  const std::string& sql() const override { return inner_->sql(); }
  /// The real driver's statement.
  DriverStatement& inner() noexcept { return *inner_; }

private:
  std::unique_ptr<DriverStatement> inner_;
  bool& broken_; // the connection's (statements die before it: its cache holds them)
};

// The non-blocking side: sending and reading are fault points; a failed read or flush leaves
// the connection broken.
class FaultyNonBlocking final : public NonBlockingConnection {
public:
  FaultyNonBlocking(NonBlockingConnection& inner, bool& broken) : inner_(inner), broken_(broken) {}
  int socket() const override { return inner_.socket(); }
  void send_query(const std::string& sql, std::span<const Value> params) override {
    inner_.send_query(sql, params);
  }
  void send_prepare(const std::string& name, const std::string& sql) override {
    inner_.send_prepare(name, sql);
  }
  void send_prepared(const std::string& name, std::span<const Value> params) override {
    inner_.send_prepared(name, params);
  }
  bool flush() override {
    breaking("flush");
    return inner_.flush();
  }
  void consume_input() override {
    breaking("read");
    inner_.consume_input();
  }
  bool is_busy() override { return inner_.is_busy(); }
  std::unique_ptr<NonBlockingResult> next_result() override { return inner_.next_result(); }
  bool request_cancel() override { return inner_.request_cancel(); }
  void enter_pipeline_mode() override { inner_.enter_pipeline_mode(); }
  void pipeline_sync() override { inner_.pipeline_sync(); }
  void exit_pipeline_mode() override { inner_.exit_pipeline_mode(); }
  bool in_pipeline_mode() const override { return inner_.in_pipeline_mode(); }
  bool send_commit() override {
    point("send COMMIT");
    return inner_.send_commit();
  }
  bool settle() override { return inner_.settle(); }

private:
  void breaking(const char* what) {
    try {
      point(what);
    } catch (...) {
      if (!broken_) ++broken;
      broken_ = true;
      throw;
    }
  }
  NonBlockingConnection& inner_;
  bool& broken_;
};

class FaultyConnection final : public DriverConnection {
public:
  explicit FaultyConnection(std::unique_ptr<DriverConnection> inner) : inner_(std::move(inner)) {
    if (NonBlockingConnection* nb = inner_->non_blocking())
      nb_ = std::make_unique<FaultyNonBlocking>(*nb, broken_);
  }
  ~FaultyConnection() override {
    if (broken_) --broken;
  }
  FaultyConnection(const FaultyConnection&) = delete;
  FaultyConnection& operator=(const FaultyConnection&) = delete;
  std::unique_ptr<DriverStatement> prepare(const std::string& sql) override {
    point_of("prepare", broken_);
    return std::make_unique<FaultyStatement>(inner_->prepare(sql), broken_);
  }
  void execute(const std::string& sql) override {
    point_of("execute", broken_);
    inner_->execute(sql);
  }
  void begin() override {
    point_of("begin", broken_);
    inner_->begin();
  }
  void will_write() override {
    point_of("will_write", broken_);
    inner_->will_write();
  }
  void commit() override {
    point_of("commit", broken_);
    inner_->commit();
  }
  bool commit_cannot_wait() const override { return inner_->commit_cannot_wait(); }
  void rollback() override { inner_->rollback(); }
  // Forwarded, so that the async layer runs SQLite plans on its own thread here as it does
  // without the proxy, and the sweep's faults hit that path.
  bool set_waiting(bool allowed) override { return inner_->set_waiting(allowed); }
  bool would_wait(const std::string& sql) override { return inner_->would_wait(sql); }
  bool in_transaction() const override { return inner_->in_transaction(); }
  bool ping() override { return !broken_ && inner_->ping(); }
  bool is_valid() const override { return !broken_ && inner_->is_valid(); }
  bool check_alive() override { return !broken_ && inner_->check_alive(); }
  std::optional<std::int64_t> last_insert_id() const override { return inner_->last_insert_id(); }
  std::optional<std::int64_t> generated_key(DriverStatement& insert, std::string_view table,
                                            std::string_view key_column) override {
    point("generated_key");
    return inner_->generated_key(static_cast<FaultyStatement&>(insert).inner(), table, key_column);
  }
  NonBlockingConnection* non_blocking() override { return nb_.get(); }

private:
  std::unique_ptr<DriverConnection> inner_;
  std::unique_ptr<FaultyNonBlocking> nb_;
  bool broken_ = false;
};

class FaultyDialectPlugin final : public DialectPlugin {
public:
  const SqlDialect& sql_dialect() const override { return inner().sql_dialect(); }
  std::unique_ptr<DriverConnection> connect(const Url&, const Options& options) const override {
    point("connect");
    return std::make_unique<FaultyConnection>(inner().connect(inner_url(), options));
  }
  std::string default_pool(const Url&) const override { return inner().default_pool(inner_url()); }

private:
  static const Url& inner_url() {
    static const Url url = Url::parse(inner_url_text());
    return url;
  }
  // Looked up on first use, not while the registry is making this plugin (it holds its lock).
  static const DialectPlugin& inner() {
    static const std::shared_ptr<const DialectPlugin> plugin =
        PluginRegistry::instance().dialect(inner_url().scheme());
    return *plugin;
  }
};

} // namespace

RETORT_DIALECT_PLUGIN(FaultyDialectPlugin, "faulty", "1", "faulty")

/// Arms the fault: call number `k` from now on fails (0: none); counters restart.
extern "C" __attribute__((visibility("default"))) void retort_faulty_arm(long k) {
  calls = 0;
  fired = 0;
  lose = false;
  fired_at = "";
  fail_at = k;
}
/// Arms the fault as retort_faulty_arm() does; the failing call also breaks its connection, as
/// a connection lost (to a server restart) would.
extern "C" __attribute__((visibility("default"))) void retort_faulty_arm_lost(long k) {
  retort_faulty_arm(k);
  lose = true;
}
/// The kind of call the last fault hit ("connect", "begin", "prepare", "step", ...).
extern "C" __attribute__((visibility("default"))) const char* retort_faulty_fired_at() {
  return fired_at;
}
/// Disarms the fault, keeping the counters (a scenario recovering from its fault).
extern "C" __attribute__((visibility("default"))) void retort_faulty_disarm() { fail_at = 0; }
/// Fault points passed since the last arm.
extern "C" __attribute__((visibility("default"))) long retort_faulty_calls() { return calls; }
/// Faults injected since the last arm.
extern "C" __attribute__((visibility("default"))) long retort_faulty_fired() { return fired; }
/// Broken connections still alive (held by a pool or a session).
extern "C" __attribute__((visibility("default"))) long retort_faulty_broken() { return broken; }

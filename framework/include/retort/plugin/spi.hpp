// The plugin contract. A plugin is a shared module that exports, through Boost.DLL aliases, a
// plain-data manifest and a factory. The loader reads and checks the manifest before it runs
// any other code of the plugin. Write a plugin with RETORT_DIALECT_PLUGIN / RETORT_POOL_PLUGIN.
#pragma once

#include <retort/core/export.hpp>
#include <retort/core/options.hpp>
#include <retort/core/url.hpp>
#include <retort/engine/driver.hpp>
#include <retort/engine/pool.hpp>
#include <retort/sql/dialect.hpp>

#include <boost/dll/alias.hpp>

#include <cstdint>
#include <memory>

namespace retort {

/// Bumped whenever the SPI classes change in a way that breaks plugins built before.
// 2: DriverConnection gained last_insert_id() and pipelined statement names; SqlDialect gained
//    prefers_last_insert_id().
// 3: DriverStatement gained bind_borrowed().
// 4: NonBlockingConnection gained send_commit() and send_begin().
// 5: DialectPlugin gained start_connect() (PendingConnection); Pool gained the non-blocking
//    checkout (try_checkout() and its slots and waits); NonBlockingConnection lost send_begin()
//    (the async executor sends every statement in a pipeline segment, where a deferred BEGIN
//    rides along).
// 6: Value gained borrowed text (Value::borrowed()): as_text() returns a std::string_view and
//    visit() passes text as one. NonBlockingConnection gained settle().
// 7: DriverConnection gained check_alive(): is_valid() does no I/O (a pool asks it at checkin),
//    check_alive() looks at the socket without blocking (a pool asks it at checkout).
inline constexpr std::uint32_t plugin_abi_version = 7;

// Two C++ modules can share classes only when built by the same compiler family against the
// same standard library; the tag records both so the loader can refuse a mismatch cleanly.
#define RETORT_STRINGIFY_(x) #x
#define RETORT_STRINGIFY(x) RETORT_STRINGIFY_(x)
#if defined(_GLIBCXX_RELEASE)
#define RETORT_ABI_STDLIB "libstdc++" RETORT_STRINGIFY(_GLIBCXX_USE_CXX11_ABI)
#elif defined(_LIBCPP_VERSION)
#define RETORT_ABI_STDLIB "libc++" RETORT_STRINGIFY(_LIBCPP_ABI_VERSION)
#else
#define RETORT_ABI_STDLIB "unknown-stdlib"
#endif
#if defined(__clang__)
#define RETORT_ABI_COMPILER "clang"
#elif defined(__GNUC__)
#define RETORT_ABI_COMPILER "gcc"
#else
#define RETORT_ABI_COMPILER "unknown-compiler"
#endif
/// The framework ABI tag a plugin is built against: "retort0/gcc/libstdc++1".
#define RETORT_ABI_TAG "retort0/" RETORT_ABI_COMPILER "/" RETORT_ABI_STDLIB

/// What a plugin provides.
enum class PluginKind : std::uint32_t { dialect = 1, pool = 2 };

/// Plain C data describing a plugin; read before any plugin code runs.
struct PluginManifest {
  /// Must equal plugin_abi_version.
  std::uint32_t abi_version;
  /// Must equal RETORT_ABI_TAG of the host.
  const char* abi_tag;
  PluginKind kind;
  /// Logical name, e.g. "sqlite" or "queue"; the file is retort-<kind>-<name>.so.
  const char* name;
  /// The plugin's own version.
  const char* version;
  /// For dialects: the URL schemes served, nullptr-terminated ("sqlite", "postgresql+libpq").
  const char* const* schemes;
};

/// A dialect plugin: the SQL dialect (rendering) and the driver (talking) of one database.
class RETORT_API DialectPlugin {
public:
  virtual ~DialectPlugin();
  /// Rendering rules.
  virtual const SqlDialect& sql_dialect() const = 0;
  /// Opens a connection to `url`; throws OperationalError (password masked) on failure.
  virtual std::unique_ptr<DriverConnection> connect(const Url& url,
                                                    const Options& options) const = 0;
  /// Starts opening a connection without blocking, or nullptr when the driver cannot (then
  /// connect() runs where blocking harms no one, e.g. a worker thread).
  virtual std::unique_ptr<PendingConnection> start_connect(const Url& url,
                                                           const Options& options) const {
    (void)url;
    (void)options;
    return nullptr;
  }
  /// The pool kind used when the configuration names none, e.g. "static" for :memory:.
  virtual std::string default_pool(const Url& url) const {
    (void)url;
    return "queue";
  }
};

/// A pool plugin: makes pools.
class RETORT_API PoolPlugin {
public:
  virtual ~PoolPlugin();
  /// A new pool opening connections with `factory`.
  virtual std::shared_ptr<Pool> create_pool(const PoolOptions& options,
                                            ConnectionFactory factory) const = 0;
};

/// Factory signature exported by dialect plugins under the alias retort_create_dialect.
using DialectFactory = std::unique_ptr<DialectPlugin>();
/// Factory signature exported by pool plugins under the alias retort_create_pool.
using PoolFactory = std::unique_ptr<PoolPlugin>();

} // namespace retort

// One plugin per module: these define the exported manifest and factory. `...` lists the URL
// schemes a dialect serves.
#define RETORT_DIALECT_PLUGIN(Class, plugin_name, plugin_version, ...)                             \
  namespace {                                                                                      \
  const char* const retort_plugin_schemes_[] = {__VA_ARGS__, nullptr};                             \
  std::unique_ptr<::retort::DialectPlugin> retort_make_dialect_() {                                \
    return std::make_unique<Class>();                                                              \
  }                                                                                                \
  }                                                                                                \
  extern "C" __attribute__((visibility("default")))                                                \
  const ::retort::PluginManifest retort_plugin_manifest{::retort::plugin_abi_version,              \
                                                        RETORT_ABI_TAG,                            \
                                                        ::retort::PluginKind::dialect,             \
                                                        plugin_name,                               \
                                                        plugin_version,                            \
                                                        retort_plugin_schemes_};                   \
  BOOST_DLL_ALIAS(retort_make_dialect_, retort_create_dialect)

#define RETORT_POOL_PLUGIN(Class, plugin_name, plugin_version)                                     \
  namespace {                                                                                      \
  std::unique_ptr<::retort::PoolPlugin> retort_make_pool_() { return std::make_unique<Class>(); }  \
  }                                                                                                \
  extern "C" __attribute__((visibility("default")))                                                \
  const ::retort::PluginManifest retort_plugin_manifest{::retort::plugin_abi_version,              \
                                                        RETORT_ABI_TAG,                            \
                                                        ::retort::PluginKind::pool,                \
                                                        plugin_name,                               \
                                                        plugin_version,                            \
                                                        nullptr};                                  \
  BOOST_DLL_ALIAS(retort_make_pool_, retort_create_pool)

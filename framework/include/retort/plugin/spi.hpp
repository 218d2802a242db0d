// The plugin contract. A plugin is a shared module that carries a plain-data manifest (an ELF
// note) and exports a factory through a Boost.DLL alias. The loader reads and checks the
// manifest from the file before the system loader maps it, so no code of a refused plugin runs.
// Write a plugin with RETORT_DIALECT_PLUGIN / RETORT_POOL_PLUGIN.
#pragma once

#include <retort/core/export.hpp>
#include <retort/core/options.hpp>
#include <retort/core/url.hpp>
#include <retort/engine/connector.hpp>
#include <retort/engine/driver.hpp>
#include <retort/engine/pool.hpp>
#include <retort/sql/dialect.hpp>

#include <boost/dll/alias.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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
// 8: the manifest is an ELF note read from the file before it is loaded (no exported
//    retort_plugin_manifest any more); DialectPlugin gained check_options() and derives from the
//    engine layer's Connector (sql_dialect, connect, start_connect).
// 9: SqlDialect gained upsert_select_needs_where(), concat_needs_parentheses_with_arithmetic()
//    and commit_sql(); Result and PipelineRun grew (a split INSERT's row count, the failed
//    statement of a pipeline).
// 10: SqlDialect gained generated_key_probe_sql() and stores_nan(); DriverConnection gained
//     will_write().
// 11: DriverConnection gained generated_key().
// 12: DriverConnection gained commit_cannot_wait().
// 13: DriverConnection gained set_waiting(); WouldWaitError.
// 14: DriverConnection gained would_wait().
inline constexpr std::uint32_t plugin_abi_version = 14;

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

/// A plugin's manifest as the loader reads it from the file (an ELF note, see below), before
/// the file is handed to the system loader: none of the plugin's code, not even a static
/// initializer, runs for a file whose manifest is missing or does not match.
struct PluginManifest {
  /// Must equal plugin_abi_version.
  std::uint32_t abi_version = 0;
  /// Must equal RETORT_ABI_TAG of the host.
  std::string abi_tag;
  PluginKind kind = PluginKind::dialect;
  /// Logical name, e.g. "sqlite" or "queue"; the file is retort-<kind>-<name>.so.
  std::string name;
  /// The plugin's own version.
  std::string version;
  /// For dialects: the URL schemes served ("sqlite", "postgresql+libpq").
  std::vector<std::string> schemes;
};

namespace detail {

// The manifest lives in the section ".note.retort" as one ELF note: owner "Retort", type
// manifest_note_type, and a descriptor of NUL-terminated "key=value" fields in this order:
// abi=<n>, tag=<RETORT_ABI_TAG>, kind=<dialect|pool>, name=, version=, then one scheme= per URL
// scheme. Plain bytes in the file: no relocation, no code, nothing to run to read it.
inline constexpr std::uint32_t manifest_note_type = 1;
inline constexpr char manifest_note_owner[] = "Retort";

/// The descriptor's fields before their "key=" prefixes: abi, tag, kind, name, version,
/// schemes...
struct ManifestFields {
  std::uint32_t abi;
  std::string_view tag, kind, name, version;
  std::span<const std::string_view> schemes;
};

constexpr std::size_t digits_of(std::uint32_t n) { return n < 10 ? 1 : 1 + digits_of(n / 10); }

constexpr std::size_t manifest_desc_size(const ManifestFields& f) {
  std::size_t size = 4 + digits_of(f.abi) + 1 + 4 + f.tag.size() + 1 + 5 + f.kind.size() + 1 + 5 +
                     f.name.size() + 1 + 8 + f.version.size() + 1;
  for (auto scheme : f.schemes)
    size += 7 + scheme.size() + 1;
  return size;
}

constexpr std::size_t align4(std::size_t n) { return (n + 3) / 4 * 4; }

/// One ELF note (Elf64_Nhdr followed by the padded owner and descriptor).
template <std::size_t DescSize> struct ManifestNote {
  std::uint32_t owner_size;
  std::uint32_t desc_size;
  std::uint32_t type;
  char owner[8];
  char desc[align4(DescSize)];
};

template <std::size_t DescSize>
constexpr ManifestNote<DescSize> make_manifest_note(const ManifestFields& f) {
  ManifestNote<DescSize> note{sizeof manifest_note_owner, DescSize, manifest_note_type, {}, {}};
  for (std::size_t i = 0; i < sizeof manifest_note_owner; ++i)
    note.owner[i] = manifest_note_owner[i];
  std::size_t at = 0;
  auto put = [&](std::string_view key, std::string_view value) {
    for (char c : key)
      note.desc[at++] = c;
    for (char c : value)
      note.desc[at++] = c;
    note.desc[at++] = '\0';
  };
  char abi[10]{};
  std::size_t n = digits_of(f.abi);
  for (std::uint32_t v = f.abi, i = 0; i < n; ++i, v /= 10)
    abi[n - 1 - i] = static_cast<char>('0' + v % 10);
  put("abi=", std::string_view(abi, n));
  put("tag=", f.tag);
  put("kind=", f.kind);
  put("name=", f.name);
  put("version=", f.version);
  for (auto scheme : f.schemes)
    put("scheme=", scheme);
  return note;
}

} // namespace detail

/// A dialect plugin: the SQL dialect (rendering) and the driver (talking) of one database. The
/// engine sees it as a Connector (engine/connector.hpp); the rest is for create_engine().
class RETORT_API DialectPlugin : public Connector {
public:
  ~DialectPlugin() override;
  /// Checks the dialect options — `url`'s query and `options` — without connecting, so that a
  /// bad one is reported when the engine is built, not at first connect. Throws OptionError
  /// naming the option.
  virtual void check_options(const Url& url, const Options& options) const {
    (void)url;
    (void)options;
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

// The manifest note of a module (see detail::ManifestNote); RETORT_DIALECT_PLUGIN and
// RETORT_POOL_PLUGIN write it. `kind` is "dialect" or "pool"; `...` lists the URL schemes.
#define RETORT_PLUGIN_MANIFEST(abi, tag, kind, plugin_name, plugin_version, ...)                   \
  namespace {                                                                                      \
  /* An empty entry ends the list, so that a pool (no scheme) still has an array. */               \
  constexpr std::string_view retort_manifest_schemes_[] = {__VA_ARGS__ __VA_OPT__(, ) ""};         \
  constexpr ::retort::detail::ManifestFields retort_manifest_fields_{                              \
      abi,                                                                                         \
      tag,                                                                                         \
      kind,                                                                                        \
      plugin_name,                                                                                 \
      plugin_version,                                                                              \
      std::span(retort_manifest_schemes_, std::size(retort_manifest_schemes_) - 1)};               \
  [[gnu::used, gnu::section(".note.retort"),                                                       \
    gnu::aligned(4)]] constexpr auto retort_manifest_note_ =                                       \
      ::retort::detail::make_manifest_note<::retort::detail::manifest_desc_size(                   \
          retort_manifest_fields_)>(retort_manifest_fields_);                                      \
  }

// One plugin per module: these define the manifest and the exported factory. `...` lists the
// URL schemes a dialect serves.
#define RETORT_DIALECT_PLUGIN(Class, plugin_name, plugin_version, ...)                             \
  RETORT_PLUGIN_MANIFEST(::retort::plugin_abi_version, RETORT_ABI_TAG, "dialect", plugin_name,     \
                         plugin_version, __VA_ARGS__)                                              \
  namespace {                                                                                      \
  std::unique_ptr<::retort::DialectPlugin> retort_make_dialect_() {                                \
    return std::make_unique<Class>();                                                              \
  }                                                                                                \
  }                                                                                                \
  BOOST_DLL_ALIAS(retort_make_dialect_, retort_create_dialect)

#define RETORT_POOL_PLUGIN(Class, plugin_name, plugin_version)                                     \
  RETORT_PLUGIN_MANIFEST(::retort::plugin_abi_version, RETORT_ABI_TAG, "pool", plugin_name,        \
                         plugin_version)                                                           \
  namespace {                                                                                      \
  std::unique_ptr<::retort::PoolPlugin> retort_make_pool_() { return std::make_unique<Class>(); }  \
  }                                                                                                \
  BOOST_DLL_ALIAS(retort_make_pool_, retort_create_pool)

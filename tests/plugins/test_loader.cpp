// The plugin loader and registry against real modules: broken ones built next to this test,
// the fake dialect, and the pool plugins in build/plugins.
#include "counting_connection.hpp"
#include "scoped_env.hpp"

#include <retort/core/error.hpp>
#include <retort/plugin/loader.hpp>
#include <retort/plugin/registry.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

namespace fs = std::filesystem;
using retort::PluginKind;
using retort::PluginRegistry;
using retort::PluginSearch;

namespace {

const fs::path module_dir = TEST_MODULE_DIR;

/// A directory removed with everything in it at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "retort-plugins-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  fs::path add(const fs::path& source, const std::string& name) const {
    fs::create_directories(path);
    fs::copy_file(source, path / name, fs::copy_options::overwrite_existing);
    return path / name;
  }
};

using retort::test::ScopedEnv;

/// Collects what is written to file descriptor 2 while alive.
class StderrCapture {
public:
  StderrCapture() : file_(std::tmpfile()), saved_(::dup(2)) {
    std::fflush(stderr);
    ::dup2(::fileno(file_), 2);
  }
  ~StderrCapture() { restore(); }
  std::string text() {
    restore();
    std::rewind(file_);
    std::string out;
    for (int c = std::fgetc(file_); c != EOF; c = std::fgetc(file_))
      out += static_cast<char>(c);
    return out;
  }

private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
  }
  std::FILE* file_;
  int saved_;
};

bool is_mapped(const fs::path& file) {
  std::ifstream maps("/proc/self/maps");
  const std::string all((std::istreambuf_iterator<char>(maps)), std::istreambuf_iterator<char>());
  return all.find(file.string()) != std::string::npos;
}

std::string dialect_error(std::string_view scheme, const PluginSearch& search) {
  try {
    (void)PluginRegistry::instance().dialect(scheme, search);
  } catch (const retort::PluginError& e) {
    return e.what();
  }
  FAIL("no PluginError for scheme " << scheme);
  return {};
}

std::string pool_error(std::string_view name, const PluginSearch& search) {
  try {
    (void)PluginRegistry::instance().pool(name, search);
  } catch (const retort::PluginError& e) {
    return e.what();
  }
  FAIL("no PluginError for pool " << name);
  return {};
}

// Every directory of the search appears with the file name and a reason.
void check_every_path(const std::string& what, PluginKind kind, const std::string& name,
                      const PluginSearch& search) {
  const auto dirs = retort::plugin_directories(search);
  REQUIRE(dirs.size() >= 3);
  for (const auto& dir : dirs)
    CHECK_THAT(what, Catch::Contains((dir / retort::plugin_file_name(kind, name)).string() + ": "));
}

const PluginSearch in_module_dir{{}, {module_dir}};

} // namespace

TEST_CASE("file names follow retort-<kind>-<name>.so", "[plugins]") {
  CHECK(retort::plugin_file_name(PluginKind::dialect, "sqlite") == "retort-dialect-sqlite.so");
  CHECK(retort::plugin_file_name(PluginKind::pool, "queue") == "retort-pool-queue.so");
  CHECK(retort::dialect_name_of_scheme("postgresql+libpq") == "postgresql");
  CHECK(retort::dialect_name_of_scheme("sqlite") == "sqlite");
}

TEST_CASE("search order: config paths, RETORT_PLUGIN_PATH, install dir, libretort's dir",
          "[plugins]") {
  ScopedEnv env("RETORT_PLUGIN_PATH", "/env/one::/env/two:/config/a");
  const auto dirs = retort::plugin_directories(PluginSearch{{}, {"/config/a", "/config/b"}});
  REQUIRE(dirs.size() >= 5);
  CHECK(dirs[0] == "/config/a");
  CHECK(dirs[1] == "/config/b");
  CHECK(dirs[2] == "/env/one");
  CHECK(dirs[3] == "/env/two"); // the empty entry is skipped, /config/a not repeated
  CHECK(dirs[4] == fs::path(RETORT_PLUGIN_INSTALL_DIR_FOR_TEST));
}

TEST_CASE("broken plugin files are refused with the path and the reason", "[plugins]") {
  struct Case {
    std::string scheme;
    std::string reason;
  };
  const auto missing_symbol = std::string("undefined symbol: _Z28retort_test_missing_functionv");
  const auto bad_abi = "ABI version 99 != host " + std::to_string(retort::plugin_abi_version);
  const auto [scheme, reason] = GENERATE_COPY(values<Case>({
      {"textfile", "invalid ELF header"},
      {"adir", "cannot read file data: Is a directory"},
      {"nomanifest", "no retort_plugin_manifest"},
      {"badabi", bad_abi},
      {"badtag", "ABI tag retort0/othercc/otherlib != host " RETORT_ABI_TAG},
      {"nofactory", "missing entry point retort_create_dialect"},
      {"unresolved", missing_symbol},
      {"fake+two", "scheme not served: fake+two (serves fake, fake+one)"},
  }));
  CAPTURE(scheme);
  const auto what = dialect_error(scheme, in_module_dir);
  const auto name = retort::dialect_name_of_scheme(scheme);
  CHECK_THAT(what,
             Catch::Contains("dialect plugin '" + name + "' for URL scheme '" + scheme + "'"));
  CHECK_THAT(what, Catch::Contains(
                       (module_dir / retort::plugin_file_name(PluginKind::dialect, name)).string() +
                       ": " + reason));
  check_every_path(what, PluginKind::dialect, name, in_module_dir);
  CHECK_THAT(what, Catch::Contains(": not found"));
}

TEST_CASE("a dialect file asked for as a pool is a kind mismatch", "[plugins]") {
  const auto what = pool_error("wrongkind", in_module_dir);
  CHECK_THAT(what, Catch::Contains("pool plugin 'wrongkind'"));
  CHECK_THAT(what, Catch::Contains((module_dir / "retort-pool-wrongkind.so").string() +
                                   ": kind mismatch: the file is a dialect plugin"));
  check_every_path(what, PluginKind::pool, "wrongkind", in_module_dir);
}

TEST_CASE("a plugin found nowhere lists every path", "[plugins]") {
  const auto what = dialect_error("nosuchdb+driver", in_module_dir);
  CHECK_THAT(what, Catch::Contains("dialect plugin 'nosuchdb' for URL scheme 'nosuchdb+driver'"));
  check_every_path(what, PluginKind::dialect, "nosuchdb", in_module_dir);
  CHECK_THAT(what, Catch::Contains("RETORT_PLUGIN_PATH"));
}

TEST_CASE("an explicit plugin file is the only candidate", "[plugins]") {
  const auto fake = module_dir / "retort-dialect-fake.so";
  auto plugin = PluginRegistry::instance().dialect("fake+one", PluginSearch{fake, {}});
  CHECK(plugin->sql_dialect().name() == "fake-1");

  const auto broken = module_dir / "retort-dialect-badtag.so";
  const auto what = dialect_error("fake", PluginSearch{broken, {"/somewhere/else"}});
  CHECK_THAT(what, Catch::Contains(broken.string() + ": ABI tag"));
  CHECK_THAT(what, !Catch::Contains("/somewhere/else"));
  CHECK_THAT(what, !Catch::Contains("not found"));

  CHECK_THROWS_WITH(retort::load_dialect_plugin(module_dir / "retort-dialect-nomanifest.so", "x"),
                    Catch::Contains("retort-dialect-nomanifest.so") &&
                        Catch::Contains("no retort_plugin_manifest"));
}

TEST_CASE("a config path wins over RETORT_PLUGIN_PATH, which wins over later ones", "[plugins]") {
  TempDir config_dir, env_dir;
  config_dir.add(module_dir / "retort-dialect-fake.so", "retort-dialect-fake.so");
  env_dir.add(module_dir / "retort-dialect-fakev2.so", "retort-dialect-fake.so");
  ScopedEnv env("RETORT_PLUGIN_PATH", env_dir.path.string());

  auto from_config =
      PluginRegistry::instance().dialect("fake", PluginSearch{{}, {config_dir.path}});
  CHECK(from_config->sql_dialect().name() == "fake-1");
  auto from_env = PluginRegistry::instance().dialect("fake");
  CHECK(from_env->sql_dialect().name() == "fake-2");
  // Loaded once per file: asking again gives the same object.
  CHECK(PluginRegistry::instance().dialect("fake+one") == from_env);
}

TEST_CASE("RETORT_DEBUG_PLUGINS traces every path tried and its outcome", "[plugins]") {
  TempDir dir; // a copy no other test has loaded yet
  const auto copy = dir.add(module_dir / "retort-dialect-fake.so", "retort-dialect-fake.so");
  ScopedEnv debug("RETORT_DEBUG_PLUGINS", "1");
  StderrCapture capture;
  (void)dialect_error("badabi", in_module_dir);
  auto fake = PluginRegistry::instance().dialect("fake", PluginSearch{{}, {dir.path}});
  const auto trace = capture.text();
  CHECK_THAT(trace, Catch::Contains("looking for dialect plugin 'badabi'"));
  CHECK_THAT(trace, Catch::Contains((module_dir / "retort-dialect-badabi.so").string() +
                                    ": ABI version 99 != host " +
                                    std::to_string(retort::plugin_abi_version)));
  CHECK_THAT(trace, Catch::Contains("retort-dialect-badabi.so: not found"));
  CHECK_THAT(trace, Catch::Contains(copy.string() + ": loaded dialect plugin fake 1"));

  ScopedEnv quiet("RETORT_DEBUG_PLUGINS", std::nullopt);
  StderrCapture silent;
  (void)dialect_error("badabi", in_module_dir);
  CHECK(silent.text().empty());
}

namespace {

class StaticSqlDialect final : public retort::SqlDialect {
public:
  std::string_view name() const override { return "static"; }
  void render_placeholder(std::string& out, std::size_t) const override { out += '?'; }
  std::string type_name(const retort::SqlType&) const override { return "X"; }
  std::string autoincrement_type(const retort::SqlType&) const override { return "X"; }
  std::size_t max_bound_parameters() const override { return 1; }
};

class StaticDialectPlugin final : public retort::DialectPlugin {
public:
  const retort::SqlDialect& sql_dialect() const override { return dialect_; }
  std::unique_ptr<retort::DriverConnection> connect(const retort::Url&,
                                                    const retort::Options&) const override {
    return std::make_unique<retort::testing::CountingConnection>(
        std::make_shared<retort::testing::ConnectionCounters>());
  }

private:
  StaticSqlDialect dialect_;
};

class StaticPoolPlugin final : public retort::PoolPlugin {
public:
  std::shared_ptr<retort::Pool> create_pool(const retort::PoolOptions&,
                                            retort::ConnectionFactory) const override {
    return nullptr;
  }
};

} // namespace

TEST_CASE("static registrations win over files", "[plugins]") {
  auto& registry = PluginRegistry::instance();
  registry.register_dialect("fake-static", {"fake", "staticdb"},
                            [] { return std::make_unique<StaticDialectPlugin>(); });
  registry.register_pool("queue", [] { return std::make_unique<StaticPoolPlugin>(); });

  auto by_scheme = registry.dialect("staticdb");
  CHECK(by_scheme->sql_dialect().name() == "static");
  CHECK(registry.dialect("fake", in_module_dir) == by_scheme); // the file is not even tried
  CHECK(dynamic_cast<const StaticPoolPlugin*>(registry.pool("queue").get()) != nullptr);

  registry.unregister_dialect("fake-static");
  registry.unregister_pool("queue");
  CHECK(registry.dialect("fake", in_module_dir)->sql_dialect().name() == "fake-1");
  CHECK(dynamic_cast<const StaticPoolPlugin*>(registry.pool("queue").get()) == nullptr);
  CHECK_THROWS_AS(registry.dialect("staticdb"), retort::PluginError);
}

// DESIGN.md: a plugin, once loaded, stays loaded until the process exits, in every build (not
// only in the sanitizer build): what its code made may outlive every object of the plugin.
TEST_CASE("a dialect library stays loaded after its plugin object is gone", "[plugins][unload]") {
  TempDir dir;
  const auto file = dir.add(module_dir / "retort-dialect-fake.so", "retort-dialect-fake.so");
  auto plugin = retort::load_dialect_plugin(file, "fake");
  CHECK(is_mapped(file));
  auto connection = plugin->connect(retort::Url::parse("fake://"), {});
  connection.reset();
  plugin.reset();
  CHECK(is_mapped(file));
}

TEST_CASE("a pool library stays loaded after its pools are gone", "[plugins][unload]") {
  TempDir dir;
  const auto file = dir.add(fs::path(std::getenv("RETORT_PLUGIN_PATH")) / "retort-pool-queue.so",
                            "retort-pool-queue.so");
  auto plugin = retort::load_pool_plugin(file);
  auto counters = std::make_shared<retort::testing::ConnectionCounters>();
  auto pool =
      plugin->create_pool(retort::PoolOptions{}, retort::testing::counting_factory(counters));
  plugin.reset();
  auto connection = pool->checkout();
  pool.reset();
  connection.release();
  CHECK(counters->closed == 1); // the pool was destroyed with its idle connection
  CHECK(is_mapped(file));
}

TEST_CASE("libretort does not link any database client library", "[plugins][layering]") {
  const auto lib = fs::path(std::getenv("RETORT_TEST_BUILD_DIR")) / "framework" / "libretort.so";
  REQUIRE(fs::exists(lib));
  const auto command = "readelf -d '" + lib.string() + "'";
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  REQUIRE(pipe);
  std::string needed;
  char line[512];
  while (std::fgets(line, sizeof line, pipe.get()))
    if (std::string_view(line).find("(NEEDED)") != std::string_view::npos) needed += line;
  CAPTURE(needed);
  CHECK_THAT(needed, Catch::Contains("libstdc++")); // readelf really ran
  CHECK_THAT(needed, !Catch::Contains("libsqlite3"));
  CHECK_THAT(needed, !Catch::Contains("libpq"));
}

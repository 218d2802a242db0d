// The plugin loader and registry against real modules: broken ones built next to this test,
// the fake dialect, and the pool plugins in build/plugins.
#include "counting_connection.hpp"
#include "scoped_env.hpp"

#include <retort/core/error.hpp>
#include <retort/plugin/loader.hpp>
#include <retort/plugin/registry.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <vector>

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
      {"textfile", "not an ELF file (no ELF magic number)"},
      {"adir", "is a directory, not a plugin file"},
      {"nomanifest", "no Retort manifest (.note.retort)"},
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
                        Catch::Contains("no Retort manifest"));
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

namespace {

const fs::path real_plugin = TEST_SQLITE_PLUGIN;

std::vector<char> bytes_of(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

fs::path write_file(const TempDir& dir, const std::string& name, const std::vector<char>& bytes) {
  fs::create_directories(dir.path);
  std::ofstream(dir.path / name, std::ios::binary).write(bytes.data(), std::ssize(bytes));
  return dir.path / name;
}

// The PluginError of loading `file` as the sqlite dialect; fails the test when it loads.
std::string load_error(const fs::path& file) {
  try {
    (void)retort::load_dialect_plugin(file, "sqlite");
  } catch (const retort::PluginError& e) {
    return e.what();
  }
  FAIL("no PluginError for " << file);
  return {};
}

} // namespace

// dlopen() maps a truncated file's segments anyway, and the first touch of a page past the end
// raised SIGBUS; the manifest is now read from the file and every segment checked first.
TEST_CASE("truncated copies of a real plugin are PluginErrors, never a signal", "[plugins][elf]") {
  const auto whole = bytes_of(real_plugin);
  REQUIRE(whole.size() > 64 * 1024);
  TempDir dir;
  CHECK(retort::read_plugin_manifest(write_file(dir, "whole.so", whole)).name == "sqlite");
  std::vector<std::size_t> sizes{0, 1, 3, 4, 16, 63, 64, 65, 200};
  for (std::size_t size = 512; size <= 16 * 1024; size += 512)
    sizes.push_back(size);
  for (std::size_t size = 16 * 1024 + 4096; size < whole.size(); size += whole.size() / 16)
    sizes.push_back(size);
  sizes.push_back(whole.size() - 1);
  for (const auto size : sizes) {
    CAPTURE(size);
    const std::vector<char> head(whole.begin(), whole.begin() + std::ptrdiff_t(size));
    const auto file = write_file(dir, "retort-dialect-sqlite.so", head);
    const auto what = load_error(file);
    CHECK_THAT(what, Catch::Contains(file.string()));
    if (size >= 64)
      CHECK_THAT(what, Catch::Contains("truncated or corrupt ELF file") &&
                           Catch::Contains("the file has " + std::to_string(size) + " bytes"));
    else
      CHECK_THAT(what, Catch::Contains("not an ELF file") || Catch::Contains("truncated"));
  }
  // Found by the registry too: the error lists the path and the reason.
  const auto listed =
      dialect_error("sqlite", PluginSearch{dir.path / "retort-dialect-sqlite.so", {}});
  CHECK_THAT(listed, Catch::Contains((dir.path / "retort-dialect-sqlite.so").string() +
                                     ": truncated or corrupt ELF file"));
}

TEST_CASE("a wrong-ABI plugin is refused before its static initializers run", "[plugins][elf]") {
  TempDir dir;
  fs::create_directories(dir.path);
  const auto marker = dir.path / "initializer-ran";
  ScopedEnv env("RETORT_TEST_MARKER", marker.string());
  const auto what = dialect_error("staticinit", in_module_dir);
  CHECK_THAT(what, Catch::Contains("retort-dialect-staticinit.so: ABI version 99 != host"));
  CHECK_FALSE(fs::exists(marker));
  CHECK_FALSE(is_mapped(module_dir / "retort-dialect-staticinit.so"));
}

TEST_CASE("random bytes and corrupt headers are PluginErrors", "[plugins][elf]") {
  TempDir dir;
  std::mt19937 random(20261207);
  for (int i = 0; i < 200; ++i) {
    std::vector<char> bytes(std::uniform_int_distribution<std::size_t>(0, 20000)(random));
    for (auto& b : bytes)
      b = static_cast<char>(random());
    if (i % 2 == 0 && bytes.size() >= 64) { // a valid-looking ELF identification first
      const auto whole = bytes_of(real_plugin);
      std::copy(whole.begin(), whole.begin() + (i % 4 == 0 ? 16 : 64), bytes.begin());
    }
    CAPTURE(i, bytes.size());
    (void)load_error(write_file(dir, "retort-dialect-sqlite.so", bytes));
  }
  // A real plugin with one header field corrupted.
  const auto whole = bytes_of(real_plugin);
  struct Patch {
    std::size_t offset;
    std::vector<unsigned char> bytes;
    std::string reason;
  };
  const auto patches = {
      Patch{4, {1}, "a 32-bit ELF file; this process is 64-bit"},
      Patch{5, {2}, "the other byte order"},
      Patch{16, {2, 0}, "not a shared library: the file is an executable"},
      Patch{18, {183, 0}, "built for AArch64; this process runs on x86-64"},
      Patch{32, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, "the program header table"},
      Patch{40, {0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "the section header table"},
  };
  for (const auto& patch : patches) {
    auto copy = whole;
    std::memcpy(copy.data() + patch.offset, patch.bytes.data(), patch.bytes.size());
    CAPTURE(patch.reason);
    CHECK_THAT(load_error(write_file(dir, "retort-dialect-sqlite.so", copy)),
               Catch::Contains(patch.reason));
  }
}

// DESIGN.md: layers only call downward (core < sql < schema < engine < plugin < config < orm <
// async). The engine once included plugin/spi.hpp and the async checkout called
// engine.plugin(); both now go through the engine layer's Connector.
TEST_CASE("no framework file includes a header of a higher layer", "[plugins][layering]") {
  const std::vector<std::string> layers{"core",   "sql",    "schema", "engine",
                                        "plugin", "config", "orm",    "async"};
  const auto source = fs::path(std::getenv("RETORT_TEST_SOURCE_DIR")) / "framework";
  std::size_t files = 0;
  for (std::size_t rank = 0; rank < layers.size(); ++rank) {
    for (const auto& base : {source / "src", source / "include" / "retort"}) {
      if (!fs::exists(base / layers[rank])) continue;
      for (const auto& entry : fs::recursive_directory_iterator(base / layers[rank])) {
        if (!entry.is_regular_file()) continue;
        ++files;
        std::ifstream in(entry.path());
        for (std::string line; std::getline(in, line);) {
          if (line.rfind("#include <retort/", 0) != 0) continue;
          const auto name = line.substr(17, line.find_first_of("/.>", 17) - 17);
          const auto found = std::find(layers.begin(), layers.end(), name);
          CAPTURE(entry.path().string(), line);
          CHECK((found == layers.end() || std::size_t(found - layers.begin()) <= rank));
        }
      }
    }
  }
  CHECK(files > 50);
  std::ifstream checkout(source / "src" / "async" / "checkout.cpp");
  const std::string text((std::istreambuf_iterator<char>(checkout)),
                         std::istreambuf_iterator<char>());
  REQUIRE_FALSE(text.empty());
  CHECK(text.find(".plugin()") == std::string::npos);
}

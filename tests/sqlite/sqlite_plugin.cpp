#include "sqlite_plugin.hpp"

#include <boost/dll/import.hpp>
#include <boost/dll/shared_library.hpp>

#include <dlfcn.h>

#include <cstdlib>
#include <functional>
#include <stdexcept>

namespace retort::test {

namespace {

boost::dll::load_mode::type load_mode() {
#ifdef RETORT_SANITIZE
  // Keeps the module mapped at exit so that LSan can symbolize leaks inside it.
  return boost::dll::load_mode::rtld_now | static_cast<boost::dll::load_mode::type>(RTLD_NODELETE);
#else
  return boost::dll::load_mode::rtld_now;
#endif
}

// The factory keeps the library loaded, so it is declared first and destroyed last.
struct Loaded {
  std::function<DialectFactory> factory;
  std::unique_ptr<DialectPlugin> plugin;
};

} // namespace

std::filesystem::path sqlite_plugin_path() {
  const char* dir = std::getenv("RETORT_PLUGIN_PATH");
  if (dir == nullptr) throw std::runtime_error("RETORT_PLUGIN_PATH is not set");
  return std::filesystem::path(dir) / "retort-dialect-sqlite.so";
}

const DialectPlugin& sqlite_plugin() {
  static Loaded loaded = [] {
    Loaded l;
    l.factory = boost::dll::import_alias<DialectFactory>(sqlite_plugin_path(),
                                                         "retort_create_dialect", load_mode());
    l.plugin = l.factory();
    return l;
  }();
  return *loaded.plugin;
}

std::unique_ptr<DriverConnection> connect(const std::string& url, const Options& options) {
  return sqlite_plugin().connect(Url::parse(url), options);
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "retort-sqlite-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

} // namespace retort::test

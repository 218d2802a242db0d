// libFuzzer target: the YAML configuration reader. Any file is a Configuration or a
// ConfigError (never another exception, a crash or a hang); an error names the file.
#include <retort/config/config.hpp>
#include <retort/core/error.hpp>

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

const std::filesystem::path& scratch_file() {
  static const auto path = [] {
    auto dir = std::filesystem::temp_directory_path() /
               ("retort-fuzz-config-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return dir / "retort.yaml";
  }();
  return path;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // ${VAR} substitution reads the environment: keep one variable set and one unset.
  ::setenv("RETORT_FUZZ_SET", "value:with/special@chars", 0);
  ::unsetenv("RETORT_FUZZ_UNSET");
  {
    std::ofstream out(scratch_file(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    const auto config = retort::load_config(scratch_file());
    for (const auto& [name, engine] : config.engines)
      (void)engine.url.size();
    for (const auto& [name, error] : config.unresolved)
      if (error.file().empty()) std::abort();
  } catch (const retort::ConfigError& e) {
    if (e.file().empty()) std::abort(); // every error names the file
  }
  return 0;
}

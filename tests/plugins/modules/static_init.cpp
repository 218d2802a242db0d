// A module built for another plugin ABI whose static initializer leaves a marker file (named by
// RETORT_TEST_MARKER): the loader must refuse it from its manifest, before any of its code runs.
#include <retort/plugin/spi.hpp>

#include <cstdlib>
#include <fstream>

namespace {

const bool initialized = [] {
  if (const char* marker = std::getenv("RETORT_TEST_MARKER")) std::ofstream(marker) << "ran\n";
  return true;
}();

[[maybe_unused]] std::unique_ptr<retort::DialectPlugin> create() {
  (void)initialized;
  std::abort();
}

} // namespace

RETORT_PLUGIN_MANIFEST(99, RETORT_ABI_TAG, "dialect", "staticinit", "0", "staticinit")
BOOST_DLL_ALIAS(create, retort_create_dialect)

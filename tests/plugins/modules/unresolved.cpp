// A plugin that needs a symbol nothing defines: shared_module links it anyway, and an RTLD_NOW
// load must fail with the system loader's "undefined symbol" message.
#include <retort/plugin/spi.hpp>

#include <cstdlib>

void retort_test_missing_function();

namespace {

std::unique_ptr<retort::DialectPlugin> create() {
  retort_test_missing_function();
  std::abort();
}

} // namespace

RETORT_PLUGIN_MANIFEST(retort::plugin_abi_version, RETORT_ABI_TAG, "dialect", "unresolved", "0",
                       "unresolved")
BOOST_DLL_ALIAS(create, retort_create_dialect)

// A plugin that needs a symbol nothing defines: shared_module links it anyway, and an RTLD_NOW
// load must fail with the system loader's "undefined symbol" message.
#include <retort/plugin/spi.hpp>

#include <cstdlib>

void retort_test_missing_function();

namespace {

const char* const schemes[] = {"unresolved", nullptr};

std::unique_ptr<retort::DialectPlugin> create() {
  retort_test_missing_function();
  std::abort();
}

} // namespace

extern "C" __attribute__((visibility("default")))
const retort::PluginManifest retort_plugin_manifest{retort::plugin_abi_version,
                                                    RETORT_ABI_TAG,
                                                    retort::PluginKind::dialect,
                                                    "unresolved",
                                                    "0",
                                                    schemes};
BOOST_DLL_ALIAS(create, retort_create_dialect)

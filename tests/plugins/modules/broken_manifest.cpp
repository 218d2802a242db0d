// A module whose manifest is wrong in one way, chosen by the build (tests/plugins/meson.build).
// Its factory aborts: the loader must refuse the module before it calls any plugin code.
#include <retort/plugin/spi.hpp>

#include <cstdlib>

#ifndef MANIFEST_ABI
#define MANIFEST_ABI ::retort::plugin_abi_version
#endif
#ifndef MANIFEST_TAG
#define MANIFEST_TAG RETORT_ABI_TAG
#endif
#ifndef MANIFEST_KIND
#define MANIFEST_KIND "dialect"
#endif
#ifndef MANIFEST_SCHEME
#define MANIFEST_SCHEME "broken"
#endif

namespace {

[[maybe_unused]] std::unique_ptr<retort::DialectPlugin> create() { std::abort(); }

} // namespace

RETORT_PLUGIN_MANIFEST(MANIFEST_ABI, MANIFEST_TAG, MANIFEST_KIND, MANIFEST_SCHEME, "0",
                       MANIFEST_SCHEME)

#ifndef NO_FACTORY
BOOST_DLL_ALIAS(create, retort_create_dialect)
#endif

#include <retort/plugin/spi.hpp>

namespace retort {

DialectPlugin::~DialectPlugin() = default;
PoolPlugin::~PoolPlugin() = default;

} // namespace retort

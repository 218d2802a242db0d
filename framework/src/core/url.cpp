// Placeholder until URL parsing lands (owned by the plugin/config work).
#include <retort/core/url.hpp>

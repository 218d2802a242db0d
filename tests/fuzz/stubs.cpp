// The fuzz targets link only the framework sources they exercise; the config reader's one call
// into the plugin layer (engine_from_config -> create_engine) is never made by them.
#include <retort/core/error.hpp>
#include <retort/plugin/create_engine.hpp>

namespace retort {

Engine create_engine(const EngineConfig&) { throw Error("create_engine is not in the fuzzer"); }

} // namespace retort

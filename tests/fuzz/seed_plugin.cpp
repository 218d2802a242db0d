// A small, real pool plugin: built by run.sh as a seed input for the plugin_file target.
#include <retort/plugin/spi.hpp>

namespace {

class SeedPoolPlugin final : public retort::PoolPlugin {
public:
  std::shared_ptr<retort::Pool> create_pool(const retort::PoolOptions&,
                                            retort::ConnectionFactory) const override {
    return nullptr;
  }
};

} // namespace

RETORT_POOL_PLUGIN(SeedPoolPlugin, "seed", "1.0")

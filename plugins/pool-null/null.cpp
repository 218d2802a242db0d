// The null pool (SQLAlchemy's NullPool): every checkout opens a new connection and every return
// closes it, e.g. for processes that fork or for databases behind an external pooler.
#include <retort/plugin/basic_pool.hpp>
#include <retort/plugin/spi.hpp>

namespace {

class NullPoolPlugin final : public retort::PoolPlugin {
public:
  std::shared_ptr<retort::Pool> create_pool(const retort::PoolOptions& options,
                                            retort::ConnectionFactory factory) const override {
    auto unpooled = options;
    unpooled.size = 0;          // nothing is kept ...
    unpooled.max_overflow = -1; // ... and nothing limits how many are open
    return std::make_shared<retort::BasicPool>("null", unpooled, std::move(factory));
  }
};

} // namespace

RETORT_POOL_PLUGIN(NullPoolPlugin, "null", "0.1.0")

// The queue pool (SQLAlchemy's QueuePool): `size` connections kept, `max_overflow` more under
// load, checkout waits up to `timeout`. BasicPool in libretort does the work.
#include <retort/plugin/basic_pool.hpp>
#include <retort/plugin/spi.hpp>

namespace {

class QueuePoolPlugin final : public retort::PoolPlugin {
public:
  std::shared_ptr<retort::Pool> create_pool(const retort::PoolOptions& options,
                                            retort::ConnectionFactory factory) const override {
    return std::make_shared<retort::BasicPool>("queue", options, std::move(factory));
  }
};

} // namespace

RETORT_POOL_PLUGIN(QueuePoolPlugin, "queue", "0.1.0")

// An example third-party pool plugin: a queue pool that always hands out the connection waiting
// longest (FIFO) and logs each checkout through Retort's log sink.
#include <retort/core/log.hpp>
#include <retort/plugin/basic_pool.hpp>
#include <retort/plugin/spi.hpp>

#include <atomic>
#include <string>

namespace {

class FifoLoggingPool final : public retort::BasicPool {
public:
  FifoLoggingPool(retort::PoolOptions options, retort::ConnectionFactory factory)
      : BasicPool("fifo-external", fifo(std::move(options)), std::move(factory)) {}

  retort::PooledConnection checkout() override {
    auto connection = BasicPool::checkout();
    retort::log_line("fifo-external: checkout #" + std::to_string(++checkouts_));
    return connection;
  }

private:
  static retort::PoolOptions fifo(retort::PoolOptions options) {
    options.lifo = false;
    return options;
  }
  std::atomic<int> checkouts_{0};
};

class FifoExternalPlugin final : public retort::PoolPlugin {
public:
  std::shared_ptr<retort::Pool> create_pool(const retort::PoolOptions& options,
                                            retort::ConnectionFactory factory) const override {
    return std::make_shared<FifoLoggingPool>(options, std::move(factory));
  }
};

} // namespace

RETORT_POOL_PLUGIN(FifoExternalPlugin, "fifo-external", "0.1.0")

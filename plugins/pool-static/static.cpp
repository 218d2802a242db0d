// The static pool: exactly one connection, handed to one holder at a time, never recycled.
// SQLite's :memory: database lives only as long as its one connection, so every checkout must
// see that same connection to see the same database.
#include <retort/plugin/basic_pool.hpp>
#include <retort/plugin/spi.hpp>

namespace {

class StaticPoolPlugin final : public retort::PoolPlugin {
public:
  std::shared_ptr<retort::Pool> create_pool(const retort::PoolOptions& options,
                                            retort::ConnectionFactory factory) const override {
    auto single = options;
    single.size = 1;
    single.max_overflow = 0;
    // Replacing the connection would silently replace the database.
    single.recycle.reset();
    single.idle_timeout.reset();
    auto pool = std::make_shared<retort::BasicPool>("static", single, std::move(factory));
    // A second session of the thread that holds the one connection would wait for nothing but
    // the timeout: it fails at once, saying why.
    pool->refuse_waits_on_own_thread(true);
    return pool;
  }
};

} // namespace

RETORT_POOL_PLUGIN(StaticPoolPlugin, "static", "0.1.0")

#include <retort/engine/connection.hpp>
#include <retort/engine/connector.hpp>
#include <retort/engine/engine.hpp>
#include <retort/sql/statement_cache.hpp>

#include <atomic>

namespace retort {

struct Engine::State {
  std::shared_ptr<const Connector> connector;
  std::shared_ptr<Pool> pool;
  Url url;
  EngineOptions options;
  StatementCache statements;
  std::atomic<bool> echo{false};
};

Connector::~Connector() = default;

Engine::Engine(std::shared_ptr<const Connector> connector, std::shared_ptr<Pool> pool, Url url,
               EngineOptions options)
    : state_(std::make_shared<State>()) {
  if (!connector) throw ArgumentError("Engine: no connector given");
  if (!pool) throw ArgumentError("Engine: no pool given");
  state_->connector = std::move(connector);
  state_->pool = std::move(pool);
  state_->url = std::move(url);
  state_->echo = options.echo;
  state_->options = std::move(options);
}

Connection Engine::connect() const { return Connection(*this); }
const SqlDialect& Engine::dialect() const { return state_->connector->sql_dialect(); }
const Connector& Engine::connector() const { return *state_->connector; }
const Url& Engine::url() const { return state_->url; }
Pool& Engine::pool() const { return *state_->pool; }
const Options& Engine::dialect_options() const { return state_->options.dialect_options; }
StatementCache& Engine::statement_cache() const { return state_->statements; }
bool Engine::echo() const { return state_->echo.load(std::memory_order_relaxed); }
void Engine::set_echo(bool on) const { state_->echo.store(on, std::memory_order_relaxed); }
void Engine::dispose() const { state_->pool->dispose(); }

ConnectionFactory Engine::connect_factory(std::shared_ptr<const Connector> connector, Url url,
                                          Options options) {
  return [connector = std::move(connector), url = std::move(url), options = std::move(options)] {
    return connector->connect(url, options);
  };
}

} // namespace retort

// Engine: the starting point of everything, as in SQLAlchemy. It owns a connector (dialect and
// driver), a pool and a compiled-SQL cache, and hands out Connections. It does not know how its
// connector and pool were found (plugin/ and config/ do that). Copies share one engine;
// thread-safe.
#pragma once

#include <retort/core/export.hpp>
#include <retort/core/options.hpp>
#include <retort/core/url.hpp>
#include <retort/engine/pool.hpp>

#include <memory>

namespace retort {

class Connection;
class Connector;
class SqlDialect;
class StatementCache;

/// Settings of an engine other than its pool.
struct EngineOptions {
  /// Log every statement and its parameters (secrets masked), like SQLAlchemy's echo=True.
  bool echo = false;
  /// Passed to the connector's connect(), e.g. busy_timeout for SQLite.
  Options dialect_options;
};

/// A database: dialect, pool and compiled-statement cache. Cheap to copy (shared state).
class RETORT_API Engine {
public:
  /// Assembles an engine; normally called by create_engine() / engine_from_config().
  /// `pool` must have been made with connect_factory() of the same connector, url and options.
  Engine(std::shared_ptr<const Connector> connector, std::shared_ptr<Pool> pool, Url url,
         EngineOptions options);

  /// A connection checked out of the pool; returned when the Connection is destroyed.
  Connection connect() const;
  /// The SQL rendering rules of this database.
  const SqlDialect& dialect() const;
  /// How connections to this database are opened (the dialect plugin, seen from here).
  const Connector& connector() const;
  /// The URL this engine connects to.
  const Url& url() const;
  /// The connection pool.
  Pool& pool() const;
  /// The options the connector's connect() gets (as the pool's connection factory does).
  const Options& dialect_options() const;
  /// Compiled SQL by statement shape, shared by every connection of the engine.
  StatementCache& statement_cache() const;
  /// Whether statements are logged.
  bool echo() const;
  /// Turns statement logging on or off.
  void set_echo(bool on) const;
  /// Closes idle pooled connections (checked-out ones close when returned).
  void dispose() const;

  /// A connection factory for a pool: opens `url` through `connector` with `options`.
  static ConnectionFactory connect_factory(std::shared_ptr<const Connector> connector, Url url,
                                           Options options);

private:
  struct State;
  std::shared_ptr<State> state_;
};

} // namespace retort

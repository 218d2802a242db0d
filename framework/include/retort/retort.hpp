// The whole public API in one include: engines from URLs or YAML, the Core expression
// language and its dialects, schema, the ORM, logging, and the plugin registry and SPI. The
// async layer is apart (<retort/async/async_session.hpp>), since it brings in Boost.Asio.
#pragma once

#include <retort/config/config.hpp>
#include <retort/core/log.hpp>
#include <retort/engine/connection.hpp>
#include <retort/engine/schema_ops.hpp>
#include <retort/orm.hpp>
#include <retort/plugin/basic_pool.hpp>
#include <retort/plugin/create_engine.hpp>
#include <retort/plugin/loader.hpp>
#include <retort/plugin/registry.hpp>
#include <retort/plugin/spi.hpp>
#include <retort/schema/ddl.hpp>
#include <retort/schema/metadata.hpp>
#include <retort/schema/table.hpp>
#include <retort/sql/bindparam.hpp>
#include <retort/sql/compiler.hpp>
#include <retort/sql/delete.hpp>
#include <retort/sql/dialect.hpp>
#include <retort/sql/insert.hpp>
#include <retort/sql/select.hpp>
#include <retort/sql/statement_cache.hpp>
#include <retort/sql/text.hpp>
#include <retort/sql/update.hpp>

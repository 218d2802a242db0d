// The whole public API in one include: engines from URLs or YAML, the Core expression
// language, schema, and the ORM.
#pragma once

#include <retort/config/config.hpp>
#include <retort/engine/connection.hpp>
#include <retort/engine/schema_ops.hpp>
#include <retort/orm.hpp>
#include <retort/plugin/create_engine.hpp>
#include <retort/schema/ddl.hpp>
#include <retort/schema/metadata.hpp>
#include <retort/schema/table.hpp>
#include <retort/sql/compiler.hpp>
#include <retort/sql/delete.hpp>
#include <retort/sql/insert.hpp>
#include <retort/sql/select.hpp>
#include <retort/sql/text.hpp>
#include <retort/sql/update.hpp>

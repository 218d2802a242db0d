// create_all / drop_all: running a MetaData's DDL on an engine, in foreign-key order.
// They live in the engine layer because they need a connection; the DDL text itself comes from
// the schema layer's compiler.
#pragma once

#include <retort/core/export.hpp>
#include <retort/engine/engine.hpp>
#include <retort/schema/metadata.hpp>

namespace retort {

/// Creates every table of `metadata` (parents first) and its indexes, in one transaction
/// where the database allows DDL in transactions. With `checkfirst`, existing tables are
/// skipped.
RETORT_API void create_all(const Engine& engine, const MetaData& metadata, bool checkfirst = true);
/// Drops every table of `metadata` (children first). With `checkfirst`, missing tables are
/// skipped.
RETORT_API void drop_all(const Engine& engine, const MetaData& metadata, bool checkfirst = true);

} // namespace retort

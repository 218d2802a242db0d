// DDL compilation: CREATE / DROP TABLE and INDEX, foreign keys added by ALTER TABLE, and the
// statement lists behind create_all / drop_all (executed by the engine layer). DDL carries no
// parameters; defaults are rendered by the dialect's escaping literal renderer.
#pragma once

#include <retort/core/export.hpp>
#include <retort/schema/metadata.hpp>
#include <retort/schema/table.hpp>
#include <retort/sql/compiler.hpp>

#include <vector>

namespace retort {

class SqlDialect;

/// `CREATE TABLE [IF NOT EXISTS] name (columns..., constraints...)`. Foreign keys marked
/// use_alter are left out where the dialect can add them by ALTER TABLE.
RETORT_API CompiledSql create_table_sql(const Table& table, const SqlDialect& dialect,
                                        bool if_not_exists = false);
/// `DROP TABLE [IF EXISTS] name`.
RETORT_API CompiledSql drop_table_sql(const Table& table, const SqlDialect& dialect,
                                      bool if_exists = false);
/// `CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table (columns...)`.
RETORT_API CompiledSql create_index_sql(const Table& table, const Index& index,
                                        const SqlDialect& dialect, bool if_not_exists = false);
/// `DROP INDEX [IF EXISTS] name`.
RETORT_API CompiledSql drop_index_sql(const Index& index, const SqlDialect& dialect,
                                      bool if_exists = false);
/// `ALTER TABLE table ADD CONSTRAINT name FOREIGN KEY ...`.
RETORT_API CompiledSql add_foreign_key_sql(const Table& table, const ForeignKeyConstraint& fk,
                                           const SqlDialect& dialect);
/// `ALTER TABLE table DROP CONSTRAINT name`.
RETORT_API CompiledSql drop_foreign_key_sql(const Table& table, const ForeignKeyConstraint& fk,
                                            const SqlDialect& dialect);
/// The dialect's has-table query bound to this table's name (a row comes back if it exists).
RETORT_API CompiledSql has_table_sql(const Table& table, const SqlDialect& dialect);

/// CREATE TABLE then CREATE INDEX for each index of `table`.
RETORT_API std::vector<CompiledSql> create_table_ddl(const Table& table, const SqlDialect& dialect,
                                                     bool if_not_exists = false);
/// ALTER TABLE ... ADD CONSTRAINT for the use_alter foreign keys of `table` (empty where the
/// dialect writes them inside CREATE TABLE).
RETORT_API std::vector<CompiledSql> deferred_foreign_keys_sql(const Table& table,
                                                              const SqlDialect& dialect);

/// Every statement of create_all, in order: the tables (with their indexes) in dependency
/// order, then the deferred foreign keys. ArgumentError for a foreign key cycle or a foreign
/// key to a missing column of a registered table.
RETORT_API std::vector<CompiledSql>
create_all_sql(const MetaData& metadata, const SqlDialect& dialect, bool if_not_exists = false);
/// Every statement of drop_all: deferred foreign keys dropped first, then the tables in
/// reverse dependency order.
RETORT_API std::vector<CompiledSql> drop_all_sql(const MetaData& metadata,
                                                 const SqlDialect& dialect, bool if_exists = false);

} // namespace retort

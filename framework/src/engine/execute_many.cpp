// One statement, many executions: Connection::execute(statement, sets) (executemany) and the
// INSERT that is split at the dialect's parameter limit. Both run as one batch: a transaction
// of their own, or a savepoint inside the caller's, so that a failure leaves none of it behind.
#include "connection_state.hpp"

#include <retort/core/error.hpp>
#include <retort/core/log.hpp>
#include <retort/engine/connection.hpp>
#include <retort/sql/compiler.hpp>
#include <retort/sql/dialect.hpp>

#include <algorithm>
#include <optional>
#include <utility>

namespace retort {

namespace {

// Value kinds a value of `type` may have (bit i: ValueKind i); NULL always fits.
unsigned kinds_fitting(const SqlType& type) {
  auto bit = [](ValueKind k) { return 1u << static_cast<unsigned>(k); };
  const unsigned null = bit(ValueKind::null);
  switch (type.kind) {
  case TypeKind::integer:
  case TypeKind::big_integer:
  case TypeKind::small_integer: return null | bit(ValueKind::integer);
  case TypeKind::floating: return null | bit(ValueKind::integer) | bit(ValueKind::real);
  case TypeKind::numeric:
    return null | bit(ValueKind::integer) | bit(ValueKind::real) | bit(ValueKind::text);
  case TypeKind::boolean: return null | bit(ValueKind::boolean) | bit(ValueKind::integer);
  case TypeKind::string:
  case TypeKind::text:
  case TypeKind::date:
  case TypeKind::date_time:
  case TypeKind::time: return null | bit(ValueKind::text);
  case TypeKind::large_binary: return null | bit(ValueKind::blob);
  }
  return ~0u;
}

const char* kind_name(ValueKind kind) {
  switch (kind) {
  case ValueKind::null: return "NULL";
  case ValueKind::integer: return "an integer";
  case ValueKind::real: return "a real";
  case ValueKind::text: return "text";
  case ValueKind::blob: return "a blob";
  case ValueKind::boolean: return "a boolean";
  }
  return "a value";
}

// Binds a template's parameters for each set: fixed values stay, slots take the set's values
// (text by reference: the sets outlive every execution).
class SetBinder {
public:
  SetBinder(const CompiledTemplate& compiled, const ParameterSets& sets, const SqlDialect& dialect)
      : compiled_(compiled), sets_(sets) {
    if (compiled.slots.empty())
      throw ArgumentError("the statement has no bindparam() for the parameter sets to fill");
    std::vector<bool> used(sets.width(), false);
    for (const ParamSlot& slot : compiled.slots) {
      const auto column = sets.index_of(slot.name);
      if (!column)
        throw ArgumentError("bindparam '" + slot.name + "' has no value in the parameter sets");
      used[*column] = true;
      map_.push_back(Target{slot.position, *column, slot.type ? kinds_fitting(*slot.type) : ~0u,
                            slot.type ? dialect.type_name(*slot.type) : std::string()});
    }
    for (std::size_t i = 0; i < used.size(); ++i)
      if (!used[i])
        throw ArgumentError("the parameter sets name '" + sets.names()[i] +
                            "', which the statement has no bindparam() for");
    // The sets' values already are the parameters, in order: bind them in place.
    direct_ = compiled.params.size() == sets.width();
    for (std::size_t i = 0; direct_ && i < map_.size(); ++i)
      direct_ = map_[i].position == i && map_[i].column == i;
    per_set_ = compiled.params.size();
  }

  std::size_t width() const noexcept { return per_set_; }

  // The parameters of set `k`, written into `out` (width() values) unless bound in place.
  std::span<const Value> bind(std::size_t k, Value* out) const {
    const std::span<const Value> set = sets_.set(k);
    for (const Target& t : map_) {
      const Value& v = set[t.column];
      if (((t.kinds >> static_cast<unsigned>(v.kind())) & 1u) == 0)
        throw ArgumentError("parameter set " + std::to_string(k) + ": bindparam '" +
                            sets_.names()[t.column] + "' is " + t.type_name +
                            ", but the value is " + kind_name(v.kind()));
    }
    if (direct_) return set;
    std::copy(compiled_.params.begin(), compiled_.params.end(), out);
    for (const Target& t : map_) {
      const Value& v = set[t.column];
      out[t.position] = v.kind() == ValueKind::text ? Value::borrowed(v.as_text()) : v;
    }
    return {out, per_set_};
  }

private:
  struct Target {
    std::size_t position;
    std::size_t column;
    unsigned kinds;
    std::string type_name;
  };
  const CompiledTemplate& compiled_;
  const ParameterSets& sets_;
  std::vector<Target> map_;
  std::size_t per_set_ = 0;
  bool direct_ = false;
};

std::string in_set(std::size_t k, std::size_t n, const std::string& message) {
  return "parameter set " + std::to_string(k) + " (of " + std::to_string(n) + "): " + message;
}

// Rethrows the DatabaseError being handled as its own type, its message naming set `k`.
[[noreturn]] void rethrow_in_set(std::size_t k, std::size_t n) {
  try {
    throw;
  } catch (const IntegrityError& e) {
    throw IntegrityError(in_set(k, n, e.message()), e.sqlstate(), e.native_code(), e.sql());
  } catch (const DataError& e) {
    throw DataError(in_set(k, n, e.message()), e.sqlstate(), e.native_code(), e.sql());
  } catch (const OperationalError& e) {
    throw OperationalError(in_set(k, n, e.message()), e.sqlstate(), e.native_code(), e.sql());
  } catch (const ProgrammingError& e) {
    throw ProgrammingError(in_set(k, n, e.message()), e.sqlstate(), e.native_code(), e.sql());
  } catch (const InterfaceError& e) {
    throw InterfaceError(in_set(k, n, e.message()), e.sqlstate(), e.native_code(), e.sql());
  } catch (const InternalError& e) {
    throw InternalError(in_set(k, n, e.message()), e.sqlstate(), e.native_code(), e.sql());
  } catch (const NotSupportedError& e) {
    throw NotSupportedError(in_set(k, n, e.message()), e.sqlstate(), e.native_code(), e.sql());
  } catch (const DatabaseError& e) {
    throw DatabaseError(in_set(k, n, e.message()), e.sqlstate(), e.native_code(), e.sql());
  }
}

} // namespace

Transaction Connection::begin_batch() { return in_transaction() ? begin_nested() : begin(); }

Result Connection::execute(const Insert& statement) {
  const SqlDialect& dialect = engine().dialect();
  if (!fits_one_statement(statement, dialect)) return execute_split(statement);
  auto compiled = compile_for_execute(statement, dialect, &engine().statement_cache());
  return execute_sql(compiled.sql, compiled.params);
}

Result Connection::execute_split(const Insert& statement) {
  const SqlDialect& dialect = engine().dialect();
  std::vector<CompiledSql> batches =
      compile_batches(statement, dialect, &engine().statement_cache());
  if (statement.has_returning())
    throw ArgumentError("insert(): " + std::to_string(statement.row_count()) +
                        " rows with RETURNING need " + std::to_string(batches.size()) +
                        " statements under " + std::string(dialect.name()) +
                        "'s parameter limit; execute compile_batches() one by one");
  Transaction batch = begin_batch();
  std::int64_t rows = 0;
  std::optional<Result> last;
  if (can_pipeline()) {
    std::vector<Pipelined> statements;
    statements.reserve(batches.size());
    for (const CompiledSql& b : batches)
      statements.push_back(Pipelined{&b.sql, b.params});
    std::vector<Result> results = execute_pipeline(statements);
    for (std::size_t i = 0; i + 1 < results.size(); ++i)
      rows += results[i].rows_affected();
    last.emplace(std::move(results.back()));
  } else {
    for (const CompiledSql& b : batches) {
      if (last) {
        rows += last->rows_affected();
        last->close();
      }
      last.emplace(execute_sql(b.sql, b.params));
    }
  }
  batch.commit();
  last->rows_before_ = rows;
  return std::move(*last);
}

std::int64_t Connection::execute_many(const Statement& statement, const ParameterSets& sets) {
  if (sets.empty()) return 0;
  const SqlDialect& dialect = engine().dialect();
  const CompiledTemplate compiled =
      compile_template(statement, dialect, &engine().statement_cache(), sets.names());
  const SetBinder binder(compiled, sets, dialect);
  const std::size_t n = sets.size();
  if (state_->engine.echo())
    log_line("-- " + compiled.sql + " with " + std::to_string(n) + " parameter sets");
  Transaction batch = begin_batch();
  std::int64_t rows = 0;
  std::vector<Value> buffer;

  if (!can_pipeline()) {
    DriverConnection& driver = state_->driver();
    state_->untouched_transaction = false;
    buffer.resize(binder.width());
    std::unique_ptr<DriverStatement> owned;
    DriverStatement* stmt = driver.find_cached_statement(compiled.sql);
    try {
      if (stmt == nullptr) {
        stmt = &driver.cached_statement(compiled.sql);
      } else if (state_->busy.contains(stmt)) {
        owned = driver.prepare(compiled.sql); // a live Result steps the cached one
        stmt = owned.get();
      }
    } catch (...) {
      state_->note_failure();
      throw;
    }
    std::size_t k = 0;
    try {
      for (; k < n; ++k) {
        stmt->reset();
        stmt->bind_borrowed(binder.bind(k, buffer.data()));
        while (stmt->step()) {
        }
        rows += stmt->rows_affected();
      }
      stmt->reset();
    } catch (const DatabaseError&) {
      stmt->reset();
      state_->note_failure();
      rethrow_in_set(k, n);
    } catch (...) {
      stmt->reset();
      throw;
    }
    batch.commit();
    return rows;
  }

  // Pipelined in segments: each carries at most the dialect's parameter limit, so that what is
  // buffered stays bounded however many sets there are.
  const std::size_t max = dialect.max_bound_parameters();
  const std::size_t per_segment =
      std::max<std::size_t>(1, max == 0 ? n : max / std::max<std::size_t>(1, binder.width()));
  const bool own = !batch.is_nested();
  std::vector<Pipelined> statements;
  for (std::size_t begin = 0; begin < n; begin += per_segment) {
    const std::size_t end = std::min(n, begin + per_segment);
    buffer.assign((end - begin) * binder.width(), Value());
    statements.clear();
    for (std::size_t k = begin; k < end; ++k)
      statements.push_back(
          Pipelined{&compiled.sql, binder.bind(k, buffer.data() + (k - begin) * binder.width())});
    // The last segment of a batch of its own carries the COMMIT.
    const bool commit_here = own && end == n;
    std::optional<PipelineRun> run;
    try {
      run.emplace(commit_here ? start_pipeline_and_commit(statements, batch)
                              : start_pipeline(statements));
      for (const Result& r : drive_pipeline(*run))
        rows += r.rows_affected();
    } catch (const DatabaseError&) {
      if (!run || run->failed_statement() == PipelineRun::npos) throw;
      rethrow_in_set(begin + run->failed_statement(), n);
    }
  }
  if (batch.is_active()) batch.commit();
  return rows;
}

} // namespace retort

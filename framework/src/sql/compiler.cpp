// The compiler walks a statement once per mode: in *key* mode it appends the statement's shape
// (keywords as rendered, identifiers and function names length-prefixed, a marker per
// parameter) and collects the parameter values; in *render* mode it appends the SQL the dialect
// wants. Both modes run the very same code, so a key determines the SQL (for one dialect) and
// the parameters are always collected in placeholder order. A cache hit costs one key walk.
#include "nodes.hpp"

#include <retort/core/error.hpp>
#include <retort/sql/bindparam.hpp>
#include <retort/sql/compiler.hpp>
#include <retort/sql/dialect.hpp>
#include <retort/sql/statement_cache.hpp>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <span>

namespace retort {

using namespace detail;

namespace {

// Precedence levels; a child binding less tightly than its parent is parenthesised.
constexpr int prec_text = 0; // unknown SQL: always parenthesised as an operand
constexpr int prec_or = 1;
constexpr int prec_and = 2;
constexpr int prec_not = 3;
constexpr int prec_compare = 5; // = != < > LIKE IN BETWEEN IS: never chained unparenthesised
constexpr int prec_concat = 6;
constexpr int prec_additive = 7;
constexpr int prec_multiplicative = 8;
constexpr int prec_negate = 9;
constexpr int prec_atom = 100;

int binary_prec(BinaryOp op) {
  switch (op) {
  case BinaryOp::add:
  case BinaryOp::sub: return prec_additive;
  case BinaryOp::mul:
  case BinaryOp::div:
  case BinaryOp::mod: return prec_multiplicative;
  case BinaryOp::concat: return prec_concat;
  default: return prec_compare;
  }
}

int prec(const ExprNode& n) {
  switch (n.kind) {
  case ExprKind::list: return as<ListNode>(n).is_or ? prec_or : prec_and;
  case ExprKind::unary:
    switch (as<UnaryNode>(n).op) {
    case UnaryOp::not_: return prec_not;
    case UnaryOp::neg: return prec_negate;
    case UnaryOp::is_null:
    case UnaryOp::is_not_null: return prec_compare;
    case UnaryOp::distinct: return prec_atom;
    }
    return prec_atom;
  case ExprKind::binary: return binary_prec(as<BinaryNode>(n).op);
  case ExprKind::in_list:
  case ExprKind::in_select:
  case ExprKind::between: return prec_compare;
  case ExprKind::exists: return as<SubqueryExprNode>(n).negated ? prec_not : prec_atom;
  case ExprKind::text: return prec_text;
  case ExprKind::label: return prec(*as<LabelNode>(n).operand.node());
  default: return prec_atom;
  }
}

const char* binary_text(BinaryOp op) {
  switch (op) {
  case BinaryOp::eq: return " = ";
  case BinaryOp::ne: return " != ";
  case BinaryOp::lt: return " < ";
  case BinaryOp::le: return " <= ";
  case BinaryOp::gt: return " > ";
  case BinaryOp::ge: return " >= ";
  case BinaryOp::add: return " + ";
  case BinaryOp::sub: return " - ";
  case BinaryOp::mul: return " * ";
  case BinaryOp::div: return " / ";
  case BinaryOp::mod: return " % ";
  case BinaryOp::concat: return " || ";
  case BinaryOp::like: return " LIKE ";
  case BinaryOp::not_like: return " NOT LIKE ";
  case BinaryOp::ilike: return " ILIKE ";
  case BinaryOp::not_ilike: return " NOT ILIKE ";
  }
  return " ? ";
}

bool associative(BinaryOp op) {
  return op == BinaryOp::add || op == BinaryOp::mul || op == BinaryOp::concat;
}

// Two FROM nodes that name the same relation: one node, or two descriptions of one table.
bool same_source(const FromNode* a, const FromNode* b) {
  if (a == b) return true;
  if (a->kind != FromKind::table || b->kind != FromKind::table) return false;
  return a->name == b->name && as<TableNode>(*a).schema == as<TableNode>(*b).schema;
}

struct InsertRange {
  std::size_t begin = 0;
  std::size_t end = 0;
};

// A growable byte buffer appended to with inline copies: a key walk appends many tiny pieces,
// and std::string::append is an out-of-line call each time.
class KeyBuffer {
public:
  void clear() noexcept { size_ = 0; }
  std::size_t size() const noexcept { return size_; }
  void truncate(std::size_t n) noexcept { size_ = n; }
  std::string_view view() const noexcept { return {buf_.data(), size_}; }
  void put(char c) {
    reserve(1);
    buf_[size_++] = c;
  }
  void put(const void* p, std::size_t n) {
    reserve(n);
    std::memcpy(buf_.data() + size_, p, n);
    size_ += n;
  }
  void put(std::string_view s) { put(s.data(), s.size()); }

private:
  void reserve(std::size_t n) {
    if (size_ + n > buf_.size()) buf_.resize(std::max(buf_.size() * 2, size_ + n + 256));
  }
  std::string buf_;
  std::size_t size_ = 0;
};

// Working lists of a compilation, kept per thread so that compiling allocates nothing for them
// once warm.
struct Scratch {
  std::vector<const FromNode*> frames;
  std::vector<const FromNode*> ctes;
  std::vector<const FromNode*> missing;
  bool busy = false;
};

class Compiler {
public:
  // Render mode: SQL text into `sql`.
  // With `slots`, bindparam() placeholders (and unbound text() names) are recorded there;
  // without, they are an error.
  Compiler(const SqlDialect& dialect, std::string& sql, std::vector<Value>& params,
           std::vector<ParamSlot>* slots = nullptr)
      : d_(dialect), sql_(&sql), params_(params), slots_(slots) {}
  // Key mode: the statement's shape into `key`.
  Compiler(const SqlDialect& dialect, KeyBuffer& key, std::vector<Value>& params,
           std::vector<ParamSlot>* slots = nullptr)
      : d_(dialect), key_(&key), params_(params), slots_(slots) {}
  ~Compiler() {
    if (s_ != &own_) s_->busy = false;
  }
  Compiler(const Compiler&) = delete;
  Compiler& operator=(const Compiler&) = delete;

  // --- statements (top level, with the WITH clause hoisted here) -----------------------------

  void top_select(const SelectNode& s) {
    ctes_.clear();
    for (const FromItem& c : s.ctes)
      ctes_.push_back(c.node());
    with_restarts([&] { select(s); });
  }

  void top_compound(const CompoundNode& c) {
    ctes_.clear();
    with_restarts([&] { compound(c); });
  }

  void top_insert(const InsertNode& n, InsertRange rows) {
    ctes_.clear();
    with_restarts([&] { insert(n, rows); });
  }

  void top_update(const UpdateNode& n) {
    ctes_.clear();
    with_restarts([&] { update(n); });
  }

  void top_delete(const DeleteNode& n) {
    ctes_.clear();
    with_restarts([&] { delete_(n); });
  }

  void top_text(const TextClause& t) { text(t.data(), t.bound()); }

  // Renders one expression (used to count the parameters of insert rows).
  void bare_expr(const Expr& e) { expr(e); }

  // The rows() values of an INSERT, left in the statement instead of copied into the
  // parameters; they belong before owned parameter number borrowed_at().
  std::span<const Value> borrowed() const noexcept { return borrowed_; }
  std::size_t borrowed_at() const noexcept { return borrowed_at_; }

private:
  // --- emitters: the only places where the two modes differ ------------------------------------

  void kw(std::string_view s) {
    if (key_)
      key_->put(s);
    else
      sql_->append(s);
  }

  void ident(std::string_view s) {
    if (!key_) {
      d_.quote_identifier(*sql_, s);
      return;
    }
    key_->put('\x01');
    put_length(s.size());
    key_->put(s);
  }

  void raw(std::string_view s) {
    if (!key_) {
      sql_->append(s);
      return;
    }
    key_->put('\x03');
    put_length(s.size());
    key_->put(s);
  }

  // `typed`: the value's type is not implied by a column it is assigned to, so the dialect may
  // cast it (see SqlDialect::parameter_cast()).
  void placeholder(const Value& v, bool typed = true) {
    params_.push_back(v);
    const std::string_view cast = typed ? d_.parameter_cast(v) : std::string_view();
    if (!key_) {
      d_.render_placeholder(*sql_, params_.size() + borrowed_.size());
      sql_->append(cast);
      return;
    }
    key_->put('\x02');
    if (cast.empty()) return;
    key_->put('\x06');
    put_length(cast.size());
    key_->put(cast);
  }

  // A value assigned to a column (INSERT VALUES, UPDATE SET): a bare parameter takes the
  // column's type, as an uncast one does in every dialect.
  void assigned(const Expr& e) {
    const ExprNode& n = need(e, "expression");
    if (n.kind == ExprKind::bind)
      placeholder(as<BindNode>(n).value, false);
    else
      expr(e);
  }

  // A placeholder whose value each parameter set gives: NULL stands in for it.
  void slot(const std::string& name, const std::optional<SqlType>& type) {
    if (slots_ == nullptr)
      throw ArgumentError("bindparam '" + name +
                          "' has no value: execute the statement with parameter sets, "
                          "connection.execute(statement, sets)");
    slots_->push_back(ParamSlot{params_.size(), name, type});
    placeholder(Value());
  }

  // Plain-value rows: their shape is only the row count (the width is the column list's), so
  // the key walk does not visit the values, and neither walk copies them.
  void value_rows(const InsertNode& n, InsertRange rows) {
    const std::size_t width = n.columns.size();
    if (key_) {
      key_->put('\x05');
      put_length(rows.end - rows.begin);
    } else {
      std::size_t position = params_.size() + borrowed_.size();
      for (std::size_t r = rows.begin; r < rows.end; ++r) {
        sql_->append(r == rows.begin ? "(" : ", (");
        for (std::size_t c = 0; c < width; ++c) {
          if (c) sql_->append(", ");
          d_.render_placeholder(*sql_, ++position);
        }
        sql_->push_back(')');
      }
    }
    borrowed_at_ = params_.size();
    borrowed_ = std::span<const Value>(n.values).subspan(rows.begin * width,
                                                         (rows.end - rows.begin) * width);
  }

  void type(const SqlType& t) {
    if (!key_) {
      sql_->append(d_.type_name(t));
      return;
    }
    key_->put('\x04');
    const std::uint32_t fields[] = {static_cast<std::uint32_t>(t.kind), t.length, t.precision,
                                    t.scale, t.timezone ? 1u : 0u};
    key_->put(fields, sizeof fields);
  }

  void put_length(std::size_t n) {
    auto len = static_cast<std::uint32_t>(n);
    key_->put(&len, sizeof len);
  }

  std::size_t out_size() const { return key_ ? key_->size() : sql_->size(); }
  void truncate(std::size_t n) {
    if (key_)
      key_->truncate(n);
    else
      sql_->resize(n);
  }

  static Scratch* borrow_scratch(Scratch& own) {
    thread_local Scratch shared;
    Scratch* s = shared.busy ? &own : &shared;
    s->busy = true;
    s->frames.clear();
    s->ctes.clear();
    s->missing.clear();
    return s;
  }

  // --- WITH --------------------------------------------------------------------------------------

  // CTEs used but not declared are found while rendering; the statement is then rendered
  // again with them hoisted into its WITH clause (dependencies first). Without CTEs there is
  // exactly one pass.
  template <typename F> void with_restarts(F&& body) {
    const std::size_t out_mark = out_size();
    const std::size_t param_mark = params_.size();
    for (int pass = 0;; ++pass) {
      truncate(out_mark);
      params_.resize(param_mark);
      while (slots_ != nullptr && !slots_->empty() && slots_->back().position >= param_mark)
        slots_->pop_back();
      borrowed_ = {};
      missing_.clear();
      if (!ctes_.empty()) with_clause();
      body();
      if (missing_.empty()) return;
      if (pass > 64) throw ArgumentError("CTEs refer to each other without end");
      ctes_.insert(ctes_.begin(), missing_.begin(), missing_.end());
    }
  }

  void with_clause() {
    bool recursive = std::any_of(ctes_.begin(), ctes_.end(),
                                 [](const FromNode* n) { return as<SubqueryNode>(*n).recursive; });
    kw(recursive ? "WITH RECURSIVE " : "WITH ");
    for (std::size_t i = 0; i < ctes_.size(); ++i) {
      const auto& c = as<SubqueryNode>(*ctes_[i]);
      if (i) kw(", ");
      ident(c.name);
      if (c.recursive && !c.columns.empty()) {
        kw("(");
        for (std::size_t j = 0; j < c.columns.size(); ++j) {
          if (j) kw(", ");
          ident(c.columns[j].name);
        }
        kw(")");
      }
      kw(" AS (");
      barrier_query(*c.query);
      kw(")");
    }
    kw(" ");
  }

  bool declared(const FromNode* cte) const {
    for (const FromNode* c : ctes_)
      if (c == cte || c->name == cte->name) return true;
    return false;
  }

  void use_cte(const FromNode* cte) {
    if (declared(cte)) return;
    for (const FromNode* m : missing_)
      if (m == cte || m->name == cte->name) return;
    missing_.push_back(cte);
  }

  // --- queries -----------------------------------------------------------------------------------

  void query(const QueryNode& q) {
    if (q.kind == QueryKind::select)
      select(as<SelectNode>(q));
    else
      compound(as<CompoundNode>(q));
  }

  // A query that does not correlate with the enclosing ones (FROM subqueries, CTE bodies).
  void barrier_query(const QueryNode& q) {
    frames_.push_back(nullptr);
    query(q);
    frames_.pop_back();
  }

  void compound(const CompoundNode& c) {
    const char* op = " UNION ";
    switch (c.op) {
    case CompoundOp::union_: op = " UNION "; break;
    case CompoundOp::union_all: op = " UNION ALL "; break;
    case CompoundOp::intersect: op = " INTERSECT "; break;
    case CompoundOp::except: op = " EXCEPT "; break;
    }
    for (std::size_t i = 0; i < c.parts.size(); ++i) {
      if (i) kw(op);
      const QueryNode& part = *c.parts[i];
      if (part.kind == QueryKind::select) {
        const auto& s = as<SelectNode>(part);
        if (!s.order_by.empty() || s.limit || s.offset)
          throw ArgumentError("a SELECT inside UNION/INTERSECT/EXCEPT cannot have ORDER BY, "
                              "LIMIT or OFFSET; select from its subquery() instead");
        select(s);
      } else {
        compound(as<CompoundNode>(part));
      }
    }
    // The ORDER BY of a compound sorts its result columns, which have no table qualifier.
    bare_columns_ = true;
    order_by(c.order_by);
    bare_columns_ = false;
    limit_offset(c.limit, c.offset);
  }

  void select(const SelectNode& s) {
    bool force_where = upsert_select_;
    upsert_select_ = false;
    for (const FromItem& c : s.ctes)
      use_cte(c.node());
    if (s.columns.empty()) throw ArgumentError("select(): no columns to select");

    // This query's FROM list: explicit items, then inferred ones that are neither covered by
    // them nor correlated to an enclosing query.
    const std::size_t frame_mark = frames_.size();
    for (const FromItem& f : s.froms)
      push_leaves(f.node());
    std::size_t explicit_end = frames_.size();
    bool dropped = false;
    for (const ColumnNode* col : s.inferred) {
      const FromNode* f = col->from.get();
      if (covered(f, frame_mark, frames_.size())) continue;
      if (correlated(f, frame_mark)) {
        dropped = true;
        continue;
      }
      frames_.push_back(f);
    }
    if (dropped && frames_.size() == frame_mark) {
      // Correlating every table away would leave no FROM at all, e.g. in
      // users.id IN (SELECT users.id FROM users WHERE ...): the subquery means its own table.
      for (const ColumnNode* col : s.inferred)
        if (!covered(col->from.get(), frame_mark, frames_.size()))
          frames_.push_back(col->from.get());
    }
    const std::size_t frame_end = frames_.size();

    kw(s.distinct ? "SELECT DISTINCT " : "SELECT ");
    for (std::size_t i = 0; i < s.columns.size(); ++i) {
      if (i) kw(", ");
      column_clause(s.columns[i]);
    }
    if (!s.froms.empty() || frame_end > explicit_end) {
      kw(" FROM ");
      bool first = true;
      for (const FromItem& f : s.froms) {
        if (!first) kw(", ");
        first = false;
        from_item(*f.node());
      }
      for (std::size_t i = explicit_end; i < frame_end; ++i) {
        if (!first) kw(", ");
        first = false;
        from_item(*frames_[i]);
      }
    }
    if (!s.where.empty()) {
      kw(" WHERE ");
      criteria(s.where);
    } else if (force_where && d_.upsert_select_needs_where()) {
      kw(" WHERE 1 = 1");
    }
    if (!s.group_by.empty()) {
      kw(" GROUP BY ");
      for (std::size_t i = 0; i < s.group_by.size(); ++i) {
        if (i) kw(", ");
        label_reference(s.group_by[i]);
      }
    }
    if (!s.having.empty()) {
      kw(" HAVING ");
      criteria(s.having);
    }
    order_by(s.order_by);
    limit_offset(s.limit, s.offset);
    frames_.resize(frame_mark);
  }

  // Pushes the relations a FROM item introduces (the sides of joins).
  void push_leaves(const FromNode* n) {
    if (n->kind == FromKind::join) {
      push_leaves(as<JoinNode>(*n).left.node());
      push_leaves(as<JoinNode>(*n).right.node());
      return;
    }
    frames_.push_back(n);
  }

  bool covered(const FromNode* f, std::size_t begin, std::size_t end) const {
    for (std::size_t i = begin; i < end; ++i)
      if (same_source(frames_[i], f)) return true;
    return false;
  }

  // Whether an enclosing query (up to the nearest barrier) already has `f` in its FROM.
  bool correlated(const FromNode* f, std::size_t end) const {
    for (std::size_t i = end; i-- > 0;) {
      if (frames_[i] == nullptr) return false;
      if (same_source(frames_[i], f)) return true;
    }
    return false;
  }

  void from_item(const FromNode& n) {
    switch (n.kind) {
    case FromKind::table: table_name(n); return;
    case FromKind::alias: {
      const FromNode& target = *as<AliasNode>(n).target.node();
      if (target.kind == FromKind::cte) {
        use_cte(&target);
        ident(target.name);
      } else {
        table_name(target);
      }
      kw(" AS ");
      ident(n.name);
      return;
    }
    case FromKind::subquery:
      kw("(");
      barrier_query(*as<SubqueryNode>(n).query);
      kw(") AS ");
      ident(n.name);
      return;
    case FromKind::cte:
      use_cte(&n);
      ident(n.name);
      return;
    case FromKind::join: {
      const auto& j = as<JoinNode>(n);
      from_item(*j.left.node());
      switch (j.join) {
      case JoinKind::inner: kw(" JOIN "); break;
      case JoinKind::left: kw(" LEFT OUTER JOIN "); break;
      case JoinKind::full:
        if (!d_.supports_full_outer_join())
          throw ArgumentError(std::string("FULL OUTER JOIN is not supported by ") +
                              std::string(d_.name()));
        kw(" FULL OUTER JOIN ");
        break;
      }
      bool nested = j.right.node()->kind == FromKind::join;
      if (nested) kw("(");
      from_item(*j.right.node());
      if (nested) kw(")");
      kw(" ON ");
      expr(j.on);
      return;
    }
    }
  }

  void table_name(const FromNode& n) {
    const std::string& schema = as<TableNode>(n).schema;
    if (!schema.empty()) {
      ident(schema);
      kw(".");
    }
    ident(n.name);
  }

  void qualifier(const FromNode& n) {
    if (n.kind == FromKind::table)
      table_name(n);
    else
      ident(n.name);
  }

  void criteria(const std::vector<Expr>& items) {
    if (items.size() == 1) {
      expr(items.front());
      return;
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) kw(" AND ");
      operand(items[i], prec_and, false);
    }
  }

  void column_clause(const Expr& e) {
    const ExprNode& n = *e.node();
    if (n.kind != ExprKind::label) {
      expr(e);
      return;
    }
    const auto& l = as<LabelNode>(n);
    expr(l.operand);
    kw(" AS ");
    ident(l.name);
  }

  // In GROUP BY / ORDER BY a labelled column is referred to by its label.
  void label_reference(const Expr& e) {
    const ExprNode& n = *e.node();
    if (n.kind == ExprKind::label)
      ident(as<LabelNode>(n).name);
    else
      expr(e);
  }

  void order_by(const std::vector<Expr>& items) {
    if (items.empty()) return;
    kw(" ORDER BY ");
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) kw(", ");
      const ExprNode& n = *items[i].node();
      if (n.kind != ExprKind::ordering) {
        label_reference(items[i]);
        continue;
      }
      const auto& o = as<OrderingNode>(n);
      if (o.nulls != NullsOrder::unspecified && !d_.supports_nulls_ordering()) {
        // Sort on "is it NULL" first where NULLS FIRST/LAST does not exist.
        kw("CASE WHEN ");
        operand(o.operand, prec_compare, true);
        kw(o.nulls == NullsOrder::first ? " IS NULL THEN 0 ELSE 1 END, "
                                        : " IS NULL THEN 1 ELSE 0 END, ");
      }
      label_reference(o.operand);
      kw(o.descending ? " DESC" : " ASC");
      if (o.nulls != NullsOrder::unspecified && d_.supports_nulls_ordering())
        kw(o.nulls == NullsOrder::first ? " NULLS FIRST" : " NULLS LAST");
    }
  }

  void limit_offset(const std::optional<std::int64_t>& limit,
                    const std::optional<std::int64_t>& offset) {
    if (limit) {
      kw(" LIMIT ");
      placeholder(Value(*limit));
    } else if (offset && d_.requires_limit_with_offset()) {
      kw(" LIMIT -1");
    }
    if (offset) {
      kw(" OFFSET ");
      placeholder(Value(*offset));
    }
  }

  // --- DML ---------------------------------------------------------------------------------------

  void insert(const InsertNode& n, InsertRange rows) {
    const FromNode& table = *n.table.node();
    kw("INSERT INTO ");
    table_name(table);
    const std::size_t width = n.columns.size();
    if (n.query) {
      column_list(n.columns);
      kw(" ");
      upsert_select_ = n.on_conflict.has_value();
      const std::size_t mark = frames_.size();
      frames_.push_back(nullptr);
      query(*n.query->query_node());
      frames_.resize(mark);
      upsert_select_ = false;
    } else if (width == 0 || rows.end == rows.begin) {
      kw(" DEFAULT VALUES");
    } else {
      if (rows.end - rows.begin > 1 && !d_.supports_multi_values_insert())
        throw ArgumentError(std::string(d_.name()) +
                            " has no multi-row VALUES; use compile_batches()");
      column_list(n.columns);
      kw(" VALUES ");
      if (n.use_values) {
        value_rows(n, rows);
      } else {
        for (std::size_t r = rows.begin; r < rows.end; ++r) {
          kw(r == rows.begin ? "(" : ", (");
          for (std::size_t c = 0; c < width; ++c) {
            if (c) kw(", ");
            assigned(n.cells[r * width + c]);
          }
          kw(")");
        }
      }
    }
    if (n.on_conflict) on_conflict(*n.on_conflict, table);
    returning(n.returning, table);
  }

  void column_list(const std::vector<std::string>& columns) {
    kw(" (");
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i) kw(", ");
      ident(columns[i]);
    }
    kw(")");
  }

  void on_conflict(const OnConflict& oc, const FromNode& table) {
    if (!d_.supports_on_conflict())
      throw ArgumentError(std::string(d_.name()) + " has no INSERT ... ON CONFLICT");
    kw(" ON CONFLICT");
    if (!oc.index_columns.empty()) column_list(oc.index_columns);
    if (!oc.do_update) {
      kw(" DO NOTHING");
      return;
    }
    const std::size_t mark = frames_.size();
    frames_.push_back(&table);
    kw(" DO UPDATE SET ");
    assignments(oc.set);
    if (oc.where.valid()) {
      kw(" WHERE ");
      expr(oc.where);
    }
    frames_.resize(mark);
  }

  void assignments(const std::vector<std::pair<std::string, Expr>>& set) {
    for (std::size_t i = 0; i < set.size(); ++i) {
      if (i) kw(", ");
      ident(set[i].first);
      kw(" = ");
      assigned(set[i].second);
    }
  }

  void returning(const std::vector<Expr>& items, const FromNode& table) {
    if (items.empty()) return;
    if (!d_.supports_returning()) throw ArgumentError(std::string(d_.name()) + " has no RETURNING");
    kw(" RETURNING ");
    const FromNode* saved = unqualified_;
    unqualified_ = &table;
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) kw(", ");
      column_clause(items[i]);
    }
    unqualified_ = saved;
  }

  // UPDATE / DELETE criteria may only name the target table outside subqueries.
  void check_single_table(const std::vector<Expr>& where, const FromNode& table, const char* stmt) {
    std::vector<const ColumnNode*> found;
    for (const Expr& e : where)
      collect_froms(e, found);
    for (const ColumnNode* c : found) {
      if (same_source(c->from.get(), &table)) continue;
      throw ArgumentError(std::string(stmt) + ": WHERE refers to '" + c->from->name +
                          "', which is not the table changed; use in_() or exists() with a "
                          "subquery");
    }
  }

  void update(const UpdateNode& n) {
    const FromNode& table = *n.table.node();
    if (n.set.empty()) throw ArgumentError("update(): nothing to SET");
    check_single_table(n.where, table, "update()");
    const std::size_t mark = frames_.size();
    frames_.push_back(&table);
    kw("UPDATE ");
    table_name(table);
    kw(" SET ");
    assignments(n.set);
    if (!n.where.empty()) {
      kw(" WHERE ");
      criteria(n.where);
    }
    returning(n.returning, table);
    frames_.resize(mark);
  }

  void delete_(const DeleteNode& n) {
    const FromNode& table = *n.table.node();
    check_single_table(n.where, table, "delete_()");
    const std::size_t mark = frames_.size();
    frames_.push_back(&table);
    kw("DELETE FROM ");
    table_name(table);
    if (!n.where.empty()) {
      kw(" WHERE ");
      criteria(n.where);
    }
    returning(n.returning, table);
    frames_.resize(mark);
  }

  // --- expressions ---------------------------------------------------------------------------

  // Renders `child` as an operand of an operator of precedence `parent`; `wrap_equal` asks for
  // parentheses when the child binds exactly as tightly (non-associative positions).
  void operand(const Expr& child, int parent, bool wrap_equal) {
    const ExprNode& n = need(child, "operand");
    int p = prec(n);
    bool wrap = p < parent || (p == parent && wrap_equal);
    if (parent == prec_concat && (p == prec_additive || p == prec_multiplicative) &&
        d_.concat_needs_parentheses_with_arithmetic())
      wrap = true;
    if (wrap) kw("(");
    expr(child);
    if (wrap) kw(")");
  }

  void expr(const Expr& e) {
    const ExprNode& n = need(e, "expression");
    switch (n.kind) {
    case ExprKind::column: column(as<ColumnNode>(n)); return;
    case ExprKind::bind: placeholder(as<BindNode>(n).value); return;
    case ExprKind::bindparam: {
      const auto& p = as<BindParamNode>(n);
      slot(p.name, p.type);
      return;
    }
    case ExprKind::null_literal: kw("NULL"); return;
    case ExprKind::unary: unary(as<UnaryNode>(n)); return;
    case ExprKind::binary: binary(as<BinaryNode>(n)); return;
    case ExprKind::list: {
      const auto& l = as<ListNode>(n);
      int p = l.is_or ? prec_or : prec_and;
      for (std::size_t i = 0; i < l.items.size(); ++i) {
        if (i) kw(l.is_or ? " OR " : " AND ");
        operand(l.items[i], p, false);
      }
      return;
    }
    case ExprKind::function: {
      const auto& f = as<FunctionNode>(n);
      raw(f.name);
      if (f.star) {
        kw("(*)");
        return;
      }
      kw("(");
      for (std::size_t i = 0; i < f.args.size(); ++i) {
        if (i) kw(", ");
        expr(f.args[i]);
      }
      kw(")");
      return;
    }
    case ExprKind::case_: {
      const auto& c = as<CaseNode>(n);
      kw("CASE");
      for (const auto& [cond, result] : c.whens) {
        kw(" WHEN ");
        expr(cond);
        kw(" THEN ");
        expr(result);
      }
      if (c.otherwise.valid()) {
        kw(" ELSE ");
        expr(c.otherwise);
      }
      kw(" END");
      return;
    }
    case ExprKind::cast:
      kw("CAST(");
      expr(as<CastNode>(n).operand);
      kw(" AS ");
      type(as<CastNode>(n).type);
      kw(")");
      return;
    case ExprKind::label: expr(as<LabelNode>(n).operand); return;
    case ExprKind::in_list: in_list(as<InListNode>(n)); return;
    case ExprKind::in_select: {
      const auto& i = as<InSelectNode>(n);
      operand(i.operand, prec_compare, true);
      kw(i.negated ? " NOT IN (" : " IN (");
      query(*i.query);
      kw(")");
      return;
    }
    case ExprKind::between: {
      const auto& b = as<BetweenNode>(n);
      operand(b.operand, prec_compare, true);
      kw(b.negated ? " NOT BETWEEN " : " BETWEEN ");
      operand(b.low, prec_compare, true);
      kw(" AND ");
      operand(b.high, prec_compare, true);
      return;
    }
    case ExprKind::exists: {
      const auto& s = as<SubqueryExprNode>(n);
      kw(s.negated ? "NOT EXISTS (" : "EXISTS (");
      query(*s.query);
      kw(")");
      return;
    }
    case ExprKind::scalar_select:
      kw("(");
      query(*as<SubqueryExprNode>(n).query);
      kw(")");
      return;
    case ExprKind::text: {
      const auto& t = as<TextExprNode>(n);
      text(*t.text, t.binds);
      return;
    }
    case ExprKind::ordering:
      throw ArgumentError("asc()/desc()/nulls_first()/nulls_last() belong in ORDER BY only");
    }
  }

  void column(const ColumnNode& c) {
    const FromNode& from = *c.from;
    if (&from != unqualified_ && !bare_columns_) {
      qualifier(from);
      kw(".");
    }
    ident(c.name);
  }

  void unary(const UnaryNode& u) {
    switch (u.op) {
    case UnaryOp::not_:
      kw("NOT ");
      operand(u.operand, prec_negate + 1, false);
      return;
    case UnaryOp::neg:
      kw("-");
      operand(u.operand, prec_negate, true);
      return;
    case UnaryOp::is_null:
      operand(u.operand, prec_compare, true);
      kw(" IS NULL");
      return;
    case UnaryOp::is_not_null:
      operand(u.operand, prec_compare, true);
      kw(" IS NOT NULL");
      return;
    case UnaryOp::distinct:
      kw("DISTINCT ");
      expr(u.operand);
      return;
    }
  }

  void binary(const BinaryNode& b) {
    if ((b.op == BinaryOp::ilike || b.op == BinaryOp::not_ilike) && !d_.supports_ilike()) {
      kw("lower(");
      expr(b.left);
      kw(b.op == BinaryOp::ilike ? ") LIKE lower(" : ") NOT LIKE lower(");
      expr(b.right);
      kw(")");
      return;
    }
    int p = binary_prec(b.op);
    bool compare = p == prec_compare;
    operand(b.left, p, compare);
    kw(binary_text(b.op));
    const ExprNode& right = need(b.right, "right operand");
    bool same_assoc =
        right.kind == ExprKind::binary && as<BinaryNode>(right).op == b.op && associative(b.op);
    operand(b.right, p, !same_assoc);
  }

  void in_list(const InListNode& i) {
    if (i.items.empty()) {
      // x IN () is never true; x NOT IN () always is. Keep x out: it may be NULL.
      kw(i.negated ? "1 = 1" : "1 != 1");
      return;
    }
    operand(i.operand, prec_compare, true);
    kw(i.negated ? " NOT IN (" : " IN (");
    for (std::size_t k = 0; k < i.items.size(); ++k) {
      if (k) kw(", ");
      expr(i.items[k]);
    }
    kw(")");
  }

  void text(const TextData& t, const std::vector<std::pair<std::string, Value>>& binds) {
    for (std::size_t i = 0; i < t.names.size(); ++i) {
      raw(t.pieces[i]);
      const Value* v = nullptr;
      for (const auto& [name, value] : binds)
        if (name == t.names[i]) v = &value;
      if (v != nullptr)
        placeholder(*v);
      else if (slots_ != nullptr)
        slot(t.names[i], std::nullopt);
      else
        throw ArgumentError("text(): no value bound for :" + t.names[i]);
    }
    raw(t.pieces.back());
  }

  const SqlDialect& d_;
  std::string* sql_ = nullptr;
  KeyBuffer* key_ = nullptr;
  std::vector<Value>& params_;
  std::vector<ParamSlot>* slots_ = nullptr;
  std::span<const Value> borrowed_;
  std::size_t borrowed_at_ = 0;
  bool upsert_select_ = false;
  bool bare_columns_ = false;
  const FromNode* unqualified_ = nullptr;
  Scratch own_;
  Scratch* s_ = borrow_scratch(own_);
  // FROM relations of the queries being rendered, innermost last; nullptr marks a barrier
  // (FROM subquery, CTE body) through which subqueries do not correlate.
  std::vector<const FromNode*>& frames_ = s_->frames;
  std::vector<const FromNode*>& ctes_ = s_->ctes;       // declared in the top-level WITH
  std::vector<const FromNode*>& missing_ = s_->missing; // used but not declared in this pass
};

// What one compilation produced: SQL, the parameters it owns and, for a bulk INSERT, the run of
// row values borrowed from the statement, which belongs before owned parameter `borrowed_at`.
struct Collected {
  std::string sql;
  std::vector<Value> params;
  std::vector<ParamSlot> slots;
  std::span<const Value> borrowed;
  std::size_t borrowed_at = 0;

  void take_borrowed(const Compiler& c) {
    borrowed = c.borrowed();
    borrowed_at = c.borrowed_at();
  }
  // Copies the borrowed values into the owned ones, in placeholder order.
  std::vector<Value> all_params() && {
    if (borrowed.empty()) return std::move(params);
    std::vector<Value> all;
    all.reserve(params.size() + borrowed.size());
    const auto split = params.begin() + static_cast<std::ptrdiff_t>(borrowed_at);
    all.insert(all.end(), std::make_move_iterator(params.begin()), std::make_move_iterator(split));
    all.insert(all.end(), borrowed.begin(), borrowed.end());
    all.insert(all.end(), std::make_move_iterator(split), std::make_move_iterator(params.end()));
    return all;
  }
};

void check_limit(const SqlDialect& d, const Collected& c) {
  const std::size_t max = d.max_bound_parameters();
  const std::size_t count = c.params.size() + c.borrowed.size();
  if (max != 0 && count > max)
    throw ArgumentError("the statement needs " + std::to_string(count) + " bound parameters; " +
                        std::string(d.name()) + " allows at most " + std::to_string(max) +
                        " (split many-row inserts with compile_batches())");
}

// Compiles through the cache when there is one: a key walk, and a render walk only on a miss.
template <typename F>
Collected collect(const SqlDialect& d, StatementCache* cache, F&& body, bool with_slots = false) {
  Collected result;
  std::vector<ParamSlot>* slots = with_slots ? &result.slots : nullptr;
  if (cache == nullptr || cache->capacity() == 0) {
    Compiler c(d, result.sql, result.params, slots);
    body(c);
    result.take_borrowed(c);
    check_limit(d, result);
    return result;
  }
  thread_local KeyBuffer key;
  key.clear();
  const SqlDialect* dp = &d;
  key.put(&dp, sizeof dp);
  result.params.reserve(8);
  {
    Compiler c(d, key, result.params, slots);
    body(c);
    result.take_borrowed(c);
  }
  check_limit(d, result);
  if (cache->lookup(key.view(), result.sql)) return result;
  result.params.clear();
  result.slots.clear();
  {
    Compiler c(d, result.sql, result.params, slots);
    body(c);
    result.take_borrowed(c);
  }
  cache->insert(key.view(), result.sql);
  return result;
}

template <typename F> CompiledSql run(const SqlDialect& d, StatementCache* cache, F&& body) {
  Collected c = collect(d, cache, std::forward<F>(body));
  std::vector<Value> params = std::move(c).all_params();
  return CompiledSql{std::move(c.sql), std::move(params)};
}

template <typename F>
ExecutableSql run_executable(const SqlDialect& d, StatementCache* cache, F&& body) {
  Collected c = collect(d, cache, std::forward<F>(body));
  ExecutableSql out;
  out.sql = std::move(c.sql);
  if (!c.borrowed.empty() && c.params.empty()) {
    out.params = c.borrowed;
    return out;
  }
  // Rare (an upsert with bound values besides its rows): the parameters are copied together.
  out.owned = std::move(c).all_params();
  out.params = out.owned;
  return out;
}

std::size_t insert_width(const InsertNode& n) { return n.columns.size(); }

} // namespace

CompiledSql compile(const Select& stmt, const SqlDialect& dialect, StatementCache* cache) {
  return run(dialect, cache, [&](Compiler& c) { c.top_select(stmt.node()); });
}

CompiledSql compile(const CompoundSelect& stmt, const SqlDialect& dialect, StatementCache* cache) {
  return run(dialect, cache, [&](Compiler& c) { c.top_compound(stmt.node()); });
}

CompiledSql compile(const Insert& stmt, const SqlDialect& dialect, StatementCache* cache) {
  InsertRange all{0, stmt.row_count()};
  return run(dialect, cache, [&](Compiler& c) { c.top_insert(stmt.node(), all); });
}

CompiledSql compile(const Update& stmt, const SqlDialect& dialect, StatementCache* cache) {
  return run(dialect, cache, [&](Compiler& c) { c.top_update(stmt.node()); });
}

CompiledSql compile(const Delete& stmt, const SqlDialect& dialect, StatementCache* cache) {
  return run(dialect, cache, [&](Compiler& c) { c.top_delete(stmt.node()); });
}

CompiledSql compile(const TextClause& stmt, const SqlDialect& dialect, StatementCache* cache) {
  return run(dialect, cache, [&](Compiler& c) { c.top_text(stmt); });
}

CompiledSql compile(const Statement& stmt, const SqlDialect& dialect, StatementCache* cache) {
  return std::visit([&](const auto& s) { return compile(s, dialect, cache); }, stmt);
}

ExecutableSql compile_for_execute(const Select& stmt, const SqlDialect& dialect,
                                  StatementCache* cache) {
  return run_executable(dialect, cache, [&](Compiler& c) { c.top_select(stmt.node()); });
}

ExecutableSql compile_for_execute(const CompoundSelect& stmt, const SqlDialect& dialect,
                                  StatementCache* cache) {
  return run_executable(dialect, cache, [&](Compiler& c) { c.top_compound(stmt.node()); });
}

ExecutableSql compile_for_execute(const Insert& stmt, const SqlDialect& dialect,
                                  StatementCache* cache) {
  InsertRange all{0, stmt.row_count()};
  return run_executable(dialect, cache, [&](Compiler& c) { c.top_insert(stmt.node(), all); });
}

ExecutableSql compile_for_execute(const Update& stmt, const SqlDialect& dialect,
                                  StatementCache* cache) {
  return run_executable(dialect, cache, [&](Compiler& c) { c.top_update(stmt.node()); });
}

ExecutableSql compile_for_execute(const Delete& stmt, const SqlDialect& dialect,
                                  StatementCache* cache) {
  return run_executable(dialect, cache, [&](Compiler& c) { c.top_delete(stmt.node()); });
}

ExecutableSql compile_for_execute(const TextClause& stmt, const SqlDialect& dialect,
                                  StatementCache* cache) {
  return run_executable(dialect, cache, [&](Compiler& c) { c.top_text(stmt); });
}

ExecutableSql compile_for_execute(const Statement& stmt, const SqlDialect& dialect,
                                  StatementCache* cache) {
  return std::visit([&](const auto& s) { return compile_for_execute(s, dialect, cache); }, stmt);
}

namespace {

// Parameters that a statement carries besides its rows (ON CONFLICT, RETURNING).
std::size_t fixed_params(const InsertNode& n, const SqlDialect& d) {
  KeyBuffer scratch;
  std::vector<Value> params;
  Compiler c(d, scratch, params);
  if (n.on_conflict) {
    for (const auto& [col, e] : n.on_conflict->set)
      c.bare_expr(e);
    if (n.on_conflict->where.valid()) c.bare_expr(n.on_conflict->where);
  }
  for (const Expr& e : n.returning)
    c.bare_expr(e);
  return params.size();
}

std::size_t row_params(const InsertNode& n, std::size_t row, const SqlDialect& d) {
  const std::size_t width = insert_width(n);
  if (n.use_values) return width;
  KeyBuffer scratch;
  std::vector<Value> params;
  Compiler c(d, scratch, params);
  for (std::size_t k = 0; k < width; ++k)
    c.bare_expr(n.cells[row * width + k]);
  return params.size();
}

} // namespace

std::size_t max_rows_per_statement(const Insert& stmt, const SqlDialect& dialect) {
  const InsertNode& n = stmt.node();
  if (!dialect.supports_multi_values_insert()) return 1;
  std::size_t max = dialect.max_bound_parameters();
  std::size_t fixed = fixed_params(n, dialect);
  std::size_t per_row = stmt.row_count() > 0 ? row_params(n, 0, dialect) : insert_width(n);
  if (max == 0 || per_row == 0) return static_cast<std::size_t>(-1);
  if (fixed + per_row > max)
    throw ArgumentError("one row of this insert needs more than " + std::to_string(max) +
                        " bound parameters");
  return (max - fixed) / per_row;
}

bool fits_one_statement(const Insert& stmt, const SqlDialect& dialect) {
  const std::size_t rows = stmt.row_count();
  if (rows <= 1 || stmt.node().query) return true;
  if (!dialect.supports_multi_values_insert()) return false;
  const InsertNode& n = stmt.node();
  const std::size_t max = dialect.max_bound_parameters();
  if (max == 0) return true;
  // The common bulk insert (plain values, nothing else bound) needs no walk to decide.
  if (n.use_values && !n.on_conflict && n.returning.empty()) return rows * insert_width(n) <= max;
  return rows <= max_rows_per_statement(stmt, dialect);
}

namespace {

void refuse_returning(const std::vector<Expr>& returning, const char* stmt) {
  if (!returning.empty())
    throw ArgumentError(std::string(stmt) +
                        " with RETURNING cannot run with parameter sets; execute it per set");
}

CompiledTemplate template_of(Collected&& c) {
  // Slot positions count owned parameters; the borrowed run (if any) sits before borrowed_at.
  for (ParamSlot& slot : c.slots)
    if (slot.position >= c.borrowed_at) slot.position += c.borrowed.size();
  CompiledTemplate out;
  out.slots = std::move(c.slots);
  out.params = std::move(c).all_params();
  out.sql = std::move(c.sql);
  return out;
}

template <typename F>
CompiledTemplate run_template(const SqlDialect& d, StatementCache* cache, F&& body) {
  return template_of(collect(d, cache, std::forward<F>(body), true));
}

// An INSERT without rows, executed with parameter sets: one row of placeholders named like the
// sets' names, each a column (SQLAlchemy's conn.execute(insert(t), [{...}, ...])).
InsertNode placeholder_row(const InsertNode& n, std::span<const std::string> names) {
  InsertNode out = n;
  out.columns.assign(names.begin(), names.end());
  out.cells.clear();
  out.values.clear();
  out.use_values = false;
  for (const std::string& name : names) {
    if (!n.table.columns().empty() && !n.table.has_column(name))
      throw ArgumentError("insert(): table '" + std::string(n.table.name()) + "' has no column '" +
                          name + "' (named by the parameter sets)");
    Expr param = bindparam(name);
    out.cells.push_back(n.table.has_column(name) ? typed_like(param, n.table.c(name)) : param);
  }
  return out;
}

} // namespace

CompiledTemplate compile_template(const Statement& stmt, const SqlDialect& dialect,
                                  StatementCache* cache, std::span<const std::string> names) {
  if (const auto* i = std::get_if<Insert>(&stmt)) {
    const InsertNode& n = i->node();
    refuse_returning(n.returning, "insert()");
    if (n.query || i->row_count() > 0) {
      InsertRange all{0, i->row_count()};
      return run_template(dialect, cache, [&](Compiler& c) { c.top_insert(n, all); });
    }
    const InsertNode row = placeholder_row(n, names);
    return run_template(dialect, cache, [&](Compiler& c) { c.top_insert(row, {0, 1}); });
  }
  if (const auto* u = std::get_if<Update>(&stmt)) {
    refuse_returning(u->node().returning, "update()");
    return run_template(dialect, cache, [&](Compiler& c) { c.top_update(u->node()); });
  }
  if (const auto* d = std::get_if<Delete>(&stmt)) {
    refuse_returning(d->node().returning, "delete_()");
    return run_template(dialect, cache, [&](Compiler& c) { c.top_delete(d->node()); });
  }
  if (const auto* t = std::get_if<TextClause>(&stmt))
    return run_template(dialect, cache, [&](Compiler& c) { c.top_text(*t); });
  throw ArgumentError("a SELECT cannot run with parameter sets: its rows would be lost; execute "
                      "it per set");
}

std::vector<CompiledSql> compile_batches(const Insert& stmt, const SqlDialect& dialect,
                                         StatementCache* cache) {
  const InsertNode& n = stmt.node();
  const std::size_t rows = stmt.row_count();
  std::vector<CompiledSql> out;
  if (rows <= 1 || n.query) {
    out.push_back(compile(stmt, dialect, cache));
    return out;
  }
  const std::size_t max = dialect.max_bound_parameters();
  const std::size_t max_rows = dialect.supports_multi_values_insert() ? rows : 1;
  const std::size_t fixed = fixed_params(n, dialect);
  std::size_t begin = 0;
  while (begin < rows) {
    std::size_t end = begin;
    std::size_t used = fixed;
    while (end < rows && end - begin < max_rows) {
      std::size_t need = row_params(n, end, dialect);
      if (max != 0 && used + need > max) break;
      used += need;
      ++end;
    }
    if (end == begin)
      throw ArgumentError("row " + std::to_string(begin) + " of the insert needs more than " +
                          std::to_string(max) + " bound parameters");
    InsertRange range{begin, end};
    out.push_back(run(dialect, cache, [&](Compiler& c) { c.top_insert(n, range); }));
    begin = end;
  }
  return out;
}

} // namespace retort

#include <retort/core/error.hpp>
#include <retort/schema/metadata.hpp>
#include <retort/schema/table.hpp>

#include <algorithm>

namespace retort {

struct Table::Data {
  std::string name;
  std::vector<Column> columns;
  std::vector<std::string> primary_key;
  std::string primary_key_name;
  int autoincrement = -1;
  std::vector<ForeignKeyConstraint> foreign_keys;
  std::vector<UniqueConstraint> uniques;
  std::vector<CheckConstraint> checks;
  std::vector<Index> indexes;
  FromItem from;
};

namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += '_';
    out += n;
  }
  return out;
}

bool is_integer(const SqlType& t) {
  return t.kind == TypeKind::integer || t.kind == TypeKind::big_integer ||
         t.kind == TypeKind::small_integer;
}

class Builder {
public:
  explicit Builder(std::string name) : d_(std::make_shared<Table::Data>()) {
    if (name.empty()) throw ArgumentError("Table: empty name");
    d_->name = std::move(name);
  }

  void add(Column c) {
    if (find(c.name())) throw ArgumentError(where() + "column '" + c.name() + "' declared twice");
    if (c.default_value() && !c.server_default().empty())
      throw ArgumentError(where() + "column '" + c.name() +
                          "' has both default_value() and server_default()");
    d_->columns.push_back(std::move(c));
  }
  void add(PrimaryKeyConstraint pk) {
    if (pk_constraint_) throw ArgumentError(where() + "two PRIMARY KEY constraints");
    if (pk.columns.empty()) throw ArgumentError(where() + "PRIMARY KEY without columns");
    pk_constraint_ = std::move(pk);
  }
  void add(ForeignKeyConstraint fk) { fks_.push_back(std::move(fk)); }
  void add(UniqueConstraint u) { uniques_.push_back(std::move(u)); }
  void add(CheckConstraint c) {
    if (c.sql.empty()) throw ArgumentError(where() + "CHECK with empty SQL");
    d_->checks.push_back(std::move(c));
  }
  void add(Index i) { indexes_.push_back(std::move(i)); }

  std::shared_ptr<const Table::Data> finish() {
    primary_key();
    autoincrement();
    foreign_keys();
    uniques_and_indexes();
    std::vector<ColumnSpec> specs;
    for (const Column& c : d_->columns)
      specs.emplace_back(c.name(), c.type());
    d_->from = table(d_->name, std::move(specs));
    return d_;
  }

private:
  std::string where() const { return "table '" + d_->name + "': "; }

  Column* find(std::string_view name) {
    for (Column& c : d_->columns)
      if (c.name() == name) return &c;
    return nullptr;
  }

  void check_columns(const std::vector<std::string>& names, const char* what) {
    if (names.empty()) throw ArgumentError(where() + what + " without columns");
    for (const std::string& n : names)
      if (!find(n)) throw ArgumentError(where() + what + " names unknown column '" + n + "'");
  }

  void primary_key() {
    std::vector<std::string> flagged;
    for (const Column& c : d_->columns)
      if (c.is_primary_key()) flagged.push_back(c.name());
    if (pk_constraint_) {
      check_columns(pk_constraint_->columns, "PRIMARY KEY");
      if (!flagged.empty() && flagged.size() != pk_constraint_->columns.size())
        throw ArgumentError(where() + "PRIMARY KEY constraint and primary_key() columns differ");
      for (const std::string& n : flagged)
        if (std::find(pk_constraint_->columns.begin(), pk_constraint_->columns.end(), n) ==
            pk_constraint_->columns.end())
          throw ArgumentError(where() + "PRIMARY KEY constraint and primary_key() columns differ");
      d_->primary_key = pk_constraint_->columns;
      d_->primary_key_name = pk_constraint_->name;
      for (const std::string& n : d_->primary_key)
        find(n)->primary_key(true);
      return;
    }
    d_->primary_key = std::move(flagged);
  }

  void autoincrement() {
    const auto& pk = d_->primary_key;
    for (std::size_t i = 0; i < d_->columns.size(); ++i) {
      const Column& c = d_->columns[i];
      bool single_pk = pk.size() == 1 && pk.front() == c.name();
      if (c.autoincrement_mode() == Autoincrement::always) {
        if (!single_pk || !is_integer(c.type()))
          throw ArgumentError(where() + "column '" + c.name() +
                              "' cannot autoincrement: only a single-column integer primary "
                              "key can");
        d_->autoincrement = static_cast<int>(i);
      } else if (c.autoincrement_mode() == Autoincrement::automatic && single_pk &&
                 is_integer(c.type()) && !c.foreign_key() && !c.default_value() &&
                 c.server_default().empty()) {
        bool referencing = std::any_of(fks_.begin(), fks_.end(), [&](const auto& fk) {
          return std::find(fk.columns.begin(), fk.columns.end(), c.name()) != fk.columns.end();
        });
        if (!referencing) d_->autoincrement = static_cast<int>(i);
      }
    }
  }

  void foreign_keys() {
    // Column-level keys come first, in column order.
    std::vector<ForeignKeyConstraint> all;
    for (const Column& c : d_->columns)
      if (c.foreign_key()) all.push_back(c.foreign_key()->constraint(c.name()));
    all.insert(all.end(), std::make_move_iterator(fks_.begin()),
               std::make_move_iterator(fks_.end()));
    fks_ = std::move(all);
    for (ForeignKeyConstraint& fk : fks_) {
      check_columns(fk.columns, "FOREIGN KEY");
      if (fk.referred_table.empty())
        throw ArgumentError(where() + "FOREIGN KEY without a referenced table");
      if (fk.referred_columns.size() != fk.columns.size())
        throw ArgumentError(where() + "FOREIGN KEY (" + joined(fk.columns) + ") names " +
                            std::to_string(fk.referred_columns.size()) +
                            " referenced columns for " + std::to_string(fk.columns.size()));
      if (fk.name.empty() && fk.use_alter)
        fk.name = "fk_" + d_->name + "_" + joined(fk.columns) + "_" + fk.referred_table;
    }
    d_->foreign_keys = std::move(fks_);
  }

  void uniques_and_indexes() {
    for (const Column& c : d_->columns) {
      if (c.is_indexed())
        d_->indexes.push_back(Index{"ix_" + d_->name + "_" + c.name(), {c.name()}, c.is_unique()});
      else if (c.is_unique())
        d_->uniques.push_back(UniqueConstraint{{c.name()}, {}});
    }
    for (UniqueConstraint& u : uniques_) {
      check_columns(u.columns, "UNIQUE");
      d_->uniques.push_back(std::move(u));
    }
    for (Index& i : indexes_) {
      check_columns(i.columns, "INDEX");
      if (i.name.empty()) i.name = "ix_" + d_->name + "_" + joined(i.columns);
      d_->indexes.push_back(std::move(i));
    }
    for (std::size_t i = 0; i < d_->indexes.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (d_->indexes[i].name == d_->indexes[j].name)
          throw ArgumentError(where() + "two indexes named '" + d_->indexes[i].name + "'");
  }

  std::shared_ptr<Table::Data> d_;
  std::optional<PrimaryKeyConstraint> pk_constraint_;
  std::vector<ForeignKeyConstraint> fks_;
  std::vector<UniqueConstraint> uniques_;
  std::vector<Index> indexes_;
};

} // namespace

Table::Table(std::string name, std::vector<TableElement> elements) {
  Builder b(std::move(name));
  for (TableElement& e : elements)
    std::visit([&](auto& item) { b.add(std::move(item)); }, e);
  data_ = b.finish();
}

void Table::register_in(MetaData& metadata) { metadata.add(*this); }

const Table::Data& Table::data() const {
  if (!data_) throw ArgumentError("empty Table handle used");
  return *data_;
}

const std::string& Table::name() const { return data().name; }
const std::vector<Column>& Table::columns() const { return data().columns; }

const Column& Table::column(std::string_view name) const {
  for (const Column& c : data().columns)
    if (c.name() == name) return c;
  throw ArgumentError("table '" + data().name + "' has no column '" + std::string(name) + "'");
}

bool Table::has_column(std::string_view name) const {
  for (const Column& c : data().columns)
    if (c.name() == name) return true;
  return false;
}

const std::vector<std::string>& Table::primary_key() const { return data().primary_key; }
const std::string& Table::primary_key_name() const { return data().primary_key_name; }

const Column* Table::autoincrement_column() const {
  const Data& d = data();
  return d.autoincrement < 0 ? nullptr : &d.columns[static_cast<std::size_t>(d.autoincrement)];
}

const std::vector<ForeignKeyConstraint>& Table::foreign_keys() const { return data().foreign_keys; }
const std::vector<UniqueConstraint>& Table::unique_constraints() const { return data().uniques; }
const std::vector<CheckConstraint>& Table::checks() const { return data().checks; }
const std::vector<Index>& Table::indexes() const { return data().indexes; }
const Expr& Table::c(std::string_view name) const { return data().from.c(name); }
const std::vector<Expr>& Table::column_exprs() const { return data().from.columns(); }
const FromItem& Table::from() const { return data().from; }

Expr join_condition(const Table& a, const Table& b) {
  std::vector<Expr> found;
  auto scan = [&](const Table& referencing, const Table& referenced) {
    for (const ForeignKeyConstraint& fk : referencing.foreign_keys()) {
      if (fk.referred_table != referenced.name()) continue;
      std::vector<Expr> parts;
      for (std::size_t i = 0; i < fk.columns.size(); ++i)
        parts.push_back(referenced.c(fk.referred_columns[i]) == referencing.c(fk.columns[i]));
      found.push_back(parts.size() == 1 ? parts.front() : and_(std::move(parts)));
    }
  };
  scan(b, a);
  if (a.name() != b.name()) scan(a, b);
  if (found.empty())
    throw ArgumentError("no foreign key joins '" + a.name() + "' and '" + b.name() + "'");
  if (found.size() > 1)
    throw ArgumentError("several foreign keys join '" + a.name() + "' and '" + b.name() +
                        "'; give the ON clause explicitly");
  return found.front();
}

} // namespace retort

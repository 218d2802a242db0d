#include "params.hpp"
#include "oids.hpp"

#include <retort/core/error.hpp>

#include <charconv>
#include <string_view>

namespace retort::postgresql {

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '"';
}

// Where placeholder $`position` stands in `sql`: npos when it does not.
std::size_t find_placeholder(std::string_view sql, std::size_t position) {
  const std::string token = "$" + std::to_string(position);
  for (auto at = sql.find(token); at != std::string_view::npos; at = sql.find(token, at + 1)) {
    const std::size_t end = at + token.size();
    if (end == sql.size() || sql[end] < '0' || sql[end] > '9') return at;
  }
  return std::string_view::npos;
}

// The column of an INSERT's column list that the placeholder at `at` fills, or "".
std::string inserted_column(std::string_view sql, std::size_t at) {
  if (sql.substr(0, 12) != "INSERT INTO ") return {};
  const std::size_t open = sql.find(" (");
  const std::size_t close = sql.find(')', open);
  const std::size_t values = sql.find(" VALUES ", close);
  if (open == std::string_view::npos || close == std::string_view::npos ||
      values == std::string_view::npos || at < values)
    return {};
  std::vector<std::string_view> columns;
  for (std::size_t from = open + 2; from <= close;) {
    std::size_t comma = sql.find(", ", from);
    if (comma == std::string_view::npos || comma > close) comma = close;
    columns.push_back(sql.substr(from, comma - from));
    from = comma + 2;
  }
  // Which cell of its row the placeholder is in: commas at the row's own depth separate cells.
  int depth = 0;
  std::size_t cell = 0;
  for (std::size_t k = values; k < at; ++k) {
    if (sql[k] == '(' && ++depth == 1) cell = 0;
    if (sql[k] == ')') --depth;
    if (sql[k] == ',' && depth == 1) ++cell;
  }
  return depth >= 1 && cell < columns.size() ? std::string(columns[cell]) : std::string();
}

// The column a placeholder at `at` is compared with or assigned to (`name = $1`), or "".
std::string compared_column(std::string_view sql, std::size_t at) {
  std::size_t k = at;
  auto skip = [&](auto predicate) {
    while (k > 0 && predicate(sql[k - 1]))
      --k;
  };
  skip([](char c) { return c == ' '; });
  const std::size_t op_end = k;
  skip([](char c) { return c == '=' || c == '<' || c == '>' || c == '!'; });
  if (k == op_end) return {};
  skip([](char c) { return c == ' '; });
  const std::size_t name_end = k;
  skip(is_name_char);
  return std::string(sql.substr(k, name_end - k));
}

// Names what parameter `position` of `sql` is for: its column where the SQL shows one.
std::string describe_parameter(std::string_view sql, std::size_t position) {
  const std::string parameter = "parameter $" + std::to_string(position);
  const std::size_t at = find_placeholder(sql, position);
  if (at == std::string_view::npos) return parameter;
  std::string column = inserted_column(sql, at);
  if (column.empty()) column = compared_column(sql, at);
  return column.empty() ? parameter : "column " + column + " (" + parameter + ")";
}

// PostgreSQL text cannot hold NUL, and libpq reads a text parameter up to its first NUL: the
// rest would be silently cut. Refused before anything is sent.
[[noreturn]] void refuse_nul(const std::string& sql, std::size_t position, std::size_t offset) {
  throw DataError("the text for " + describe_parameter(sql, position) +
                      " contains a NUL byte (at byte " + std::to_string(offset) +
                      "), which PostgreSQL text cannot hold; store such data as bytes",
                  "22021", 0, sql);
}

} // namespace

void PgParams::assign(std::span<const Value> params, const std::string& sql) {
  const std::size_t n = params.size();
  arena_.clear();
  offsets_.assign(n, 0);
  values_.assign(n, nullptr);
  lengths_.assign(n, 0);
  formats_.assign(n, 0);
  types_.assign(n, 0);
  char number[32];
  for (std::size_t i = 0; i < n; ++i) {
    const Value& v = params[i];
    offsets_[i] = arena_.size();
    switch (v.kind()) {
    case ValueKind::null: continue;
    case ValueKind::integer: {
      auto end = std::to_chars(number, number + sizeof number, v.as_int()).ptr;
      arena_.append(number, end);
      break;
    }
    case ValueKind::real: {
      // Shortest text that reads back to the same double.
      auto end = std::to_chars(number, number + sizeof number, v.as_double()).ptr;
      arena_.append(number, end);
      break;
    }
    case ValueKind::text: {
      const std::string_view text = v.as_text();
      if (const auto nul = text.find('\0'); nul != std::string_view::npos)
        refuse_nul(sql, i + 1, nul);
      arena_ += text;
      break;
    }
    case ValueKind::boolean: arena_ += v.as_bool() ? 't' : 'f'; break;
    case ValueKind::blob: {
      const Blob& b = v.as_blob();
      arena_.append(reinterpret_cast<const char*>(b.data()), b.size());
      formats_[i] = 1;
      types_[i] = bytea_oid;
      break;
    }
    }
    lengths_[i] = static_cast<int>(arena_.size() - offsets_[i]);
    // Text-format values are read up to a NUL by libpq.
    arena_ += '\0';
  }
  // Pointers are taken only now: appending may have moved the arena.
  for (std::size_t i = 0; i < n; ++i)
    if (!params[i].is_null()) values_[i] = arena_.data() + offsets_[i];
}

} // namespace retort::postgresql

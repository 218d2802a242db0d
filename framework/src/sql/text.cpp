#include "nodes.hpp"

#include <retort/core/error.hpp>

#include <algorithm>

namespace retort {

using namespace detail;

namespace {

bool ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9'); }

// Index just past the quoted run starting at `i` (which holds `quote`); a doubled quote is an
// escaped quote. `backslashes` is set for PostgreSQL's E'...' strings.
std::size_t skip_quoted(std::string_view s, std::size_t i, char quote, bool backslashes) {
  for (++i; i < s.size(); ++i) {
    if (backslashes && s[i] == '\\') {
      ++i;
      continue;
    }
    if (s[i] != quote) continue;
    if (i + 1 < s.size() && s[i + 1] == quote) {
      ++i;
      continue;
    }
    return i + 1;
  }
  return s.size();
}

// `$tag$` at `i` opens a dollar-quoted string; returns the tag length (with both $) or 0.
std::size_t dollar_tag(std::string_view s, std::size_t i) {
  std::size_t j = i + 1;
  if (j < s.size() && s[j] == '$') return 2;
  if (j >= s.size() || !ident_start(s[j])) return 0;
  while (j < s.size() && ident_char(s[j]))
    ++j;
  return j < s.size() && s[j] == '$' ? j - i + 1 : 0;
}

std::shared_ptr<const TextData> parse(std::string_view sql) {
  auto data = std::make_shared<TextData>();
  data->sql = std::string(sql);
  std::string piece;
  std::size_t i = 0;
  const std::size_t n = sql.size();
  auto copy_until = [&](std::size_t end) {
    piece.append(sql.substr(i, end - i));
    i = end;
  };
  while (i < n) {
    char c = sql[i];
    if (c == '\'') {
      bool escape =
          i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') && (i < 2 || !ident_char(sql[i - 2]));
      copy_until(skip_quoted(sql, i, '\'', escape));
    } else if (c == '"') {
      copy_until(skip_quoted(sql, i, '"', false));
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      std::size_t end = sql.find('\n', i);
      copy_until(end == std::string_view::npos ? n : end);
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      std::size_t end = sql.find("*/", i + 2);
      copy_until(end == std::string_view::npos ? n : end + 2);
    } else if (c == '$' && (i == 0 || !ident_char(sql[i - 1])) && dollar_tag(sql, i) > 0) {
      std::size_t len = dollar_tag(sql, i);
      std::string_view tag = sql.substr(i, len);
      std::size_t end = sql.find(tag, i + len);
      copy_until(end == std::string_view::npos ? n : end + len);
    } else if (c == '\\' && i + 1 < n && sql[i + 1] == ':') {
      piece += ':'; // an escaped colon is a literal colon
      i += 2;
    } else if (c == ':' && i + 1 < n && sql[i + 1] == ':') {
      copy_until(i + 2); // a PostgreSQL cast
    } else if (c == ':' && i + 1 < n && ident_start(sql[i + 1]) && (i == 0 || sql[i - 1] != ':')) {
      std::size_t j = i + 1;
      while (j < n && ident_char(sql[j]))
        ++j;
      std::string name(sql.substr(i + 1, j - i - 1));
      data->pieces.push_back(std::move(piece));
      piece.clear();
      if (std::find(data->distinct_names.begin(), data->distinct_names.end(), name) ==
          data->distinct_names.end())
        data->distinct_names.push_back(name);
      data->names.push_back(std::move(name));
      i = j;
    } else {
      piece += c;
      ++i;
    }
  }
  data->pieces.push_back(std::move(piece));
  return data;
}

} // namespace

TextClause::TextClause(std::string_view sql) : data_(parse(sql)) {
  if (sql.empty()) throw ArgumentError("text(): empty SQL");
}

TextClause TextClause::bind(std::string_view name, Value value) && {
  const auto& names = data_->distinct_names;
  if (std::find(names.begin(), names.end(), name) == names.end())
    throw ArgumentError("text(): the SQL has no parameter :" + std::string(name));
  for (auto& [n, v] : binds_) {
    if (n == name) {
      v = std::move(value);
      return std::move(*this);
    }
  }
  binds_.emplace_back(std::string(name), std::move(value));
  return std::move(*this);
}

TextClause TextClause::bind(std::initializer_list<std::pair<std::string_view, Value>> values) && {
  for (const auto& [n, v] : values)
    *this = std::move(*this).bind(n, v);
  return std::move(*this);
}

const std::vector<std::string>& TextClause::parameter_names() const {
  return data_->distinct_names;
}

const std::string& TextClause::sql() const { return data_->sql; }

Expr TextClause::as_expr() const {
  return Expr(std::make_shared<const TextExprNode>(data_, binds_));
}

} // namespace retort

// URL parsing with SQLAlchemy's semantics (sqlalchemy.engine.url.make_url):
//   dialect[+driver]://[user[:password]@][host|[ipv6]][:port][/database][?k=v&...]
// For SQLite the database is the file path: three slashes give a relative path, four an absolute
// one, and no path at all means an in-memory database.
#include <retort/core/error.hpp>
#include <retort/core/url.hpp>

#include <cctype>
#include <string>

namespace retort {

namespace {

// Control bytes (a NUL above all) would cut or garble the message: they are shown as \xNN.
std::string printable(std::string_view text) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f) {
      out += c;
      continue;
    }
    out += "\\x";
    out += digits[u >> 4];
    out += digits[u & 0xf];
  }
  return out;
}

[[noreturn]] void fail(std::string_view text, const std::string& why) {
  throw ArgumentError("invalid database URL '" + printable(mask_password(text)) + "': " + why);
}

void check_no_nul(std::string_view text, const std::string& part, const char* what) {
  if (part.find('\0') != std::string::npos)
    fail(text, std::string("the ") + what + " contains a NUL byte");
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `what` names the component in the error; `plus_is_space` follows form encoding (query only).
std::string decode(std::string_view url, std::string_view part, const char* what,
                   bool plus_is_space = false) {
  std::string out;
  out.reserve(part.size());
  for (std::size_t i = 0; i < part.size(); ++i) {
    const char c = part[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
      continue;
    }
    if (c != '%') {
      out += c;
      continue;
    }
    const int hi = i + 1 < part.size() ? hex_value(part[i + 1]) : -1;
    const int lo = i + 2 < part.size() ? hex_value(part[i + 2]) : -1;
    if (hi < 0 || lo < 0) fail(url, std::string("bad percent-encoding in the ") + what);
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  // C APIs (sqlite3_open, libpq's conninfo) would silently stop at a NUL: "a\0b.db" opens "a".
  check_no_nul(url, out, what);
  return out;
}

// Characters that would change how render()'s output parses back are percent-encoded.
std::string encode(std::string_view part, std::string_view special) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : part) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '%' || special.find(c) != std::string_view::npos || u < 0x20 || u == 0x7f) {
      out += '%';
      out += digits[u >> 4];
      out += digits[u & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

bool is_scheme_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '.' ||
         c == '-';
}

void parse_scheme(std::string_view text, std::string_view scheme, Url& url) {
  if (scheme.empty()) fail(text, "the dialect name before '://' is empty");
  for (const char c : scheme)
    if (!is_scheme_char(c))
      fail(text, "the dialect name contains '" + printable(std::string_view(&c, 1)) + "'");
  const auto plus = scheme.find('+');
  url.dialect = std::string(scheme.substr(0, plus));
  if (plus == std::string_view::npos) return;
  url.driver = std::string(scheme.substr(plus + 1));
  if (url.dialect.empty() || url.driver.empty() || url.driver.find('+') != std::string::npos)
    fail(text, "expected dialect+driver before '://'");
}

// A password with '/' or '?' ends the authority early: "u:pa/ss@h/db" reads "u" as the
// host and "pa" as its port. The port's text is never shown (it may be part of a password).
[[noreturn]] void bad_port(std::string_view text) {
  std::string why = "the port (after the host's ':') must be a number from 1 to 65535";
  const auto rest = text.substr(text.find("://") + 3);
  const auto authority_end = rest.find_first_of("/?");
  if (authority_end != std::string_view::npos &&
      rest.substr(authority_end).find('@') != std::string_view::npos)
    why += "; an '@' after it suggests a password holding '/' or '?': percent-encode it "
           "(%2F, %3F) or give the password apart from the URL (the engine's 'password' "
           "setting, or Url::create)";
  fail(text, why);
}

void parse_port(std::string_view text, std::string_view port, Url& url) {
  if (port.empty() || port.size() > 5) bad_port(text);
  int value = 0;
  for (const char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) bad_port(text);
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > 65535) bad_port(text);
  url.port = value;
}

void parse_host_port(std::string_view text, std::string_view hostport, Url& url) {
  std::string_view rest;
  if (!hostport.empty() && hostport.front() == '[') {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) fail(text, "an IPv6 host misses its closing ']'");
    url.host = decode(text, hostport.substr(1, close - 1), "host");
    if (url.host.empty()) fail(text, "the IPv6 host between [] is empty");
    rest = hostport.substr(close + 1);
    if (!rest.empty() && rest.front() != ':')
      fail(text, "unexpected text after the IPv6 host's ']'");
  } else {
    const auto colon = hostport.find(':');
    url.host = decode(text, hostport.substr(0, colon), "host");
    if (colon != std::string_view::npos) rest = hostport.substr(colon);
  }
  if (!rest.empty()) parse_port(text, rest.substr(1), url);
}

void parse_authority(std::string_view text, std::string_view authority, Url& url) {
  // The last '@' ends the user part, so an unencoded '@' in a password still parses.
  const auto at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const auto userinfo = authority.substr(0, at);
    const auto colon = userinfo.find(':');
    url.username = decode(text, userinfo.substr(0, colon), "user name");
    if (colon != std::string_view::npos)
      url.password = decode(text, userinfo.substr(colon + 1), "password");
    authority = authority.substr(at + 1);
  }
  parse_host_port(text, authority, url);
}

void parse_query(std::string_view text, std::string_view query, Url& url) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto key = decode(text, pair.substr(0, eq), "query", true);
    if (key.empty()) fail(text, "a query parameter has no name");
    url.query[std::move(key)] = eq == std::string_view::npos
                                    ? std::string{}
                                    : decode(text, pair.substr(eq + 1), "query", true);
  }
}

bool is_secret_key(std::string_view key) { return key == "password" || key == "passwd"; }

// End of the URL that starts at `from` inside free text: URLs end at whitespace or a quote.
std::size_t url_token_end(std::string_view text, std::size_t from) {
  std::size_t end = from;
  while (end < text.size()) {
    const char c = text[end];
    if (std::isspace(static_cast<unsigned char>(c)) || c == '\'' || c == '"' || c == '`' ||
        c == '<' || c == '>')
      break;
    ++end;
  }
  return end;
}

} // namespace

Url Url::parse(std::string_view text) {
  const auto sep = text.find("://");
  if (sep == std::string_view::npos)
    fail(text, "expected dialect[+driver]://[user[:password]@][host][:port][/database]");
  Url url;
  parse_scheme(text, text.substr(0, sep), url);
  auto rest = text.substr(sep + 3);

  const auto query_at = rest.find('?');
  if (query_at != std::string_view::npos) {
    parse_query(text, rest.substr(query_at + 1), url);
    rest = rest.substr(0, query_at);
  }
  const auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    url.database = decode(text, rest.substr(slash + 1), "database");
    rest = rest.substr(0, slash);
  }
  parse_authority(text, rest, url);
  return url;
}

Url Url::create(std::string_view scheme, std::string username, std::optional<std::string> password,
                std::string host, std::optional<int> port, std::string database,
                std::map<std::string, std::string> query) {
  Url url;
  const auto text = std::string(scheme) + "://";
  parse_scheme(text, scheme, url);
  if (port && (*port < 1 || *port > 65535)) fail(text, "the port must be a number from 1 to 65535");
  check_no_nul(text, username, "user name");
  if (password) check_no_nul(text, *password, "password");
  check_no_nul(text, host, "host");
  check_no_nul(text, database, "database");
  for (const auto& [key, value] : query) {
    if (key.empty()) fail(text, "a query parameter has no name");
    check_no_nul(text, key + value, "query");
  }
  url.username = std::move(username);
  url.password = std::move(password);
  url.host = std::move(host);
  url.port = port;
  url.database = std::move(database);
  url.query = std::move(query);
  return url;
}

std::string Url::scheme() const { return driver.empty() ? dialect : dialect + "+" + driver; }

std::string Url::render(bool hide_password) const {
  std::string out = scheme() + "://";
  if (!username.empty() || password) {
    out += encode(username, ":@/?#[]");
    if (password) out += ":" + (hide_password ? std::string("***") : encode(*password, ":@/?#[]"));
    out += '@';
  }
  if (host.find(':') != std::string::npos)
    out += "[" + encode(host, "@/?#[]") + "]";
  else
    out += encode(host, ":@/?#[]");
  if (port) out += ":" + std::to_string(*port);
  if (!database.empty()) out += "/" + encode(database, "?#");
  char sep = '?';
  for (const auto& [key, value] : query) {
    out += sep;
    sep = '&';
    out += encode(key, "&=+?#") + "=" +
           (hide_password && is_secret_key(key) ? std::string("***") : encode(value, "&=+?#"));
  }
  return out;
}

bool Url::is_memory_database() const { return database.empty() || database == ":memory:"; }

std::string mask_password(std::string_view text) {
  std::string out;
  std::size_t done = 0;
  for (auto sep = text.find("://"); sep != std::string_view::npos;
       sep = text.find("://", sep + 3)) {
    const auto start = sep + 3;
    const auto end = url_token_end(text, start);
    auto token = text.substr(start, end - start);
    // The query may hold '@' (e-mail addresses); the user part never extends into it.
    token = token.substr(0, token.find('?'));
    const auto at = token.rfind('@');
    if (at == std::string_view::npos) continue;
    const auto colon = token.substr(0, at).find(':');
    if (colon == std::string_view::npos) continue;
    const auto secret_from = start + colon + 1;
    if (secret_from < done) continue;
    out.append(text.substr(done, secret_from - done));
    out += "***";
    done = start + at;
  }
  out.append(text.substr(done));
  return out;
}

} // namespace retort

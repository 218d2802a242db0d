#include <retort/core/error.hpp>
#include <retort/core/url.hpp>

#include <catch2/catch.hpp>

#include <string>

using retort::Url;

namespace {

std::string parse_error(const std::string& text) {
  try {
    (void)Url::parse(text);
  } catch (const retort::ArgumentError& e) {
    return e.what();
  }
  FAIL("no ArgumentError for " << text);
  return {};
}

} // namespace

TEST_CASE("a full URL splits into its parts", "[url]") {
  const auto url = Url::parse("postgresql+libpq://scott:tiger@db.example.com:5433/"
                              "app?sslmode=require&application_name=retort");
  CHECK(url.dialect == "postgresql");
  CHECK(url.driver == "libpq");
  CHECK(url.scheme() == "postgresql+libpq");
  CHECK(url.username == "scott");
  REQUIRE(url.password);
  CHECK(*url.password == "tiger");
  CHECK(url.host == "db.example.com");
  REQUIRE(url.port);
  CHECK(*url.port == 5433);
  CHECK(url.database == "app");
  CHECK(url.query.size() == 2);
  CHECK(url.query.at("sslmode") == "require");
  CHECK(url.query.at("application_name") == "retort");
}

TEST_CASE("components are percent-decoded", "[url]") {
  const auto url =
      Url::parse("postgresql://us%40er:p%40ss%3Aw%2Frd@my%2Dhost/my%20db?opt=a%26b&x=1+2");
  CHECK(url.username == "us@er");
  CHECK(*url.password == "p@ss:w/rd");
  CHECK(url.host == "my-host");
  CHECK(url.database == "my db");
  CHECK(url.query.at("opt") == "a&b");
  CHECK(url.query.at("x") == "1 2");
}

TEST_CASE("an unencoded '@' in the password still parses", "[url]") {
  const auto url = Url::parse("postgresql://app:p@ss@localhost/app");
  CHECK(url.username == "app");
  CHECK(*url.password == "p@ss");
  CHECK(url.host == "localhost");
}

TEST_CASE("absent parts stay empty", "[url]") {
  const auto url = Url::parse("postgresql://localhost");
  CHECK(url.username.empty());
  CHECK_FALSE(url.password);
  CHECK_FALSE(url.port);
  CHECK(url.database.empty());
  CHECK(url.query.empty());
  CHECK(Url::parse("postgresql://user@/db").host.empty());
  CHECK(Url::parse("postgresql://user@/db").username == "user");
  CHECK(*Url::parse("postgresql://user:@h/db").password == "");
}

TEST_CASE("SQLite paths follow SQLAlchemy", "[url][sqlite]") {
  CHECK(Url::parse("sqlite:///relative.db").database == "relative.db");
  CHECK(Url::parse("sqlite:///dir/relative.db").database == "dir/relative.db");
  CHECK(Url::parse("sqlite:////abs/path.db").database == "/abs/path.db");
  CHECK(Url::parse("sqlite:///:memory:").database == ":memory:");
  CHECK(Url::parse("sqlite:///:memory:").is_memory_database());
  CHECK(Url::parse("sqlite://").is_memory_database());
  CHECK(Url::parse("sqlite://").database.empty());
  CHECK_FALSE(Url::parse("sqlite:///relative.db").is_memory_database());
  CHECK(Url::parse("sqlite:///file.db?timeout=5").query.at("timeout") == "5");
  CHECK(Url::parse("sqlite:///file.db").host.empty());
}

TEST_CASE("IPv6 hosts are written in brackets", "[url]") {
  const auto url = Url::parse("postgresql://u:p@[::1]:5432/db");
  CHECK(url.host == "::1");
  CHECK(*url.port == 5432);
  CHECK(url.render(false) == "postgresql://u:p@[::1]:5432/db");
  CHECK(Url::parse("postgresql://[fe80::1%25eth0]/db").host == "fe80::1%eth0");
  CHECK(Url::parse("postgresql://[2001:db8::7]").host == "2001:db8::7");
}

TEST_CASE("render masks the password and round-trips", "[url]") {
  const auto url = Url::parse("postgresql+libpq://scott:s3cr%40t@localhost:5432/app?a=1&b=x%26y");
  CHECK(url.render() == "postgresql+libpq://scott:***@localhost:5432/app?a=1&b=x%26y");
  CHECK(url.render(false) == "postgresql+libpq://scott:s3cr%40t@localhost:5432/app?a=1&b=x%26y");
  CHECK(Url::parse(url.render(false)).password == url.password);
  CHECK(Url::parse("sqlite:///relative.db").render() == "sqlite:///relative.db");
  CHECK(Url::parse("sqlite:////abs/path.db").render() == "sqlite:////abs/path.db");
  CHECK(Url::parse("sqlite:///:memory:").render() == "sqlite:///:memory:");
  CHECK(Url::parse("sqlite://").render() == "sqlite://");
  CHECK(Url::parse("postgresql://h/db?password=hunter2").render() ==
        "postgresql://h/db?password=***");
}

TEST_CASE("bad URLs are ArgumentErrors that name the URL without its password", "[url]") {
  const auto no_scheme = parse_error("localhost/db");
  CHECK_THAT(no_scheme, Catch::Contains("'localhost/db'"));
  CHECK_THAT(no_scheme, Catch::Contains("dialect"));

  const auto bad_port = parse_error("postgresql://scott:tiger@localhost:54x2/db");
  CHECK_THAT(bad_port, Catch::Contains("postgresql://scott:***@localhost:54x2/db"));
  CHECK_THAT(bad_port, Catch::Contains("port"));
  CHECK_THAT(bad_port, !Catch::Contains("tiger"));

  CHECK_THAT(parse_error("postgresql://h:70000/db"), Catch::Contains("port"));
  CHECK_THAT(parse_error("postgresql://h:/db"), Catch::Contains("port"));
  CHECK_THAT(parse_error("://h/db"), Catch::Contains("dialect name"));
  CHECK_THAT(parse_error("post gres://h/db"), Catch::Contains("dialect name"));
  CHECK_THAT(parse_error("postgresql+://h/db"), Catch::Contains("dialect+driver"));
  CHECK_THAT(parse_error("postgresql://[::1/db"), Catch::Contains("']'"));
  CHECK_THAT(parse_error(""), Catch::Contains("expected dialect"));
  CHECK_THAT(parse_error("garbage"), Catch::Contains("'garbage'"));

  const auto bad_escape = parse_error("postgresql://u:p%zzss@h/db");
  CHECK_THAT(bad_escape, Catch::Contains("percent-encoding in the password"));
  CHECK_THAT(bad_escape, !Catch::Contains("p%zzss"));
}

TEST_CASE("a NUL byte anywhere in a URL is refused, not cut", "[url]") {
  using namespace std::string_literals;
  // sqlite3_open() of "a\0b.db" would open the file "a".
  const auto raw = parse_error("sqlite:///a\0b.db"s);
  CHECK_THAT(raw, Catch::Contains("the database contains a NUL byte"));
  CHECK_THAT(raw, Catch::Contains("'sqlite:///a\\x00b.db'"));
  CHECK(raw.find('\0') == std::string::npos);
  CHECK_THAT(parse_error("sqlite:///a%00b.db"), Catch::Contains("the database contains a NUL"));
  CHECK_THAT(parse_error("postgresql://u:p%00w@h/db"),
             Catch::Contains("the password contains a NUL byte"));
  CHECK_THAT(parse_error("postgresql://u\0x@h/db"s), Catch::Contains("user name contains a NUL"));
  CHECK_THAT(parse_error("postgresql://h\0x/db"s), Catch::Contains("host contains a NUL"));
  CHECK_THAT(parse_error("sqlite:///db?k=\0"s), Catch::Contains("query contains a NUL"));
  CHECK_THAT(parse_error("sql\0ite:///db"s), Catch::Contains("dialect name contains '\\x00'"));
}

TEST_CASE("Url::create takes the parts as they are, as SQLAlchemy's URL.create", "[url]") {
  const auto url = Url::create("postgresql+libpq", "app", "s3cr#t/p@ss?", "db.internal", 5433,
                               "app", {{"sslmode", "disable"}});
  CHECK(url.scheme() == "postgresql+libpq");
  CHECK(url.password == "s3cr#t/p@ss?");
  CHECK(url.render() == "postgresql+libpq://app:***@db.internal:5433/app?sslmode=disable");
  // render(false) percent-encodes, so the text parses back to the same parts.
  CHECK(Url::parse(url.render(false)).password == "s3cr#t/p@ss?");
  CHECK_THROWS_WITH(Url::create("post gres"), Catch::Contains("dialect name"));
  CHECK_THROWS_WITH(Url::create("postgresql", "u", std::nullopt, "h", 0), Catch::Contains("port"));
  using namespace std::string_literals;
  CHECK_THROWS_WITH(Url::create("sqlite", {}, {}, {}, {}, "a\0b.db"s),
                    Catch::Contains("the database contains a NUL byte"));
}

TEST_CASE("a bad port caused by a password with '/' says what to do", "[url]") {
  const auto what = parse_error("postgresql://app:s3cr/pw@localhost/app");
  CHECK_THAT(what, Catch::Contains("the port (after the host's ':')"));
  CHECK_THAT(what, Catch::Contains("percent-encode it"));
  CHECK_THAT(what, !Catch::Contains("s3cr"));
  CHECK_THAT(parse_error("postgresql://h:54x2/db"), !Catch::Contains("percent-encode"));
}

TEST_CASE("an IPv6-style host with brackets in it renders to text that parses back", "[url]") {
  // render() put a host holding ':' between [] as it was: "]:" gave "[]:]", which did not parse.
  const auto url = Url::parse("postgresql://[%5D%3A%5B]:5/db");
  CHECK(url.host == "]:[");
  const auto again = Url::parse(url.render(false));
  CHECK(again.host == "]:[");
  CHECK(again.port == 5);
  CHECK(Url::parse(Url::parse("postgresql://[::1]/db").render()).host == "::1");
}

TEST_CASE("mask_password hides passwords of URLs in free text", "[url]") {
  CHECK(retort::mask_password("connect to postgresql://app:hunter2@db/app failed") ==
        "connect to postgresql://app:***@db/app failed");
  CHECK(
      retort::mask_password("a 'mysql://u:p1@h' and \"postgresql+libpq://v:p2@[::1]:5/d?x=a@b\"") ==
      "a 'mysql://u:***@h' and \"postgresql+libpq://v:***@[::1]:5/d?x=a@b\"");
  CHECK(retort::mask_password("postgresql://app:p@ss@localhost/app") ==
        "postgresql://app:***@localhost/app");
  CHECK(retort::mask_password("no urls here: a@b c:d") == "no urls here: a@b c:d");
  CHECK(retort::mask_password("sqlite:///tmp/x@y.db") == "sqlite:///tmp/x@y.db");
  CHECK(retort::mask_password("postgresql://user@host/db") == "postgresql://user@host/db");
}

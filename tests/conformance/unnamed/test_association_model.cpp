// A program as a user writes it: a many-to-many whose association table is mapped with a Model
// that nothing else in the program names (its relationships know it only by the secondary()
// name). Its own executable, so that no other test touches that class's mapper first.
#include "../backend.hpp"

#include <retort/retort.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

namespace {

struct Keyword;
struct Article {
  std::int64_t id{};
  std::string title;
  retort::Collection<Keyword> keywords;
};
struct Keyword {
  std::int64_t id{};
  std::string word;
  retort::Collection<Article> articles;
};
struct ArticleKeyword {
  std::int64_t article_id{};
  std::int64_t keyword_id{};
};

} // namespace

template <> struct retort::Model<Article> {
  static constexpr auto table = "articles";
  static constexpr auto fields =
      fields_of(column("id", &Article::id, primary_key), column("title", &Article::title),
                relationship("keywords", &Article::keywords, secondary("article_keywords"),
                             back_populates("articles"), order_by(&Keyword::id)));
};

template <> struct retort::Model<Keyword> {
  static constexpr auto table = "keywords";
  static constexpr auto fields =
      fields_of(column("id", &Keyword::id, primary_key), column("word", &Keyword::word),
                relationship("articles", &Keyword::articles, secondary("article_keywords"),
                             back_populates("keywords"), order_by(&Article::id)));
};

// Named nowhere but here.
template <> struct retort::Model<ArticleKeyword> {
  static constexpr auto table = "article_keywords";
  static constexpr auto fields = fields_of(
      column("article_id", &ArticleKeyword::article_id, primary_key, foreign_key("articles.id")),
      column("keyword_id", &ArticleKeyword::keyword_id, primary_key, foreign_key("keywords.id")));
};

TEST_CASE("an association Model named only by secondary() is mapped", "[orm][registration]") {
  using namespace retort;
  auto& engine = conformance::engine();
  CHECK(metadata().tables().find("article_keywords") != nullptr);
  metadata().drop_all(engine);
  metadata().create_all(engine);

  std::int64_t article_id = 0;
  {
    Session session(engine);
    auto article = session.add(Article{.title = "Retort"});
    article->keywords.push_back(session.add(Keyword{.word = "orm"}));
    article->keywords.push_back(session.add(Keyword{.word = "c++"}));
    session.commit();
    article_id = article->id;
  }
  {
    Session session(engine);
    auto article = session.get<Article>(article_id);
    REQUIRE(article);
    REQUIRE(article->keywords.size() == 2);
    CHECK(article->keywords[0]->word == "orm");
    CHECK(article->keywords[1]->word == "c++");
    REQUIRE(article->keywords[0]->articles.size() == 1);
    CHECK(article->keywords[0]->articles[0] == article);
  }
  metadata().drop_all(engine);
}

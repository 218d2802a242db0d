// Relationships in Retort: one-to-many, many-to-one and many-to-many, cascades (save-update,
// delete, delete-orphan) and the loader strategies (lazy, selectin, joined, raise), with the
// number of statements each step sends.
//
//   relationships [config.yaml] [engine-name]      (defaults: config/retort.yaml, "memory")
#include <retort/retort.hpp>

#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

struct Book;
struct Tag;

// An author has books (one-to-many); deleting the author deletes them, and a book taken out
// of its author's collection is deleted (delete-orphan).
struct Author {
  std::int64_t id{};
  std::string name;
  retort::Collection<Book> books;
};

// A book has one author (many-to-one) and many tags (many-to-many).
struct Book {
  std::int64_t id{};
  std::string title;
  std::int64_t author_id{};
  retort::Ref<Author> author;
  retort::Collection<Tag> tags;
};

struct Tag {
  std::int64_t id{};
  std::string label;
  retort::Collection<Book> books;
};

// The association table of books and tags, mapped like any model.
struct BookTag {
  std::int64_t book_id{};
  std::int64_t tag_id{};
};

template <> struct retort::Model<Author> {
  static constexpr auto table = "authors";
  static constexpr auto fields =
      fields_of(column("id", &Author::id, primary_key), column("name", &Author::name, String(50)),
                relationship("books", &Author::books, back_populates("author"),
                             order_by(&Book::title), cascade_all_delete_orphan));
};

template <> struct retort::Model<Book> {
  static constexpr auto table = "books";
  static constexpr auto fields =
      fields_of(column("id", &Book::id, primary_key), column("title", &Book::title, String(100)),
                column("author_id", &Book::author_id, foreign_key("authors.id")),
                relationship("author", &Book::author, back_populates("books")),
                relationship("tags", &Book::tags, secondary("book_tags"), back_populates("books"),
                             order_by(&Tag::label)));
};

template <> struct retort::Model<Tag> {
  static constexpr auto table = "tags";
  static constexpr auto fields = fields_of(
      column("id", &Tag::id, primary_key), column("label", &Tag::label, String(30), unique),
      relationship("books", &Tag::books, secondary("book_tags"), back_populates("tags"),
                   order_by(&Book::title)));
};

template <> struct retort::Model<BookTag> {
  static constexpr auto table = "book_tags";
  static constexpr auto fields =
      fields_of(column("book_id", &BookTag::book_id, primary_key, foreign_key("books.id")),
                column("tag_id", &BookTag::tag_id, primary_key, foreign_key("tags.id")));
};

namespace {

// Prints one step and the statements the session sent for it.
class Steps {
public:
  explicit Steps(const retort::Session& session) : session_(session) {}
  void print(const std::string& step, const std::string& what) {
    const auto now = session_.statements_executed();
    std::cout << step << ": " << what << " [" << now - last_ << " statements]\n";
    last_ = now;
  }

private:
  const retort::Session& session_;
  std::uint64_t last_ = 0;
};

std::string titles(const Author& author) {
  std::string out;
  for (const auto& book : author.books)
    out += (out.empty() ? "" : ", ") + book->title;
  return out;
}

std::string labels(const Book& book) {
  std::string out;
  for (const auto& tag : book.tags)
    out += (out.empty() ? "" : ", ") + tag->label;
  return out;
}

std::int64_t count_books(retort::Session& session) { return session.query<Book>().count(); }

} // namespace

int main(int argc, char** argv) try {
  using retort::col;
  const std::string config = argc > 1 ? argv[1] : "config/retort.yaml";
  const std::string name = argc > 2 ? argv[2] : "memory";
  retort::Engine engine = retort::engine_from_config(config, name);
  // A model registers itself where the program uses it; the association table is only named by
  // secondary("book_tags"), so it is made known here before its table is created.
  (void)retort::mapper_of<BookTag>();
  retort::metadata().drop_all(engine);
  retort::metadata().create_all(engine);

  {
    retort::Session session(engine);
    Steps steps(session);
    // save-update cascade: objects appended to a collection of a session's object join it.
    auto le_guin = session.add(Author{.name = "Le Guin"});
    auto fiction = std::make_shared<Tag>(Tag{.label = "fiction"});
    auto classic = std::make_shared<Tag>(Tag{.label = "classic"});
    for (const char* title : {"The Dispossessed", "A Wizard of Earthsea", "The Lathe of Heaven"}) {
      auto book = std::make_shared<Book>(Book{.title = title});
      le_guin->books.push_back(book); // one-to-many; back_populates sets book->author
      book->tags.push_back(fiction);  // many-to-many; back_populates fills fiction->books
    }
    le_guin->books[0]->tags.push_back(classic);
    auto lem = session.add(Author{.name = "Lem"});
    auto solaris = session.add(Book{.title = "Solaris"});
    solaris->author = lem; // many-to-one; back_populates appends to lem->books
    solaris->tags.push_back(classic);
    session.commit();
    steps.print("add", "2 authors, 4 books, 2 tags and their links, in one commit");
    std::cout << "many-to-one: " << solaris->title << " by " << solaris->author->name << "\n";
  }

  {
    // lazy (the default): each collection loads on first access, one SELECT each.
    retort::Session session(engine);
    Steps steps(session);
    auto authors = session.query<Author>().order_by(col(&Author::name)).all();
    steps.print("lazy", "2 authors loaded");
    for (const auto& author : authors)
      std::cout << "lazy: " << author->name << " wrote " << titles(*author) << "\n";
    steps.print("lazy", "their books, loaded on access");
  }

  {
    // selectin: one more SELECT ... WHERE ... IN (...) per relationship for all objects of the
    // query (here the tags of every book through book_tags, and every book's author).
    retort::Session session(engine);
    Steps steps(session);
    auto books =
        session.query<Book>()
            .order_by(col(&Book::title))
            .options(retort::selectinload(&Book::tags), retort::selectinload(&Book::author))
            .all();
    steps.print("selectin", std::to_string(books.size()) + " books with their tags and authors");
    for (const auto& book : books)
      std::cout << "selectin: " << book->title << " by " << book->author->name << " ["
                << labels(*book) << "]\n";
    steps.print("selectin", "tags and authors read without further statements");
  }

  {
    // joined: the books come in the authors' own SELECT, by a LEFT OUTER JOIN.
    retort::Session session(engine);
    Steps steps(session);
    auto authors = session.query<Author>()
                       .order_by(col(&Author::name))
                       .options(retort::joinedload(&Author::books))
                       .all();
    std::size_t books = 0;
    for (const auto& author : authors)
      books += author->books.size();
    steps.print("joined", std::to_string(authors.size()) + " authors and " + std::to_string(books) +
                              " books in one SELECT");
  }

  {
    // raise: a relationship that was not loaded by the query refuses to load itself.
    retort::Session session(engine);
    auto book = session.query<Book>()
                    .filter_by(&Book::title, "Solaris")
                    .options(retort::raiseload(&Book::tags))
                    .one();
    try {
      (void)book->tags.size();
      std::cout << "raise: no error (unexpected)\n";
      return 1;
    } catch (const retort::InvalidStateError&) {
      std::cout << "raise: reading Solaris's tags without loading them first is refused\n";
    }
  }

  {
    retort::Session session(engine);
    Steps steps(session);
    auto le_guin = session.query<Author>().filter_by(&Author::name, "Le Guin").one();
    // delete-orphan: a book taken out of its author's collection is deleted.
    auto lathe = le_guin->books.items().back(); // ordered by title: The Lathe of Heaven
    le_guin->books.remove(lathe);
    session.commit();
    steps.print("delete-orphan", lathe->title + " removed from Le Guin's books and deleted; " +
                                     std::to_string(count_books(session)) + " books left");

    // many-to-many: taking a tag off a book deletes the link row, not the tag.
    auto solaris = session.query<Book>().filter_by(&Book::title, "Solaris").one();
    auto classic = session.query<Tag>().filter_by(&Tag::label, "classic").one();
    solaris->tags.remove(classic);
    session.commit();
    std::cout << "many-to-many: classic now tags " << classic->books.size() << " book(s)\n";

    // delete cascade: removing an author removes their books (and the books' links).
    session.remove(le_guin);
    session.commit();
    steps.print("delete", "Le Guin and her books deleted; " + std::to_string(count_books(session)) +
                              " book left");
  }
  return 0;
} catch (const retort::Error& error) {
  std::cerr << "relationships: " << error.what() << "\n";
  return 1;
}

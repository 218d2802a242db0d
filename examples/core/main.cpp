// The Core without the ORM: tables, INSERT, SELECT with joins, filters and aggregates, UPDATE,
// DELETE and a rollback, on the engine named in a YAML file.
//
//   core [config.yaml] [engine-name]      (defaults: config/retort.yaml, "memory")
#include <retort/retort.hpp>

#include <iostream>
#include <string>

int main(int argc, char** argv) try {
  using namespace retort;
  const std::string config = argc > 1 ? argv[1] : "config/retort.yaml";
  const std::string name = argc > 2 ? argv[2] : "memory";
  Engine engine = engine_from_config(config, name);

  MetaData metadata;
  Table authors(metadata, "authors", Column("id", Integer).primary_key(),
                Column("name", String(50)).not_null().unique());
  Table books(metadata, "books", Column("id", Integer).primary_key(),
              Column("title", String(100)).not_null(),
              Column("author_id", Integer).references(ForeignKey("authors.id")),
              Column("pages", Integer), Column("price", Float));
  drop_all(engine, metadata);
  create_all(engine, metadata);

  Connection conn = engine.connect();
  Transaction tx = conn.begin();
  conn.execute(
      insert(authors).columns({"id", "name"}).rows({1, "Le Guin", 2, "Lem", 3, "Calvino"}));
  conn.execute(insert(books)
                   .columns({"title", "author_id", "pages", "price"})
                   .rows({"The Dispossessed", 1, 387, 9.5,  "A Wizard of Earthsea", 1, 183, 7.0,
                          "Solaris",          2, 204, 8.25, "The Cyberiad",         2, 295, 11.0,
                          "Invisible Cities", 3, 165, 10.0}));
  tx.commit();
  std::cout << "insert: 3 authors, 5 books\n";

  // A join with a filter, ordered.
  auto short_books = select(books.c("title"), authors.c("name"))
                         .join(authors, authors.c("id") == books.c("author_id"))
                         .where(books.c("pages") < 250)
                         .order_by(books.c("pages"));
  for (const Row& row : conn.execute(short_books))
    std::cout << "join+filter: " << row.get<std::string>(0) << " by " << row.get<std::string>(1)
              << "\n";

  // Aggregates per author, with HAVING.
  auto per_author =
      select(authors.c("name"), count().label("books"), avg(books.c("price")).label("avg_price"))
          .join(books, books.c("author_id") == authors.c("id"))
          .group_by(authors.c("name"))
          .having(count() > 1)
          .order_by(authors.c("name"));
  for (const Row& row : conn.execute(per_author))
    std::cout << "aggregate: " << row.get<std::string>("name") << " wrote "
              << row.get<std::int64_t>("books") << " books, average price "
              << row.get<double>("avg_price") << "\n";

  // UPDATE and DELETE report the rows they touched.
  Transaction edit = conn.begin();
  auto raised = conn.execute(
      update(books).set("price", books.c("price") * 1.1).where(books.c("author_id") == 2));
  std::cout << "update: " << raised.rows_affected() << " prices raised\n";
  raised.close();
  auto removed = conn.execute(delete_(books).where(books.c("title").like("%Cities")));
  std::cout << "delete: " << removed.rows_affected() << " book removed\n";
  removed.close();
  edit.commit();

  // A transaction that is not committed rolls back when it goes out of scope.
  {
    Transaction doomed = conn.begin();
    conn.execute(delete_(books));
    std::cout << "rollback: inside the transaction "
              << conn.execute(select(count()).select_from(books)).scalar<std::int64_t>()
              << " books\n";
  }
  std::cout << "rollback: after it "
            << conn.execute(select(count()).select_from(books)).scalar<std::int64_t>()
            << " books\n";
  return 0;
} catch (const retort::Error& error) {
  std::cerr << "core: " << error.what() << "\n";
  return 1;
}

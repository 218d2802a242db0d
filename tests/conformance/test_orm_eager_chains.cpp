// Eager loading along chains of relationships (SQLAlchemy's selectinload(A.b).selectinload(B.c)),
// eager loads of objects the session already holds, and options a query cannot apply.
#include "models.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

namespace chains {

struct Employee;
struct Phone;
struct Company {
  std::int64_t id{};
  std::string name;
  retort::Collection<Employee> staff;
};
struct Employee {
  std::int64_t id{};
  std::string name;
  std::optional<std::int64_t> company_id;
  retort::Ref<Company> company;
  retort::Collection<Phone> phones;
};
struct Phone {
  std::int64_t id{};
  std::string number;
  std::optional<std::int64_t> employee_id;
  retort::Ref<Employee> employee;
};

} // namespace chains

template <> struct retort::Model<chains::Company> {
  static constexpr auto table = "chain_companies";
  static constexpr auto fields =
      fields_of(column("id", &chains::Company::id, primary_key),
                column("name", &chains::Company::name, String(40)),
                relationship("staff", &chains::Company::staff, back_populates("company"),
                             order_by(&chains::Employee::id)));
};

template <> struct retort::Model<chains::Employee> {
  static constexpr auto table = "chain_employees";
  static constexpr auto fields = fields_of(
      column("id", &chains::Employee::id, primary_key),
      column("name", &chains::Employee::name, String(40)),
      column("company_id", &chains::Employee::company_id, foreign_key("chain_companies.id")),
      relationship("company", &chains::Employee::company, back_populates("staff")),
      relationship("phones", &chains::Employee::phones, back_populates("employee"),
                   order_by(&chains::Phone::id)));
};

template <> struct retort::Model<chains::Phone> {
  static constexpr auto table = "chain_phones";
  static constexpr auto fields = fields_of(
      column("id", &chains::Phone::id, primary_key),
      column("number", &chains::Phone::number, String(40)),
      column("employee_id", &chains::Phone::employee_id, foreign_key("chain_employees.id")),
      relationship("employee", &chains::Phone::employee, back_populates("phones")));
};

using namespace retort;
using namespace chains;

namespace {

// 4 companies, 3 employees each, 2 phones each.
void make_companies() {
  Session session(conformance::engine());
  for (int c = 0; c < 4; ++c) {
    auto company = session.add(Company{.name = "c" + std::to_string(c)});
    for (int e = 0; e < 3; ++e) {
      auto employee = std::make_shared<Employee>(Employee{.name = "e" + std::to_string(e)});
      company->staff.push_back(employee);
      for (int p = 0; p < 2; ++p)
        employee->phones.push_back(std::make_shared<Phone>(Phone{.number = std::to_string(p)}));
    }
  }
  session.commit();
}

// Reads every company's staff and phones, checking the shape and the back references.
void check_companies(const std::vector<std::shared_ptr<Company>>& companies) {
  REQUIRE(companies.size() == 4);
  for (const auto& company : companies) {
    REQUIRE(company->staff.size() == 3);
    for (const auto& employee : company->staff) {
      CHECK(employee->company.get() == company);
      REQUIRE(employee->phones.size() == 2);
      CHECK(employee->phones[0]->number == "0");
      CHECK(employee->phones[1]->employee.get() == employee);
    }
  }
}

} // namespace

TEST_CASE("test_selectin_relations.py::ChainedChunkingTest::test_chained_selectinload (three "
          "statements for two levels)",
          "[orm][loading][statements]") {
  conformance::FreshSchema schema;
  make_companies();
  Session session(conformance::engine());
  conformance::StatementCounter counter;
  auto companies = session.query<Company>()
                       .options(selectinload(&Company::staff).selectinload(&Employee::phones))
                       .order_by(col(&Company::id))
                       .all();
  CHECK(counter.count() == 3); // companies, staff, phones: not one per employee
  check_companies(companies);
  CHECK(counter.count() == 3); // nothing lazy-loaded afterwards
}

TEST_CASE("chained joinedload: two levels in one statement", "[orm][loading][statements]") {
  conformance::FreshSchema schema;
  make_companies();
  Session session(conformance::engine());
  conformance::StatementCounter counter;
  auto companies = session.query<Company>()
                       .options(joinedload(&Company::staff).joinedload(&Employee::phones))
                       .order_by(col(&Company::id))
                       .all();
  CHECK(counter.count() == 1);
  check_companies(companies); // companies uniquified, collections not repeated
  CHECK(counter.count() == 1);
}

TEST_CASE("test_selectin_relations.py::TestExistingRowPopulation::test_o2m (joined then selectin)",
          "[orm][loading][statements]") {
  conformance::FreshSchema schema;
  make_companies();
  Session session(conformance::engine());
  conformance::StatementCounter counter;
  auto companies = session.query<Company>()
                       .options(joinedload(&Company::staff).selectinload(&Employee::phones))
                       .order_by(col(&Company::id))
                       .all();
  CHECK(counter.count() == 2);
  check_companies(companies);
  CHECK(counter.count() == 2);
}

TEST_CASE("chained options: selectin then joined, and from a many-to-one",
          "[orm][loading][statements]") {
  conformance::FreshSchema schema;
  make_companies();
  {
    Session session(conformance::engine());
    conformance::StatementCounter counter;
    auto companies = session.query<Company>()
                         .options(selectinload(&Company::staff).joinedload(&Employee::phones))
                         .order_by(col(&Company::id))
                         .all();
    check_companies(companies);
    CHECK(counter.count() == 3); // the joined step after a selectin step is a SELECT too
  }
  Session session(conformance::engine());
  conformance::StatementCounter counter;
  auto phones = session.query<Phone>()
                    .options(selectinload(&Phone::employee).selectinload(&Employee::company))
                    .all();
  REQUIRE(phones.size() == 24);
  for (const auto& phone : phones)
    CHECK(phone->employee->company->name.size() == 2);
  CHECK(counter.count() == 3);
}

TEST_CASE(
    "test_selectin_relations.py::LoadOnExistingTest::test_load_two_levels_collection_to_collection",
    "[orm][loading]") {
  conformance::FreshSchema schema;
  make_companies();
  Session session(conformance::engine());
  auto first = session.query<Company>()
                   .options(selectinload(&Company::staff))
                   .order_by(col(&Company::id))
                   .first();
  REQUIRE(first);
  auto employee = first->staff[0];
  CHECK_FALSE(employee->phones.loaded());
  session.query<Company>()
      .options(selectinload(&Company::staff).selectinload(&Employee::phones))
      .order_by(col(&Company::id))
      .first();
  CHECK(employee->phones.loaded());
  CHECK(employee->phones.size() == 2);
}

TEST_CASE("a loader option the query cannot apply is an error", "[orm][loading][errors]") {
  conformance::FreshSchema schema;
  make_companies();
  Session session(conformance::engine());
  // Not an entity of the query.
  CHECK_THROWS_AS(session.query<Company>().options(selectinload(&Employee::phones)).all(),
                  ArgumentError);
  // Nothing loads the staff, so nothing could load their phones.
  CHECK_THROWS_AS(session.query<Company>()
                      .options(lazyload(&Company::staff).selectinload(&Employee::phones))
                      .all(),
                  ArgumentError);
  CHECK_THROWS_AS(session.query<Company>()
                      .options(raiseload(&Company::staff).selectinload(&Employee::phones))
                      .all(),
                  ArgumentError);
}

TEST_CASE("test_selectin_relations.py::EagerTest::test_many_to_one on objects the session holds "
          "(expired by commit)",
          "[orm][loading][statements]") {
  conformance::FreshSchema schema;
  Session session(conformance::engine());
  auto ann = session.add(models::User{.name = "ann"});
  auto bob = session.add(models::User{.name = "bob"});
  ann->addresses.push_back(std::make_shared<models::Address>(models::Address{.email = "a@x"}));
  bob->addresses.push_back(std::make_shared<models::Address>(models::Address{.email = "b@x"}));
  session.commit(); // everything expired, still in the session
  auto addresses = session.query<models::Address>()
                       .options(selectinload(&models::Address::user))
                       .order_by(col(&models::Address::id))
                       .all();
  REQUIRE(addresses.size() == 2);
  conformance::StatementCounter counter;
  CHECK(addresses[0]->user.loaded());
  CHECK(addresses[0]->user.get() == ann);
  CHECK(addresses[1]->user.get() == bob);
  CHECK(counter.count() == 0);
}

TEST_CASE("yield_per applies the query's chained loader options to every chunk",
          "[orm][loading][stream][statements]") {
  conformance::FreshSchema schema;
  make_companies();
  Session session(conformance::engine());
  conformance::StatementCounter counter;
  std::vector<std::size_t> sizes;
  session.query<Company>()
      .options(selectinload(&Company::staff).selectinload(&Employee::phones))
      .order_by(col(&Company::id))
      .yield_per(3, [&](std::vector<std::shared_ptr<Company>>& chunk) {
        sizes.push_back(chunk.size());
        const auto before = counter.count();
        for (const auto& company : chunk) {
          CHECK(company->staff.loaded());
          REQUIRE(company->staff.size() == 3);
          for (const auto& employee : company->staff) {
            CHECK(employee->company.get() == company);
            CHECK(employee->phones.loaded());
            CHECK(employee->phones.size() == 2);
          }
        }
        CHECK(counter.count() == before); // nothing left to load lazily
      });
  CHECK(sizes == std::vector<std::size_t>{3, 1});
  CHECK(counter.count() == 5); // companies, then staff and phones per chunk
  // The related objects are let go with their chunk: memory stays bounded.
  CHECK(session.identity_map_size() == 0);
}

TEST_CASE("yield_per applies a joined many-to-one and the selectin step after it",
          "[orm][loading][stream][statements]") {
  conformance::FreshSchema schema;
  make_companies();
  Session session(conformance::engine());
  conformance::StatementCounter counter;
  std::size_t phones = 0;
  session.query<Phone>()
      .options(joinedload(&Phone::employee).selectinload(&Employee::company))
      .order_by(col(&Phone::id))
      .yield_per(10, [&](std::vector<std::shared_ptr<Phone>>& chunk) {
        for (const auto& phone : chunk) {
          ++phones;
          REQUIRE(phone->employee.loaded());
          REQUIRE(phone->employee.get());
          CHECK(phone->employee->company.loaded());
          CHECK(phone->employee->company->name.size() == 2);
        }
      });
  CHECK(phones == 24);
  CHECK(counter.count() == 4); // one SELECT with the join, one for the companies per chunk
}

TEST_CASE("yield_per refuses a joined collection, which a chunk could split",
          "[orm][loading][stream][errors]") {
  conformance::FreshSchema schema;
  make_companies();
  Session session(conformance::engine());
  conformance::StatementCounter counter;
  auto query = session.query<Company>().options(joinedload(&Company::staff));
  CHECK_THROWS_AS(query.yield_per(2, [](std::vector<std::shared_ptr<Company>>&) {}), ArgumentError);
  auto chained =
      session.query<Phone>().options(joinedload(&Phone::employee).joinedload(&Employee::phones));
  CHECK_THROWS_AS(chained.yield_per(2, [](std::vector<std::shared_ptr<Phone>>&) {}), ArgumentError);
  CHECK(counter.count() == 0); // refused before any statement
}

namespace {

// Each employee's company with its whole staff, each member once and in order, and the staff's
// back references; `phones`: the staff's phones were loaded too.
void check_staff_of(const std::vector<std::shared_ptr<Employee>>& employees, bool phones) {
  for (const auto& employee : employees) {
    REQUIRE(employee->company.loaded());
    const auto company = employee->company.get();
    REQUIRE(company);
    REQUIRE(company->staff.loaded());
    REQUIRE(company->staff.size() == 3);
    CHECK(company->staff[0]->id < company->staff[1]->id);
    CHECK(company->staff[1]->id < company->staff[2]->id);
    CHECK(std::find(company->staff.begin(), company->staff.end(), employee) !=
          company->staff.end());
    for (const auto& member : company->staff) {
      CHECK(member->company.get() == company);
      if (!phones) continue;
      CHECK(member->phones.loaded());
      CHECK(member->phones.size() == 2);
    }
  }
}

std::vector<std::int64_t> ids_of(const std::vector<std::shared_ptr<Employee>>& employees) {
  std::vector<std::int64_t> ids;
  for (const auto& employee : employees)
    ids.push_back(employee->id);
  return ids;
}

} // namespace

TEST_CASE("test_eager_relations.py::EagerTest::test_limit, with the collection joined after a "
          "joined many-to-one: LIMIT counts the query's objects",
          "[orm][loading][statements]") {
  // SQLAlchemy wraps the limited query whenever a joined collection is anywhere in the chain;
  // the join of the collection must not multiply the rows LIMIT/OFFSET count.
  conformance::FreshSchema schema;
  make_companies();
  std::vector<std::int64_t> all_ids;
  {
    Session session(conformance::engine());
    all_ids = ids_of(session.query<Employee>().order_by(col(&Employee::id)).all());
  }
  REQUIRE(all_ids.size() == 12);
  Session session(conformance::engine());
  conformance::StatementCounter counter;
  auto employees = session.query<Employee>()
                       .options(joinedload(&Employee::company).joinedload(&Company::staff))
                       .order_by(col(&Employee::id))
                       .limit(4)
                       .all();
  REQUIRE(employees.size() == 4);
  CHECK(ids_of(employees) == std::vector<std::int64_t>(all_ids.begin(), all_ids.begin() + 4));
  // The first three share a company: its staff is complete, each member once.
  CHECK(employees[0]->company.get() == employees[2]->company.get());
  CHECK(employees[2]->company.get() != employees[3]->company.get());
  const auto loaded = counter.count();
  check_staff_of(employees, false);
  CHECK(counter.count() == loaded); // nothing lazy-loaded afterwards

  session.close(); // one connection on SQLite :memory:

  // OFFSET as well, in the other order.
  Session second(conformance::engine());
  auto page = second.query<Employee>()
                  .options(joinedload(&Employee::company).joinedload(&Company::staff))
                  .order_by(col(&Employee::id).desc())
                  .limit(5)
                  .offset(2)
                  .all();
  REQUIRE(page.size() == 5);
  CHECK(ids_of(page) == std::vector<std::int64_t>(all_ids.rbegin() + 2, all_ids.rbegin() + 7));
  check_staff_of(page, false);

  // Without ORDER BY: still as many employees as the limit, each once.
  second.close();
  Session third(conformance::engine());
  auto unordered = third.query<Employee>()
                       .options(joinedload(&Employee::company).joinedload(&Company::staff))
                       .limit(4)
                       .all();
  REQUIRE(unordered.size() == 4);
  auto ids = ids_of(unordered);
  std::sort(ids.begin(), ids.end());
  CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
  check_staff_of(unordered, false);
}

TEST_CASE("a joined collection one level further down a joined chain under LIMIT",
          "[orm][loading][statements]") {
  conformance::FreshSchema schema;
  make_companies();
  Session session(conformance::engine());
  // Many-to-one, many-to-one, then the collection.
  auto phones = session.query<Phone>()
                    .options(joinedload(&Phone::employee)
                                 .joinedload(&Employee::company)
                                 .joinedload(&Company::staff))
                    .order_by(col(&Phone::id))
                    .limit(5)
                    .offset(1)
                    .all();
  REQUIRE(phones.size() == 5);
  std::vector<std::shared_ptr<Employee>> employees;
  for (std::size_t i = 0; i < phones.size(); ++i) {
    if (i > 0) CHECK(phones[i - 1]->id < phones[i]->id);
    REQUIRE(phones[i]->employee.loaded());
    employees.push_back(phones[i]->employee.get());
  }
  check_staff_of(employees, false);

  session.close(); // one connection on SQLite :memory:

  // Many-to-one, the collection, then each member's collection.
  Session second(conformance::engine());
  auto staff = second.query<Employee>()
                   .options(joinedload(&Employee::company)
                                .joinedload(&Company::staff)
                                .joinedload(&Employee::phones))
                   .order_by(col(&Employee::id))
                   .limit(4)
                   .all();
  REQUIRE(staff.size() == 4);
  for (std::size_t i = 1; i < staff.size(); ++i)
    CHECK(staff[i - 1]->id < staff[i]->id);
  conformance::StatementCounter counter;
  check_staff_of(staff, true);
  CHECK(counter.count() == 0); // everything was loaded by the query
}

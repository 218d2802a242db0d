// Compile-time checks of the typed expression language. The build compiles this file twice:
// as is (it must compile: the control), and with -DRETORT_EXPECT_COMPILE_ERROR (it must not).
#include <retort/orm.hpp>

#include <optional>
#include <string>

struct Person {
  std::int64_t id{};
  std::string name;
  std::optional<int> age;
};

template <> struct retort::Model<Person> {
  static constexpr auto table = "people";
  static constexpr auto fields =
      fields_of(column("id", &Person::id, primary_key), column("name", &Person::name),
                column("age", &Person::age));
};

int main() {
  using retort::col;
  retort::Expr ok = col(&Person::age) < 30 && col(&Person::name) == "x" &&
                    col(&Person::age) == std::nullopt && col(&Person::id) + 1 > col(&Person::age);
  (void)ok;
  // Placeholders: typed ones are checked like values; an untyped one takes the other side's
  // type.
  retort::Expr params = col(&Person::age) > retort::bindparam<int>("min") &&
                        col(&Person::name) == retort::bindparam("name") &&
                        col(&Person::id) + retort::bindparam("step") > 3 &&
                        retort::bindparam<std::string>("n") == col(&Person::name);
  (void)params;
#if RETORT_EXPECT_COMPILE_ERROR == 1
  retort::Expr wrong = col(&Person::age) < "30"; // an integer column compared with text
  (void)wrong;
#elif RETORT_EXPECT_COMPILE_ERROR == 2
  retort::Expr wrong = col(&Person::name) > 5; // a text column compared with a number
  (void)wrong;
#elif RETORT_EXPECT_COMPILE_ERROR == 3
  retort::Expr wrong = col(&Person::name) + 1; // arithmetic on text
  (void)wrong;
#elif RETORT_EXPECT_COMPILE_ERROR == 4
  retort::Expr wrong = col(&Person::name) == retort::bindparam<int>("n"); // text with a number
  (void)wrong;
#elif RETORT_EXPECT_COMPILE_ERROR == 5
  retort::Expr wrong = col(&Person::age) + retort::bindparam<std::string>("n"); // number + text
  (void)wrong;
#endif
  return 0;
}

// Value: the kinds, and borrowed text (Value::borrowed), which must behave as text everywhere
// an owned string does.
#include <retort/core/error.hpp>
#include <retort/core/value.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <type_traits>

using namespace retort;

TEST_CASE("borrowed text is text that refers to the caller's characters", "[value]") {
  std::string source = "customer name 1";
  const Value v = Value::borrowed(source);
  CHECK(v.kind() == ValueKind::text);
  CHECK(v.is_borrowed());
  CHECK_FALSE(v.is_null());
  CHECK(v.as_text() == "customer name 1");
  CHECK(v.as_text().data() == source.data()); // no copy
  CHECK(v.to_display() == "'customer name 1'");
  // A copy borrows too, like a std::string_view.
  const Value copy = v;
  CHECK(copy.as_text().data() == source.data());
  // The caller's changes show through.
  source[0] = 'C';
  CHECK(v.as_text() == "Customer name 1");
  CHECK_THROWS_AS(v.as_int(), ArgumentError);
}

TEST_CASE("owned and borrowed text compare by their characters", "[value]") {
  const std::string text = "abc";
  CHECK(Value::borrowed(text) == Value(std::string("abc")));
  CHECK(Value(std::string("abc")) == Value::borrowed(text));
  CHECK_FALSE(Value::borrowed(text) == Value(std::string("abd")));
  CHECK_FALSE(Value::borrowed(text) == Value(3));
  CHECK(Value::borrowed(std::string_view{}) == Value(std::string()));
  CHECK_FALSE(Value::borrowed(std::string_view{}) == Value());
  CHECK_FALSE(Value(std::string("abc")).is_borrowed());
  CHECK(Value(1) == Value(1));
  CHECK_FALSE(Value(1) == Value(2.0));
}

TEST_CASE("visit() passes text as a std::string_view, owned or borrowed", "[value]") {
  const std::string text = "xyz";
  auto length = [](const auto& v) -> long {
    using T = std::decay_t<decltype(v)>;
    if constexpr (std::is_same_v<T, std::string_view>)
      return static_cast<long>(v.size());
    else
      return -1;
  };
  CHECK(Value(std::string("hello")).visit(length) == 5);
  CHECK(Value::borrowed(text).visit(length) == 3);
  CHECK(Value(7).visit(length) == -1);
  CHECK(Value().visit(length) == -1);
}

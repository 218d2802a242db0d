// How Retort maps the benchmark's Customer (common.hpp): shared by the Retort programs' files.
#pragma once

#include "common.hpp"

#include <retort/orm.hpp>

template <> struct retort::Model<bench::Customer> {
  static constexpr auto table = "customer";
  static constexpr auto fields =
      fields_of(column("id", &bench::Customer::id, primary_key),
                column("name", &bench::Customer::name, String(255)),
                column("description", &bench::Customer::description, String(255)),
                column("q", &bench::Customer::q), column("p", &bench::Customer::p));
};

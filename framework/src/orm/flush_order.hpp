// The order of a flush's classes: every table after the tables it references (SQLAlchemy's
// unitofwork dependency sort, at the level of classes). Internal to the ORM.
#pragma once

#include <retort/orm/detail/session_core.hpp>

#include <boost/container/small_vector.hpp>

namespace retort::detail {

/// A flush's classes: usually one or two, held inline.
using MapperList = boost::container::small_vector<const MapperBase*, 2>;

/// The classes of `entries`, each once.
MapperList classes_of(const ChangeTracker::EntryList& entries);

/// `involved` in foreign-key order: every table after the tables it references; ArgumentError
/// when their foreign keys form a cycle.
MapperList dependency_order(MapperList involved);

} // namespace retort::detail

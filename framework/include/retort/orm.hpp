// Everything an ORM user needs: models, sessions, queries, typed expressions, metadata().
#pragma once

#include <retort/core/error.hpp>
#include <retort/engine/connection.hpp>
#include <retort/engine/engine.hpp>
#include <retort/orm/expression.hpp>
#include <retort/orm/model.hpp>
#include <retort/orm/query.hpp>
#include <retort/orm/registry.hpp>
#include <retort/orm/relationship.hpp>
#include <retort/orm/session.hpp>

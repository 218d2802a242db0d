#include <retort/core/error.hpp>
#include <retort/orm/session.hpp>

#include <utility>

namespace retort {

Session::Session(Engine engine, SessionOptions options)
    : core_(std::make_unique<detail::SessionCore>(std::move(engine), options)) {}
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;
Session::~Session() = default;

detail::SessionCore::Entered Session::core() {
  if (!core_) throw InvalidStateError("the session was moved from");
  return detail::SessionCore::Entered(*core_);
}

void Session::flush() { core()->flush(); }

SessionSavepoint Session::begin_nested() {
  auto entered = core();
  detail::SessionCore& session = *entered;
  session.flush();
  session.connection(); // the savepoint goes inside the session's transaction
  detail::StatementPlan plan(
      session.savepoint_sql(detail::SessionCore::SavepointOp::begin, session.next_savepoint_id()));
  session.run(plan);
  return SessionSavepoint(session, session.savepoint_begun());
}

SessionSavepoint::SessionSavepoint(detail::SessionCore& core, std::uint32_t id)
    : core_(&core), alive_(core.lifetime()), id_(id) {}

SessionSavepoint::SessionSavepoint(SessionSavepoint&& other) noexcept
    : core_(std::exchange(other.core_, nullptr)), alive_(std::move(other.alive_)), id_(other.id_) {}

SessionSavepoint::~SessionSavepoint() {
  try {
    rollback();
  } catch (...) {
    // The ROLLBACK TO failed: the transaction's state is unknown, so all of it goes.
    if (detail::SessionCore* session = core()) {
      try {
        detail::SessionCore::Entered use(*session); // not while another thread is inside
        use->rollback();
      } catch (...) {
      }
    }
  }
}

detail::SessionCore* SessionSavepoint::core() const noexcept {
  return core_ != nullptr && !alive_.expired() ? core_ : nullptr;
}

bool SessionSavepoint::is_active() const noexcept {
  detail::SessionCore* session = core();
  return session != nullptr && session->savepoint_active(id_);
}

void SessionSavepoint::commit() {
  if (!is_active()) throw InvalidStateError("commit(): the savepoint is no longer active");
  detail::SessionCore::Entered use(*core());
  detail::SessionCore& session = *use;
  session.flush();
  detail::StatementPlan plan(session.savepoint_sql(detail::SessionCore::SavepointOp::release, id_));
  session.run(plan);
  session.savepoint_released(id_);
}

void SessionSavepoint::rollback() {
  if (!is_active()) return;
  detail::SessionCore::Entered use(*core());
  detail::SessionCore& session = *use;
  detail::StatementPlan plan(
      session.savepoint_sql(detail::SessionCore::SavepointOp::rollback, id_));
  session.run(plan);
  session.savepoint_rolled_back(id_);
}

void Session::commit() { core()->commit(); }
void Session::rollback() { core()->rollback(); }
void Session::close() { core()->close(); }
void Session::expire_all() { core()->expire_all(); }
Connection& Session::connection() { return core()->connection(); }
const Engine& Session::engine() const { return core_->engine(); }
std::size_t Session::identity_map_size() const noexcept { return core_->identity_map_size(); }
std::uint64_t Session::statements_executed() const noexcept { return core_->statements_executed(); }

SessionFactory::SessionFactory(Engine engine, SessionOptions options)
    : engine_(std::move(engine)), options_(options) {}

Session SessionFactory::operator()() const { return Session(engine_, options_); }

} // namespace retort

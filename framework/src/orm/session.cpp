#include <retort/core/error.hpp>
#include <retort/orm/session.hpp>

namespace retort {

Session::Session(Engine engine, SessionOptions options)
    : core_(std::make_unique<detail::SessionCore>(std::move(engine), options)) {}
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;
Session::~Session() = default;

detail::SessionCore& Session::core() {
  if (!core_) throw InvalidStateError("the session was moved from");
  return *core_;
}

void Session::flush() { core().flush(); }
void Session::commit() { core().commit(); }
void Session::rollback() { core().rollback(); }
void Session::close() { core().close(); }
void Session::expire_all() { core().expire_all(); }
Connection& Session::connection() { return core().connection(); }
const Engine& Session::engine() const { return core_->engine(); }
std::size_t Session::identity_map_size() const noexcept { return core_->identity_map_size(); }
std::uint64_t Session::statements_executed() const noexcept { return core_->statements_executed(); }

SessionFactory::SessionFactory(Engine engine, SessionOptions options)
    : engine_(std::move(engine)), options_(options) {}

Session SessionFactory::operator()() const { return Session(engine_, options_); }

} // namespace retort
